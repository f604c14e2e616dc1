"""JWTs for the app's own API: ES256, signed by a KMS asymmetric key (ECC_NIST_P256,
SIGN_VERIFY), so the private key never leaves KMS; and the JWKS that verifies them.

Pure helpers (the JWK of a KMS public key, DER → JOSE signatures, the claims) plus
``JwtSigner``, which holds the container's cache of public keys: a warm ``sign`` is one
KMS ``Sign`` call, a warm ``jwks`` none.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from figma_auth.errors import FigmaAuthError
from figma_auth.tokens import b64url, random_token

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

ALG = "ES256"

MAX_SIGNED_BYTES = 4096  # KMS Sign's limit for a RAW message
# DER SubjectPublicKeyInfo of an EC P-256 key up to the uncompressed point (04 || x || y).
_P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def jwk_of(spki_der: bytes) -> dict[str, str]:
    """The public JWK of a KMS ``GetPublicKey`` answer for an ECC_NIST_P256 key; its ``kid``
    is the RFC 7638 thumbprint, so it names the key material itself."""
    if len(spki_der) != 91 or not spki_der.startswith(_P256_SPKI_PREFIX) or spki_der[26] != 0x04:
        raise ValueError("not an uncompressed EC P-256 public key (the JWT key must be ECC_NIST_P256)")
    point = spki_der[27:]
    members = {"crv": "P-256", "kty": "EC", "x": b64url(point[:32]), "y": b64url(point[32:])}
    thumbprint = hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest()
    return {**members, "kid": b64url(thumbprint), "use": "sig", "alg": ALG}


def jose_signature(der: bytes) -> bytes:
    """An ECDSA signature as KMS returns it (DER ``SEQUENCE { r, s }``) in JWS form: r || s,
    32 bytes each (RFC 7518 §3.4)."""
    if len(der) < 8 or der[0] != 0x30:
        raise ValueError("not a DER ECDSA signature")
    at = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    parts = []
    for _ in range(2):
        if der[at] != 0x02:
            raise ValueError("not a DER ECDSA signature")
        length = der[at + 1]
        value = der[at + 2 : at + 2 + length].lstrip(b"\x00")
        if len(value) > 32:
            raise ValueError("signature integer longer than P-256 allows")
        parts.append(value.rjust(32, b"\x00"))
        at += 2 + length
    return parts[0] + parts[1]


def claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    session_id: str,
    now: datetime,
    expires_at: datetime,
    profile: Mapping[str, str | None],
) -> dict[str, Any]:
    """The JWT's claims; profile claims (name, email, picture) only when Figma gave them."""
    issued = int(now.timestamp())
    body: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "sid": session_id,
        "iat": issued,
        "nbf": issued,
        "exp": int(expires_at.timestamp()),
        "jti": random_token(16),
    }
    body.update({name: value for name, value in profile.items() if value})
    return body


def lifetime_end(now: datetime, ttl_seconds: int, session_expires_at: datetime) -> datetime:
    """A JWT never outlives the session it was made from."""
    return min(now + timedelta(seconds=ttl_seconds), session_expires_at)


class JwtSigner:
    """Signs with ``key_id``; serves it and ``also_serve`` (keys in a rotation overlap) as JWKS.

    Public keys are fetched once per container (``GetPublicKey``) and kept: a key's material
    never changes under its ARN, and a new key comes with a new deployment.
    """

    def __init__(self, *, kms: Callable[[], KMSClient], key_id: str, also_serve: tuple[str, ...] = ()) -> None:
        self._kms = kms  # the client, made when KMS is first called
        self.key_id = key_id
        self.also_serve = tuple(k for k in also_serve if k != key_id)
        self._jwks: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    @property
    def kms(self) -> KMSClient:
        return self._kms()

    def public_jwk(self, key_id: str) -> dict[str, str]:
        with self._lock:
            cached = self._jwks.get(key_id)
        if cached is not None:
            return cached
        answer = self.kms.get_public_key(KeyId=key_id)
        if answer.get("KeySpec") not in (None, "ECC_NIST_P256") or answer.get("KeyUsage") not in (None, "SIGN_VERIFY"):
            raise FigmaAuthError("The JWT key is not an ECC_NIST_P256 SIGN_VERIFY key; check JWT_KEY_ID.")
        jwk = jwk_of(answer["PublicKey"])
        with self._lock:
            self._jwks[key_id] = jwk
        return jwk

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [self.public_jwk(k) for k in (self.key_id, *self.also_serve)]}

    def sign(self, body: Mapping[str, Any]) -> str:
        header = {"alg": ALG, "typ": "JWT", "kid": self.public_jwk(self.key_id)["kid"]}
        signing_input = f"{_segment(header)}.{_segment(body)}".encode("ascii")
        if len(signing_input) > MAX_SIGNED_BYTES:
            raise FigmaAuthError("The JWT's claims are too long to sign.")
        answer = self.kms.sign(
            KeyId=self.key_id, Message=signing_input, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )
        return f"{signing_input.decode('ascii')}.{b64url(jose_signature(answer['Signature']))}"


def _segment(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())
