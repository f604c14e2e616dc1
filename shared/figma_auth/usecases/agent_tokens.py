"""``POST /auth/token`` for agents (public clients only): the ``authorization_code`` grant
(once, within 60 s, for the client, redirect URI, PKCE verifier and resource it was issued for)
and the ``refresh_token`` grant (rotating; a spent token presented again ends its family).

Each answer is an ES256 JWT for the resource (``aud``), naming the Figma user (``sub``), the
client and the scopes, valid JWT_TTL_SECONDS (at most an hour), and a new refresh token. The
family is a session of client ``agent``: the person sees it in ``GET /auth/sessions`` and ends
it there (or with logout-all, or a disconnect), which ends its refresh tokens."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from figma_auth.errors import InvalidGrant, InvalidScope, InvalidTarget, NotFound
from figma_auth.models.tokens import AgentCodeRequest, AgentRefreshRequest, AgentTokenResponse
from figma_auth.oauth import parse_scopes, pkce_challenge
from figma_auth.observability import metrics_count
from figma_auth.records import Session
from figma_auth.records.agents import AgentCode, AgentGrant, AgentRefresh
from figma_auth.tokens import constant_time_equal, hash_secret, random_token
from figma_auth.usecases.discovery import NO_JWTS

CODE_USED = "This code was already used; the tokens issued for it are revoked."
REFRESH_REUSED = "This refresh token was already used; every token of this grant is revoked. Ask the person again."


class AgentTokenStore(Protocol):
    def take_agent_code(self, code_hash: str) -> AgentCode | None: ...
    def agent_refresh(self, token_hash: str) -> AgentRefresh | None: ...
    def start_agent_family(self, family: Session, refresh: AgentRefresh) -> None: ...
    def rotate_agent_refresh(self, old: AgentRefresh, new: AgentRefresh, *, now: datetime) -> bool: ...
    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool: ...


class Signer(Protocol):
    def sign(self, body: Mapping[str, Any]) -> str: ...


class AgentTokens:
    def __init__(
        self,
        *,
        store: AgentTokenStore,
        signer: Signer | None,
        clock: Callable[[], datetime],
        ttl_seconds: int,
        session_ttl_days: int,
        ended: Callable[[str, str, str], None],  # EndUser.session_ended: the app hears of it
    ) -> None:
        self.store, self.signer, self.clock, self.ended = store, signer, clock, ended
        self.ttl, self.lifetime = ttl_seconds, timedelta(days=session_ttl_days)

    def exchange(self, request: AgentCodeRequest, *, issuer: str) -> AgentTokenResponse:
        """The code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 8707 §2.2)."""
        signer = self._signer()
        code = self.store.take_agent_code(hash_secret(request.code))
        now = self.clock()
        if code is None or code.expires_at <= now:
            raise InvalidGrant("The code is unknown or expired (codes work once, within 60 seconds).")
        grant = code.grant
        if code.used:  # RFC 6749 §4.1.2: a code used twice revokes what it gave
            self._end_family(grant, "code_reused")
            raise InvalidGrant(CODE_USED)
        if request.client_id != grant.client_id or request.redirect_uri != code.redirect_uri:
            raise InvalidGrant("The code was issued to another client or redirect_uri.")
        if not constant_time_equal(pkce_challenge(request.code_verifier), code.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge.")
        if request.resource is not None and request.resource != grant.resource:
            raise InvalidTarget("The code was issued for another resource.")
        family = Session(
            id=grant.family_id,
            user_id=grant.user_id,
            created_at=now,
            expires_at=now + self.lifetime,
            client="agent",
            client_name=grant.client_name,
        )
        refresh_token, refresh = self._new_refresh(grant, family.expires_at)
        self.store.start_agent_family(family, refresh)
        metrics_count("AgentGrantStarted")
        return self._answer(signer, grant, refresh_token, issuer=issuer, ends=family.expires_at)

    def refresh(self, request: AgentRefreshRequest, *, issuer: str) -> AgentTokenResponse:
        """The refresh grant (RFC 6749 §6), rotating (OAuth 2.1 §4.3.1)."""
        signer = self._signer()
        old = self.store.agent_refresh(hash_secret(request.refresh_token))
        now = self.clock()
        if old is None or old.expires_at <= now:
            raise InvalidGrant("The refresh token is unknown or expired.")
        grant = old.grant
        if old.used:
            self._end_family(grant, "refresh_reused")
            raise InvalidGrant(REFRESH_REUSED)
        if request.client_id is not None and request.client_id != grant.client_id:
            raise InvalidGrant("The refresh token was issued to another client.")
        if request.resource is not None and request.resource != grant.resource:
            raise InvalidTarget("The refresh token was issued for another resource.")
        if request.scope is not None and not set(parse_scopes(request.scope)) <= set(grant.scopes):
            raise InvalidScope("A refresh may not ask for scopes the person did not allow.")
        refresh_token, new = self._new_refresh(grant, old.expires_at)
        if not self.store.rotate_agent_refresh(old, new, now=now):
            # Spent at the same moment by someone else, or the family ended: either way, no more.
            self._end_family(grant, "refresh_reused")
            raise InvalidGrant(REFRESH_REUSED)
        return self._answer(signer, grant, refresh_token, issuer=issuer, ends=old.expires_at)

    def _new_refresh(self, grant: AgentGrant, expires_at: datetime) -> tuple[str, AgentRefresh]:
        token = random_token(32)
        return token, AgentRefresh(hash_secret(token), grant, expires_at)

    def _answer(
        self, signer: Signer, grant: AgentGrant, refresh_token: str, *, issuer: str, ends: datetime
    ) -> AgentTokenResponse:
        now = self.clock()
        expires_at = min(now + timedelta(seconds=self.ttl), ends)
        issued = int(now.timestamp())
        scope = " ".join(grant.scopes)
        body = {
            "iss": issuer,
            "aud": grant.resource,
            "sub": grant.user_id,
            "client_id": grant.client_id,
            "scope": scope,
            "sid": grant.family_id,
            "iat": issued,
            "nbf": issued,
            "exp": int(expires_at.timestamp()),
            "jti": random_token(16),
        }
        return AgentTokenResponse(
            access_token=signer.sign(body),
            token_type="Bearer",
            expires_in=max(0, int(expires_at.timestamp()) - issued),
            refresh_token=refresh_token,
            scope=scope,
        )

    def _end_family(self, grant: AgentGrant, reason: str) -> None:
        metrics_count("AgentGrantRevoked")
        if self.store.delete_session(grant.family_id, user_id=grant.user_id):
            self.ended(grant.user_id, grant.family_id, reason)

    def _signer(self) -> Signer:
        if self.signer is None:
            raise NotFound(NO_JWTS)
        return self.signer
