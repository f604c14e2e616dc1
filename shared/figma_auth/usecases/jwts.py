"""Short-lived ES256 JWTs for the app's own API (Appwrite: createJWT), signed in KMS, and the
keys and discovery document that verify them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from figma_auth.credentials import Credentials
from figma_auth.errors import NotFound
from figma_auth.models import Jwks, JwtResponse, OpenIdConfiguration
from figma_auth.records import Current
from figma_auth.signing import ALG, claims, lifetime_end
from figma_auth.times import iso

CLAIMS = ["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti", "name", "email", "picture"]


class Signer(Protocol):
    def sign(self, body: Mapping[str, Any]) -> str: ...
    def jwks(self) -> dict[str, Any]: ...


class AppJwts:
    """POST /auth/jwt, GET /.well-known/jwks.json and /.well-known/openid-configuration."""

    def __init__(
        self,
        *,
        signer: Signer | None,
        authenticate: Callable[[Credentials], Current],
        audience: str,
        ttl_seconds: int,
        clock: Callable[[], datetime],
    ) -> None:
        self.signer, self.authenticate, self.clock = signer, authenticate, clock
        self.audience, self.ttl_seconds = audience, ttl_seconds

    def create(self, creds: Credentials, *, issuer: str) -> JwtResponse:
        """A JWT naming the session's user, never outliving the session (1 KMS Sign)."""
        signer = self._signer()
        current = self.authenticate(creds)
        now = self.clock()
        ends = lifetime_end(now, self.ttl_seconds, current.session.expires_at)
        profile = current.connection.profile
        body = claims(
            issuer=issuer,
            audience=self.audience,
            subject=current.session.user_id,
            session_id=current.session.id,
            now=now,
            expires_at=ends,
            profile={"name": profile.handle, "email": profile.email, "picture": profile.img_url},
        )
        return JwtResponse(jwt=signer.sign(body), expires_at=iso(ends))

    def jwks(self) -> Jwks:
        return Jwks.model_validate(self._signer().jwks())

    def openid_configuration(self, issuer: str) -> OpenIdConfiguration:
        self._signer()
        return OpenIdConfiguration(
            issuer=issuer,
            jwks_uri=f"{issuer}/.well-known/jwks.json",
            id_token_signing_alg_values_supported=[ALG],
            subject_types_supported=["public"],
            response_types_supported=["id_token"],
            claims_supported=CLAIMS,
        )

    def _signer(self) -> Signer:
        if self.signer is None:
            raise NotFound("JWTs are not enabled on this deployment: set JWT_KEY_ID to a KMS ECC_NIST_P256 key.")
        return self.signer
