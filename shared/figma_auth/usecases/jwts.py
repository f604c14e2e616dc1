"""Short-lived ES256 JWTs for the app's own API (Appwrite: createJWT), signed in KMS, and the
keys that verify them (the discovery document is ``usecases.discovery``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from figma_auth.credentials import Credentials
from figma_auth.errors import NotFound
from figma_auth.models.jwts import Jwks, JwtResponse
from figma_auth.records import Current
from figma_auth.signing import claims, lifetime_end
from figma_auth.times import iso
from figma_auth.usecases.discovery import NO_JWTS


class Signer(Protocol):
    def sign(self, body: Mapping[str, Any]) -> str: ...
    def jwks(self) -> dict[str, Any]: ...


class AppJwts:
    """POST /auth/jwt and GET /.well-known/jwks.json."""

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

    def _signer(self) -> Signer:
        if self.signer is None:
            raise NotFound(NO_JWTS)
        return self.signer
