"""The JWT helpers: KMS's DER signatures and public keys in JOSE form, checked against an
independent implementation (the ``cryptography`` package and PyJWT)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from figma_auth.signing import claims, jose_signature, jwk_of, lifetime_end

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def spki(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_a_token_signed_as_kms_signs_verifies_with_pyjwt_against_our_jwk() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = jwk_of(spki(key))
    header = pyjwt.utils.base64url_encode(b'{"alg":"ES256","typ":"JWT","kid":"' + jwk["kid"].encode() + b'"}')
    body = pyjwt.utils.base64url_encode(b'{"sub":"1","aud":"a"}')
    signing_input = header + b"." + body
    der = key.sign(signing_input, ec.ECDSA(hashes.SHA256()))  # what KMS Sign returns: DER

    token = (signing_input + b"." + pyjwt.utils.base64url_encode(jose_signature(der))).decode()

    assert pyjwt.decode(token, pyjwt.PyJWK(jwk).key, algorithms=["ES256"], audience="a")["sub"] == "1"
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and jwk["alg"] == "ES256" and jwk["use"] == "sig"


@given(st.integers(1, 2**256 - 1), st.integers(1, 2**256 - 1))
def test_any_r_and_s_come_out_as_32_bytes_each(r: int, s: int) -> None:
    raw = jose_signature(encode_dss_signature(r, s))

    assert len(raw) == 64
    assert (int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")) == (r, s)


def test_the_kid_names_the_key_material() -> None:
    one, two = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    assert jwk_of(spki(one))["kid"] == jwk_of(spki(one))["kid"] != jwk_of(spki(two))["kid"]


@pytest.mark.parametrize(
    "other",
    [
        lambda: ec.generate_private_key(ec.SECP384R1()),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
        lambda: ec.generate_private_key(ec.SECP256K1()),
    ],
)
def test_a_key_that_is_not_p256_is_refused(other: Any) -> None:
    with pytest.raises(ValueError, match="ECC_NIST_P256"):
        jwk_of(spki(other()))


def test_a_malformed_signature_is_refused() -> None:
    for bad in (b"", b"\x31\x06\x02\x01\x01\x02\x01\x01", b"\x30\x06\x03\x01\x01\x02\x01\x01"):
        with pytest.raises((ValueError, IndexError)):
            jose_signature(bad)


def test_claims_leave_out_what_figma_did_not_give_and_never_outlive_the_session() -> None:
    ends = lifetime_end(NOW, 900, NOW + timedelta(days=30))
    body = claims(
        issuer="https://auth.example.com",
        audience="figma-auth",
        subject="42",
        session_id="sid",
        now=NOW,
        expires_at=ends,
        profile={"name": "Ada", "email": None, "picture": ""},
    )

    assert body["exp"] - body["iat"] == 900 and body["nbf"] == body["iat"]
    assert "email" not in body and "picture" not in body and body["name"] == "Ada"
    assert lifetime_end(NOW, 900, NOW + timedelta(seconds=30)) == NOW + timedelta(seconds=30)
