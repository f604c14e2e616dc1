"""The use cases: start login, complete login, read/refresh the session, list, log out,
redeem a token-mode ticket. No Lambda events and no HTTP here: ``web.py`` adapts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from figma_auth import oauth
from figma_auth.errors import (
    AccessDenied,
    FigmaAuthError,
    FigmaError,
    FigmaUnavailable,
    GrantUnreadable,
    InvalidGrant,
    InvalidRequest,
    InvalidState,
    ReauthRequired,
    Unauthorized,
)
from figma_auth.figma import FigmaClient, ProxyResponse, forward, is_invalid_token
from figma_auth.models import (
    AuthorizeQuery,
    CallbackQuery,
    LogoutRequest,
    ProviderInfo,
    SessionInfo,
    SessionList,
    SessionSummary,
    SessionView,
    TokenRequest,
    UserInfo,
)
from figma_auth.observability import logger, metrics_count
from figma_auth.settings import Settings
from figma_auth.store import ACTIVE, LoginTransaction, Profile, Session, Store, Ticket
from figma_auth.vault import Vault, grant_context, open_with_secret, seal_with_secret

TRANSACTION_TTL = timedelta(minutes=10)
TICKET_TTL = timedelta(seconds=60)
TICKET_PURPOSE = b"ticket"  # what a ticket seals: the session token it trades for
LEASE_MS = 20_000  # longer than Figma's worst refresh (2 attempts x 8 s)
WAIT_FOR_PEER_SECONDS = 10.0  # how long a request waits for another's refresh
JUST_REFRESHED = timedelta(seconds=5)  # a refresh reuses a grant another refresh produced this recently
SESSION_COOKIE = "__Host-figma_auth_session"
TX_COOKIE_PREFIX = "__Host-figma_auth_tx_"
TOKEN_LENGTH = 43  # random_token(32)


@dataclass(frozen=True)
class Credentials:
    """What the request presented: a session token from a cookie or a Bearer header."""

    token: str | None
    via: str | None  # "cookie" | "bearer" | None


@dataclass(frozen=True)
class LoginStart:
    redirect_url: str
    tx_cookie_name: str
    tx_cookie_value: str
    tx_cookie_max_age: int


@dataclass(frozen=True)
class LoginDone:
    redirect_url: str
    session_token: str | None  # cookie mode: the value of the session cookie to set


def tx_cookie_name(state: str) -> str:
    """One transaction cookie per login, so two tabs signing in at once don't collide."""
    return TX_COOKIE_PREFIX + oauth.hash_secret(state)[:16]


class AuthService:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        vault: Vault,
        figma: FigmaClient,
        clock: Callable[[], datetime] = oauth.utcnow,
        publish: Callable[[str, dict[str, Any]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.vault = vault
        self.figma = figma
        self.clock = clock
        self.publish = publish or (lambda detail_type, detail: None)

    # -- authorize ---------------------------------------------------------------------

    def start_login(self, params: AuthorizeQuery, *, callback_url: str) -> LoginStart:
        allowed = self.settings.allowed_origins
        success = oauth.validate_return_url(params.success, allowed)
        failure = oauth.validate_return_url(params.failure, allowed)
        scopes = tuple(oauth.parse_scopes(params.scopes)) if params.scopes is not None else self.settings.default_scopes
        mode = params.mode
        app_challenge = params.code_challenge if mode == "token" else None
        if mode == "token" and app_challenge is None:
            raise InvalidRequest("token mode needs code_challenge: the S256 challenge (43 chars) of your verifier")
        state = oauth.random_token(32)
        browser_secret = oauth.random_token(32)
        pkce = self.settings.figma_pkce
        tx = LoginTransaction(
            state_hash=oauth.hash_secret(state),
            binding=oauth.derive(browser_secret, "binding:" + state),
            success_url=success,
            failure_url=failure,
            redirect_uri=callback_url,
            scopes=scopes,
            mode=mode,
            pkce=pkce,
            app_challenge=app_challenge,
            expires_at=self.clock() + TRANSACTION_TTL,
        )
        self.store.put_transaction(tx)
        verifier = oauth.derive(browser_secret, "pkce:" + state)  # never stored: the cookie holds its seed
        url = oauth.authorize_url(
            auth_url=self.settings.figma_auth_url,
            client_id=self.settings.figma_client_id,
            redirect_uri=callback_url,
            scopes=scopes,
            state=state,
            code_challenge=oauth.pkce_challenge(verifier) if pkce else None,
        )
        return LoginStart(url, tx_cookie_name(state), browser_secret, int(TRANSACTION_TTL.total_seconds()))

    # -- callback ----------------------------------------------------------------------

    def take_transaction(self, query: Mapping[str, str], cookies: Mapping[str, str]) -> tuple[LoginTransaction, str]:
        """The login this callback completes, if it is trustworthy; else InvalidState (400)."""
        try:
            state = CallbackQuery.model_validate(dict(query)).state
        except ValidationError:
            raise InvalidState() from None
        browser_secret = cookies.get(tx_cookie_name(state))
        if not browser_secret or len(browser_secret) > 128:
            raise InvalidState()  # not this browser's login: Figma is never called
        tx = self.store.take_transaction(
            oauth.hash_secret(state), oauth.derive(browser_secret, "binding:" + state), self.clock()
        )
        if tx is None:
            raise InvalidState()
        return tx, oauth.derive(browser_secret, "pkce:" + state)

    def complete_login(self, tx: LoginTransaction, verifier: str, query: Mapping[str, str]) -> LoginDone:
        """Exchange the code, read the user, store session + sealed grant in one write."""
        error = query.get("error")
        if error is not None:
            raise AccessDenied() if error == "access_denied" else FigmaError("Figma returned an error")
        code = query.get("code", "")
        if not 0 < len(code) <= 512 or not code.isascii() or not code.isprintable():
            raise FigmaError("Figma returned no usable code")
        now = self.clock()
        grant = self.figma.exchange_code(
            code=code,
            redirect_uri=tx.redirect_uri,
            code_verifier=verifier if tx.pkce else None,
            scopes=tx.scopes,
            now=now,
        )
        user = self.figma.me(grant.access_token)
        token = oauth.random_token(32)
        session_id = oauth.hash_secret(token)
        box = self.vault.seal(_grant_plaintext(grant), grant_context(session_id, user.id))
        token_mode = tx.mode == "token"
        session = Session(
            id=session_id,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(days=self.settings.session_ttl_days),
            profile=Profile(user.handle, user.email, user.img_url),
            scopes=grant.scopes,
            grant_box=box,
            grant_expires_at=grant.expires_at,
            activated=not token_mode,
        )
        ticket_value = None
        ticket = None
        if token_mode:
            if tx.app_challenge is None:  # start_login always stores one in token mode
                raise FigmaAuthError()
            ticket_value = oauth.random_token(24)
            ticket = Ticket(
                ticket_hash=oauth.hash_secret(ticket_value),
                session_id=session_id,
                app_challenge=tx.app_challenge,
                sealed_token=seal_with_secret(ticket_value, token.encode(), purpose=TICKET_PURPOSE),
                expires_at=now + TICKET_TTL,
            )
        self.store.create_session(session, now=now, ticket=ticket)
        if ticket_value is not None:
            return LoginDone(oauth.append_query(tx.success_url, {"ticket": ticket_value}), None)
        return LoginDone(tx.success_url, token)

    # -- token mode --------------------------------------------------------------------

    def redeem_ticket(self, request: TokenRequest) -> tuple[str, SessionView]:
        """Trade a ticket + the SPA's verifier for a session token (once, within 60 s)."""
        ticket, verifier = request.ticket, request.code_verifier
        record = self.store.redeem_ticket(oauth.hash_secret(ticket))  # burns it whatever follows
        if record is None or record.expires_at <= self.clock():
            raise InvalidGrant()
        if not oauth.constant_time_equal(oauth.pkce_challenge(verifier), record.app_challenge):
            self.store.delete_session(record.session_id)
            raise InvalidGrant()
        opened = open_with_secret(ticket, record.sealed_token, purpose=TICKET_PURPOSE)
        token = opened.decode() if opened is not None else None
        if token is None or not self.store.activate_session(record.session_id):
            raise InvalidGrant()
        return token, self.session_view(Credentials(token, "bearer"))

    # -- sessions ----------------------------------------------------------------------

    def authenticate(self, creds: Credentials) -> Session:
        token = creds.token
        if not token or not oauth.is_url_safe_token(token, min_len=TOKEN_LENGTH, max_len=TOKEN_LENGTH):
            raise Unauthorized()
        session = self.store.get_session(oauth.hash_secret(token))
        if session is None or not session.activated:
            raise Unauthorized()
        if session.expires_at <= self.clock():
            self.store.delete_session(session.id)
            raise Unauthorized("Your session expired. Sign in with Figma again.")
        return session

    def session_view(self, creds: Credentials) -> SessionView:
        """GET /auth/session: refreshes transparently when the token is within the leeway."""
        session = self.authenticate(creds)
        grant = None
        if session.grant_status == ACTIVE:
            try:
                session, grant = self.fresh_grant(session, self.settings.refresh_leeway_seconds)
            except ReauthRequired:
                session = replace(session, grant_status="reauth_required", grant_box=None)
        return self.view(session, grant)

    def refresh(self, creds: Credentials, min_validity: int | None) -> SessionView:
        """POST /auth/refresh: a fresh token unless the current one outlives ``min_validity``."""
        session = self.authenticate(creds)
        if session.grant_status != ACTIVE:
            raise ReauthRequired()
        # Without min_validity, "refresh" means: always get a new access token.
        session, grant = self.fresh_grant(session, min_validity, force=min_validity is None)
        return self.view(session, grant)

    def list_sessions(self, creds: Credentials) -> SessionList:
        current = self.authenticate(creds)
        now = self.clock()
        rows = [
            SessionSummary(
                id=sid, created_at=oauth.iso(created), expires_at=oauth.iso(expires), current=sid == current.id
            )
            for sid, created, expires, activated in self.store.list_user_sessions(current.user_id)
            if activated and expires > now
        ]
        return SessionList(sessions=rows)

    def logout(self, creds: Credentials, request: LogoutRequest) -> bool:
        """End the current session, one of the user's sessions, or all. Returns True when the
        caller's own session is gone (so its cookie must be cleared)."""
        everything, target = request.all, request.session_id
        try:
            session = self.authenticate(creds)
        except Unauthorized:
            return True  # idempotent: nothing to end
        if everything:
            self.store.delete_user_sessions(session.user_id)
            self.store.delete_session(session.id)
            return True
        if target is not None and target != session.id:
            self.store.delete_session(target, user_id=session.user_id)
            return False
        self.store.delete_session(session.id)
        return True

    # -- single-flight refresh ---------------------------------------------------------

    def fresh_grant(
        self, session: Session, min_validity: int | None, *, force: bool = False
    ) -> tuple[Session, oauth.FigmaGrant]:
        """The session's grant, valid for at least ``min_validity`` seconds.

        One refresh per grant version across threads and Lambda instances: the winner of a
        conditional lease calls Figma; the others wait and re-read.
        """
        owner = oauth.random_token(12)
        deadline = time.monotonic() + WAIT_FOR_PEER_SECONDS
        start_version = session.grant_version
        pause = 0.05
        while True:
            if session.grant_status != ACTIVE or session.grant_box is None or session.grant_expires_at is None:
                raise ReauthRequired()
            now = self.clock()
            moved_on = session.grant_version > start_version
            young = session.grant_obtained_at is not None and now - session.grant_obtained_at < JUST_REFRESHED
            validity = 0 if min_validity is None else min_validity
            # A grant a refresh produced seconds ago is as fresh as Figma makes them: reuse it,
            # so a burst of refreshes (tabs, retries, late arrivals) costs one Figma call.
            fresh = young or (not force and session.grant_expires_at - now > timedelta(seconds=validity))
            if moved_on or fresh:
                return session, self.open_grant(session)
            now_ms = int(time.time() * 1000)
            if session.lease_until_ms < now_ms and self.store.acquire_lease(
                session.id, version=session.grant_version, owner=owner, now_ms=now_ms, lease_ms=LEASE_MS
            ):
                done = self._refresh_as_owner(session, owner)
                if done is not None:
                    return done
            if time.monotonic() > deadline:
                raise FigmaUnavailable("Another refresh of this grant is still running; try again.", retry_after=2)
            time.sleep(pause * random.uniform(0.5, 1.5))  # nosec B311 - jitter, not crypto
            pause = min(pause * 2, 0.4)
            latest = self.store.get_session(session.id)
            if latest is None:
                raise Unauthorized()
            session = latest

    def _refresh_as_owner(self, session: Session, owner: str) -> tuple[Session, oauth.FigmaGrant] | None:
        grant = self.open_grant(session)
        try:
            new = self.figma.refresh(grant, now=self.clock)
        except ReauthRequired:
            self.grant_died(session, owner=owner)
            raise
        except BaseException:
            self.store.release_lease(session.id, owner=owner)  # the stored grant stays as it was
            raise
        return self.store_refreshed(session, new, owner=owner)

    def store_refreshed(
        self, session: Session, new: oauth.FigmaGrant, *, owner: str
    ) -> tuple[Session, oauth.FigmaGrant] | None:
        """Seal and save a grant Figma just renewed; None if our lease lapsed or the session ended."""
        if session.grant_box is None:
            raise ReauthRequired()
        box = self.vault.reseal(session.grant_box, _grant_plaintext(new), grant_context(session.id, session.user_id))
        obtained = self.clock()
        if not self.store.save_refreshed_grant(
            session, owner=owner, box=box, expires_at=new.expires_at, obtained_at=obtained
        ):
            return None
        updated = replace(
            session,
            grant_box=box,
            grant_expires_at=new.expires_at,
            grant_version=session.grant_version + 1,
            grant_obtained_at=obtained,
            lease_until_ms=0,
        )
        logger.info("figma grant refreshed", extra={"grant_version": updated.grant_version})
        return updated, new

    def grant_died(self, session: Session, *, owner: str, reason: str = "figma_rejected_refresh") -> bool:
        """Figma rejected the grant: mark it, and tell the app once (EventBridge) so it can ask
        the user to sign in again. True when this call was the one that marked it."""
        if not self.store.mark_reauth_required(session.id, owner=owner):
            return False
        metrics_count("GrantNeedsReauth")
        self.publish("GrantNeedsReauth", {"user_id": session.user_id, "session_id": session.id, "reason": reason})
        return True

    # -- the Figma proxy ----------------------------------------------------------------

    def proxy(
        self, creds: Credentials, *, method: str, path: str, query: str, body: bytes | None, content_type: str | None
    ) -> ProxyResponse:
        """Call FIGMA_API_URL/{path} with the user's token (refreshed first when expiring;
        refreshed once more and retried once if Figma calls it invalid)."""
        target = self.settings.figma_api_url + oauth.proxy_path(path) + (f"?{query}" if query else "")
        session = self.authenticate(creds)
        if session.grant_status != ACTIVE:
            raise ReauthRequired()
        session, grant = self.fresh_grant(session, self.settings.refresh_leeway_seconds)
        answer = forward(
            self.figma.http, url=target, method=method, token=grant.access_token, body=body, content_type=content_type
        )
        if is_invalid_token(answer):
            metrics_count("ProxyRefreshOnInvalidToken")
            stale = replace(session, grant_obtained_at=None)  # force a real refresh, not the dedupe window
            session, grant = self.fresh_grant(stale, None, force=True)
            answer = forward(
                self.figma.http,
                url=target,
                method=method,
                token=grant.access_token,
                body=body,
                content_type=content_type,
            )
            if is_invalid_token(answer):
                raise ReauthRequired()
        if answer.status >= 500:
            raise FigmaUnavailable(f"Figma answered HTTP {answer.status}", status=502)
        metrics_count(f"ProxyCalls{answer.status // 100}xx")
        return answer

    def open_grant(self, session: Session) -> oauth.FigmaGrant:
        if session.grant_box is None or session.grant_expires_at is None:
            raise ReauthRequired()
        plain = self.vault.open(session.grant_box, grant_context(session.id, session.user_id))
        try:
            return oauth.FigmaGrant(
                plain["access_token"], plain["refresh_token"], session.grant_expires_at, session.scopes
            )
        except KeyError as exc:
            raise GrantUnreadable() from exc

    def view(self, session: Session, grant: oauth.FigmaGrant | None) -> SessionView:
        active = session.grant_status == ACTIVE and grant is not None
        exposed = (
            {"access_token": grant.access_token} if grant and active and self.settings.expose_provider_token else {}
        )
        provider = ProviderInfo(
            name="figma",
            **exposed,
            expires_at=oauth.iso(session.grant_expires_at) if active and session.grant_expires_at else None,
            scopes=list(session.scopes),
            status="active" if active else "reauth_required",
        )
        return SessionView(
            session=SessionInfo(
                id=session.id, created_at=oauth.iso(session.created_at), expires_at=oauth.iso(session.expires_at)
            ),
            user=UserInfo(
                id=session.user_id,
                handle=session.profile.handle,
                email=session.profile.email,
                img_url=session.profile.img_url,
            ),
            provider=provider,
        )


def _grant_plaintext(grant: oauth.FigmaGrant) -> dict[str, str]:
    return {"access_token": grant.access_token, "refresh_token": grant.refresh_token}


__all__ = ["AuthService", "Credentials", "FigmaAuthError", "SESSION_COOKIE"]
