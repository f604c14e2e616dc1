"""The JWT signer's pure parts against an independent implementation (the cryptography
package's own DER, key and ECDSA code) and its KMS conversation against a KMS stand-in that
signs with a real P-256 key: DER → JOSE at every length, the JWK and its RFC 7638 thumbprint,
which keys it accepts, what it caches, and tokens a stock JWT library verifies."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from figma_auth.errors import FigmaAuthError
from figma_auth.signing import MAX_SIGNED_BYTES, JwtSigner, claims, jose_signature, jwk_of, lifetime_end

KEY = ec.generate_private_key(ec.SECP256R1())
SPKI = KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# -- DER → JOSE ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "s"),
    [
        (1, 1),
        (2**255 + 7, 2**255 + 9),  # high bit set: DER pads with 0x00 (33 bytes)
        (2**248 - 1, 5),  # 31 bytes: JOSE left-pads to 32
        (0x7F, 2**256 - 2**224),
        (2**256 - 1, 2**256 - 1),
    ],
)
def test_a_der_signature_becomes_r_and_s_in_32_bytes_each(r: int, s: int) -> None:
    assert jose_signature(encode_dss_signature(r, s)) == r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_a_long_form_der_length_is_read() -> None:
    short = encode_dss_signature(2**255 + 7, 2**255 + 9)
    long_form = bytes([0x30, 0x81, short[1]]) + short[2:]
    assert jose_signature(long_form) == jose_signature(short)


@pytest.mark.parametrize(
    ("der", "message"),
    [
        (b"", "not a DER ECDSA signature"),
        (bytes.fromhex("3006020101020101")[:7], "not a DER ECDSA signature"),  # 7 bytes
        (bytes.fromhex("3106020101020101"), "not a DER ECDSA signature"),  # not a SEQUENCE
        (bytes.fromhex("3006030101020101"), "not a DER ECDSA signature"),  # r not an INTEGER
        (bytes.fromhex("3006020101030101"), "not a DER ECDSA signature"),  # s not an INTEGER
        (bytes([0x30, 0x25, 0x02, 0x21]) + b"\x01" * 33 + bytes.fromhex("020101"), "longer than P-256 allows"),
        (bytes([0x30, 0x25, 0x02, 0x01, 0x01, 0x02, 0x21]) + b"\x01" * 33, "longer than P-256 allows"),
    ],
)
def test_what_is_no_p256_der_signature_is_refused_in_words(der: bytes, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        jose_signature(der)
    assert str(refused.value) in ("not a DER ECDSA signature", "signature integer longer than P-256 allows")
    assert message in str(refused.value)


def test_the_shortest_der_signature_passes() -> None:
    assert jose_signature(bytes.fromhex("3006020101020102")) == (1).to_bytes(32, "big") + (2).to_bytes(32, "big")


# -- the JWK -----------------------------------------------------------------------------------------


def test_the_jwk_is_the_keys_point_and_its_kid_the_rfc_7638_thumbprint() -> None:
    numbers = KEY.public_key().public_numbers()
    jwk = jwk_of(SPKI)
    x, y = b64(numbers.x.to_bytes(32, "big")), b64(numbers.y.to_bytes(32, "big"))
    canonical = f'{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}'  # RFC 7638 §3: members in order, no spaces
    assert jwk == {
        "crv": "P-256",
        "kty": "EC",
        "x": x,
        "y": y,
        "kid": b64(hashlib.sha256(canonical.encode()).digest()),
        "use": "sig",
        "alg": "ES256",
    }
    assert jwt.PyJWK(jwk).key.public_numbers() == numbers  # a stock library reads the same key


@pytest.mark.parametrize(
    "spki",
    [
        SPKI[:-1],
        SPKI + b"\x00",
        b"\x00" + SPKI[1:],  # another key type
        SPKI[:26] + b"\x02" + SPKI[27:],  # a compressed point
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
    ],
    ids=["truncated", "one-byte-more", "another-key-type", "compressed-point", "p384"],  # the same in every worker
)
def test_anything_but_an_uncompressed_p256_key_is_refused(spki: bytes) -> None:
    with pytest.raises(ValueError) as refused:
        jwk_of(spki)
    assert str(refused.value) == "not an uncompressed EC P-256 public key (the JWT key must be ECC_NIST_P256)"


# -- the signer over a KMS stand-in --------------------------------------------------------------------


@dataclass
class Kms:
    """KMS's GetPublicKey and Sign for one real key (Sign returns DER, as KMS does)."""

    spec: str | None = "ECC_NIST_P256"
    usage: str | None = "SIGN_VERIFY"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get_public_key(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("GetPublicKey", kwargs))
        answer: dict[str, Any] = {"PublicKey": SPKI, "KeyId": kwargs["KeyId"]}
        if self.spec is not None:
            answer["KeySpec"] = self.spec
        if self.usage is not None:
            answer["KeyUsage"] = self.usage
        return answer

    def sign(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(("Sign", kwargs))
        return {"Signature": KEY.sign(kwargs["Message"], ec.ECDSA(hashes.SHA256()))}


def signer(kms: Kms, also: tuple[str, ...] = ()) -> JwtSigner:
    return JwtSigner(kms=lambda: kms, key_id="arn:key/a", also_serve=also)  # type: ignore[arg-type,return-value]


def test_a_token_is_signed_by_kms_and_verifies_with_a_stock_library_against_our_jwks() -> None:
    kms = Kms()
    body = claims(
        issuer="https://api.example.com",
        audience="my-api",
        subject="1143",
        session_id="sid-1",
        now=NOW,
        expires_at=NOW + timedelta(minutes=15),
        profile={"name": "Ada", "email": None, "picture": ""},
    )
    token = signer(kms).sign(body)
    jwks = signer(kms).jwks()
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": jwk_of(SPKI)["kid"]}
    key = jwt.PyJWK(jwks["keys"][0]).key
    verified = jwt.decode(
        token,
        key,
        algorithms=["ES256"],
        audience="my-api",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert verified == body
    (sign,) = [kwargs for name, kwargs in kms.calls if name == "Sign"]
    assert sign["KeyId"] == "arn:key/a" and sign["MessageType"] == "RAW" and sign["SigningAlgorithm"] == "ECDSA_SHA_256"
    assert sign["Message"] == token.rsplit(".", 1)[0].encode()


def test_the_claims_are_exactly_these_with_profile_claims_only_when_given() -> None:
    body = claims(
        issuer="i",
        audience="a",
        subject="s",
        session_id="sid",
        now=NOW,
        expires_at=NOW + timedelta(minutes=15),
        profile={"name": "Ada", "email": None, "picture": ""},
    )
    jti = body.pop("jti")
    stamp = int(NOW.timestamp())
    assert body == {
        "iss": "i",
        "aud": "a",
        "sub": "s",
        "sid": "sid",
        "iat": stamp,
        "nbf": stamp,
        "exp": stamp + 900,
        "name": "Ada",
    }
    assert (
        len(jti) == 22
        and jti
        != claims(issuer="i", audience="a", subject="s", session_id="sid", now=NOW, expires_at=NOW, profile={})["jti"]
    )


def test_a_jwt_never_outlives_its_session() -> None:
    assert lifetime_end(NOW, 900, NOW + timedelta(hours=1)) == NOW + timedelta(seconds=900)
    assert lifetime_end(NOW, 900, NOW + timedelta(seconds=60)) == NOW + timedelta(seconds=60)


def test_claims_too_long_to_sign_are_refused_before_kms() -> None:
    kms = Kms()
    s = signer(kms)
    s.public_jwk("arn:key/a")
    header_len = len(s.sign({}).rsplit(".", 2)[0])  # the header's segment
    kms.calls.clear()
    room = MAX_SIGNED_BYTES - header_len - 1  # the dot
    fits = {"x": "a" * 10}
    while len(b64(json.dumps(fits, separators=(",", ":")).encode())) < room:
        fits["x"] += "a"
    while len(b64(json.dumps(fits, separators=(",", ":")).encode())) > room:
        fits["x"] = fits["x"][:-1]
    assert len(s.sign(fits).rsplit(".", 1)[0]) <= MAX_SIGNED_BYTES
    too_long = {"x": fits["x"] + "aaaa"}
    with pytest.raises(FigmaAuthError) as refused:
        s.sign(too_long)
    assert refused.value.message == "The JWT's claims are too long to sign."
    assert [name for name, _ in kms.calls] == ["Sign"]  # only the one that fitted


@pytest.mark.parametrize(
    ("spec", "usage"), [("RSA_2048", "SIGN_VERIFY"), ("ECC_NIST_P256", "ENCRYPT_DECRYPT"), ("ECC_NIST_P384", None)]
)
def test_a_key_of_another_kind_is_refused_by_name(spec: str | None, usage: str | None) -> None:
    with pytest.raises(FigmaAuthError) as refused:
        signer(Kms(spec=spec, usage=usage)).jwks()
    assert refused.value.message == "The JWT key is not an ECC_NIST_P256 SIGN_VERIFY key; check JWT_KEY_ID."


def test_a_key_kms_does_not_describe_is_read_from_its_material() -> None:
    assert signer(Kms(spec=None, usage=None)).jwks()["keys"][0]["kid"] == jwk_of(SPKI)["kid"]


def test_public_keys_are_fetched_once_per_container_and_the_overlap_is_served_too() -> None:
    kms = Kms()
    s = signer(kms, also=("arn:key/a", "arn:key/b"))
    first, second = s.jwks(), s.jwks()
    assert first == second and len(first["keys"]) == 2  # the signing key once, then the overlap
    assert [kwargs["KeyId"] for name, kwargs in kms.calls] == ["arn:key/a", "arn:key/b"]
    s.sign({})
    assert [name for name, _ in kms.calls] == ["GetPublicKey", "GetPublicKey", "Sign"]
