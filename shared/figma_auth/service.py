"""The use cases: start and complete a sign-in, redeem a token-mode ticket, read, refresh and
list sessions, log out, call Figma through the proxy. No Lambda events and no HTTP here:
``web.py`` adapts. Grants are renewed by the one refresh engine (``engine.py``).

The Figma grant belongs to the user's **connection** (one per Figma user id), not to a
session: Figma keeps one active token per user per app, so every session of a user reads the
connection's current token, a sign-in replaces it, and one refresh serves them all.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from figma_auth import oauth
from figma_auth.credentials import SESSION_COOKIE, Credentials, LoginDone, LoginStart, tx_cookie_name
from figma_auth.engine import Fresh, RefreshEngine, grant_plaintext
from figma_auth.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    FigmaAuthError,
    FigmaError,
    FigmaUnavailable,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidState,
    NotFound,
    ReauthRequired,
    SlowDown,
    TemporarilyUnavailable,
    TooManyAttempts,
    Unauthorized,
)
from figma_auth.figma import FigmaClient, ProxyResponse, TokenRejected, forward, is_invalid_token
from figma_auth.models import (
    AuthorizeQuery,
    CallbackQuery,
    ConnectionView,
    DeviceRequest,
    DeviceStart,
    DeviceTokenRequest,
    Jwks,
    JwtResponse,
    LogoutRequest,
    OpenIdConfiguration,
    ProviderInfo,
    SessionInfo,
    SessionList,
    SessionSummary,
    SessionView,
    TokenRequest,
    UserInfo,
)
from figma_auth.observability import metrics_count
from figma_auth.settings import Settings
from figma_auth.signing import ALG, JwtSigner, claims, lifetime_end
from figma_auth.store import (
    ACTIVE,
    Connection,
    DeviceApproval,
    DeviceCode,
    LoginTransaction,
    Profile,
    Session,
    Store,
    Ticket,
)
from figma_auth.vault import Vault, grant_context, open_with_secret, seal_with_secret

TRANSACTION_TTL = timedelta(minutes=10)
TICKET_TTL = timedelta(seconds=60)
TICKET_PURPOSE = b"ticket"  # what a ticket seals: the session token it trades for
SECRET_LENGTH = 43  # random_token(32)
MAX_USER_ID = 128
FORCED_REFRESH_SPACING = timedelta(seconds=30)  # the proxy's refresh after an "invalid token" answer
MAX_CARRIED_URLS = 3000  # the return URLs in the transaction cookie (2 × 1,024 characters, base64url)
MAX_CODE_VIEWS = 5  # a user code's verify page can be opened this often (then it is burned)
MAX_WRONG_CODES = 10  # wrong user codes one client address may type per window
GUESS_WINDOW_SECONDS = 900


@dataclass(frozen=True)
class NewSession:
    """What a sign-in creates: a session (in token mode with the ticket that will carry it), or
    for a device sign-in the approval its poll will turn into a session."""

    session: Session | None
    token: str | None
    ticket: Ticket | None = None
    ticket_value: str | None = None
    device: DeviceApproval | None = None

    def done(self, tx: LoginTransaction) -> LoginDone:
        if self.ticket_value is not None:
            return LoginDone(oauth.append_fragment(tx.success_url, {"ticket": self.ticket_value}), None)
        return LoginDone(tx.success_url, self.token)


@dataclass(frozen=True)
class Current:
    """An authenticated request: its session and the user's connection."""

    session: Session
    connection: Connection


def new_session_token(user_id: str) -> str:
    """``<user id, base64url>.<43 random characters>``: the user id lets one read fetch the
    session and its connection together; the session is found by the hash of the whole token,
    so a token with another user's id in it finds nothing."""
    return f"{oauth.b64url(user_id.encode())}.{oauth.random_token(32)}"


def user_of_token(token: str) -> str | None:
    prefix, dot, secret = token.partition(".")
    if not dot or not oauth.is_url_safe_token(secret, min_len=SECRET_LENGTH, max_len=SECRET_LENGTH):
        return None
    if not oauth.is_url_safe_token(prefix, min_len=1, max_len=4 * MAX_USER_ID // 3 + 3):
        return None
    try:
        user_id = base64.urlsafe_b64decode(prefix + "=" * (-len(prefix) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return user_id if 0 < len(user_id) <= MAX_USER_ID and user_id.isprintable() else None


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
        engine: RefreshEngine | None = None,
        signer: JwtSigner | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.vault = vault
        self.figma = figma
        self.clock = clock
        self.publish = publish or (lambda detail_type, detail: None)
        self.engine = engine or RefreshEngine(store=store, vault=vault, figma=figma, clock=clock, publish=self.publish)
        self.signer = signer

    # -- authorize ---------------------------------------------------------------------

    def start_login(self, params: AuthorizeQuery, *, callback_url: str, creds: Credentials | None = None) -> LoginStart:
        allowed, exact = self.settings.allowed_origins, self.settings.allowed_redirect_urls
        success = oauth.validate_return_url(params.success, allowed, exact)
        failure = oauth.validate_return_url(params.failure, allowed, exact)
        scopes = self._requested_scopes(params.scopes)
        scopes = self._with_connection_scopes(scopes, creds)
        mode = params.mode
        app_challenge = params.code_challenge if mode == "token" else None
        if mode == "token" and app_challenge is None:
            raise InvalidRequest("token mode needs code_challenge: the S256 challenge (43 chars) of your verifier")
        return self._begin_login(
            success=success,
            failure=failure,
            scopes=scopes,
            mode=mode,
            app_challenge=app_challenge,
            callback_url=callback_url,
        )

    def _begin_login(
        self,
        *,
        success: str,
        failure: str,
        scopes: tuple[str, ...],
        mode: str,
        app_challenge: str | None,
        callback_url: str,
        device_hash: str | None = None,
    ) -> LoginStart:
        """Store the login transaction; the redirect to Figma and the browser's transaction cookie.

        The return URLs (up to 2 KB) travel in that cookie and the item keeps only their hash:
        an anonymous authorize stores well under 1 KB however long the URLs are."""
        state = oauth.random_token(32)
        browser_secret = oauth.random_token(32)
        carried = oauth.b64url(json.dumps([success, failure], separators=(",", ":")).encode())
        pkce = self.settings.figma_pkce
        tx = LoginTransaction(
            state_hash=oauth.hash_secret(state),
            binding=oauth.derive(browser_secret, "binding:" + state),
            success_url=success,
            failure_url=failure,
            urls_hash=oauth.hash_secret(carried),
            redirect_uri=callback_url,
            scopes=scopes,
            mode=mode,
            pkce=pkce,
            app_challenge=app_challenge,
            expires_at=self.clock() + TRANSACTION_TTL,
            device_hash=device_hash,
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
        cookie = f"{browser_secret}.{carried}"
        return LoginStart(url, tx_cookie_name(state), cookie, int(TRANSACTION_TTL.total_seconds()))

    def _requested_scopes(self, raw: str | None) -> tuple[str, ...]:
        """The scopes asked for (DEFAULT_SCOPES when none): Figma's, and ALLOWED_SCOPES' only."""
        if raw is None:
            return self.settings.default_scopes
        scopes = tuple(oauth.parse_scopes(raw))
        refused = [s for s in scopes if s not in self.settings.scopes_allowed]
        if refused:
            raise InvalidScope(f"{refused[0]!r} is not in this app's ALLOWED_SCOPES")
        return scopes

    def _with_connection_scopes(self, requested: tuple[str, ...], creds: Credentials | None) -> tuple[str, ...]:
        """A signed-in user's new sign-in asks for what their connection holds too: one
        sign-in never narrows what another session or the backend relies on."""
        if creds is None or not creds.token:
            return requested
        try:
            held = self.authenticate(creds).connection.scopes
        except Unauthorized:
            return requested
        return tuple(dict.fromkeys((*held, *requested)))

    # -- callback ----------------------------------------------------------------------

    def take_transaction(self, query: Mapping[str, str], cookies: Mapping[str, str]) -> tuple[LoginTransaction, str]:
        """The login this callback completes, if it is trustworthy; else InvalidState (400)."""
        try:
            state = CallbackQuery.model_validate(dict(query)).state
        except ValidationError:
            raise InvalidState() from None
        browser_secret, _, carried = (cookies.get(tx_cookie_name(state)) or "").partition(".")
        if not browser_secret or len(browser_secret) > 128 or not 0 < len(carried) <= MAX_CARRIED_URLS:
            raise InvalidState()  # not this browser's login: Figma is never called
        tx = self.store.take_transaction(
            oauth.hash_secret(state), oauth.derive(browser_secret, "binding:" + state), self.clock()
        )
        if tx is None or not oauth.constant_time_equal(oauth.hash_secret(carried), tx.urls_hash):
            raise InvalidState()
        try:
            success, failure = json.loads(base64.urlsafe_b64decode(carried + "=" * (-len(carried) % 4)))
        except (ValueError, TypeError):
            raise InvalidState() from None
        tx = replace(tx, success_url=str(success), failure_url=str(failure))
        return tx, oauth.derive(browser_secret, "pkce:" + state)

    def complete_login(self, tx: LoginTransaction, verifier: str, query: Mapping[str, str]) -> LoginDone:
        """Exchange the code, read the user, then in one write: the session, and the new grant
        on the user's connection (unless a sign-in that finished later put a newer one)."""
        error = query.get("error")
        if error is not None:
            if error == "access_denied" and tx.device_hash is not None:
                self.store.deny_device(tx.device_hash)  # the plugin's poll answers access_denied
            raise AccessDenied() if error == "access_denied" else FigmaError("Figma returned an error")
        code = query.get("code", "")
        if not 0 < len(code) <= 512 or not code.isascii() or not code.isprintable():
            raise FigmaError("Figma returned no usable code")
        now = self.clock()
        exchange = self.figma.exchange_code(
            code=code,
            redirect_uri=tx.redirect_uri,
            code_verifier=verifier if tx.pkce else None,
            scopes=tx.scopes,
            now=now,
        )
        grant = exchange.grant
        exchanged_ms = int(self.clock().timestamp() * 1000)  # Figma issued the token before this
        try:
            user = self.figma.me(grant.access_token)
        except TokenRejected:
            if exchange.user_id_hint is None:
                raise
            # Another sign-in of this user was exchanged meanwhile, and Figma keeps one token per
            # user: that sign-in's grant is the one to keep. This session joins it.
            return self._join_newer_sign_in(tx, exchange.user_id_hint, now)
        if len(user.id) > MAX_USER_ID:
            raise FigmaError("Figma's user id is longer than expected")
        new = self._new_session(tx, user.id, now)
        existed = self.store.connection_touched(user.id) is not None
        connection = Connection(
            user_id=user.id,
            profile=Profile(user.handle, user.email, user.img_url),
            scopes=grant.scopes,
            grant_box=self.vault.seal(grant_plaintext(grant), grant_context(user.id)),
            grant_expires_at=grant.expires_at,
            signed_in_ms=exchanged_ms,
        )
        self.store.sign_in(
            new.session, connection, ticket=new.ticket, device=new.device, offline=self.settings.offline_access
        )
        if not existed:
            self.publish("ConnectionCreated", {"user_id": user.id, "scopes": list(grant.scopes)})
        return new.done(tx)

    def _join_newer_sign_in(self, tx: LoginTransaction, user_id: str, now: datetime) -> LoginDone:
        new = self._new_session(tx, user_id, now)
        joined = self.store.join_connection(
            user_id, new.session, ticket=new.ticket, device=new.device, offline=self.settings.offline_access
        )
        if not joined:
            # No connection to join: not a race we can resolve (or the other sign-in is still
            # writing). Figma refused the token it had just issued.
            raise FigmaError("Figma refused the token it had just issued; sign in again")
        metrics_count("SignInJoinedNewerGrant")
        return new.done(tx)

    def _new_session(self, tx: LoginTransaction, user_id: str, now: datetime) -> NewSession:
        lifetime = timedelta(days=self.settings.session_ttl_days)
        if tx.device_hash is not None:
            return NewSession(None, None, device=DeviceApproval(tx.device_hash, user_id, now, now + lifetime))
        token = new_session_token(user_id)
        token_mode = tx.mode == "token"
        session = Session(
            id=oauth.hash_secret(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(days=self.settings.session_ttl_days),
            client="token" if token_mode else "web",
            activated=not token_mode,
        )
        if not token_mode:
            return NewSession(session, token, None, None)
        if tx.app_challenge is None:  # start_login always stores one in token mode
            raise FigmaAuthError()
        ticket_value = oauth.random_token(24)
        ticket = Ticket(
            ticket_hash=oauth.hash_secret(ticket_value),
            session_id=session.id,
            app_challenge=tx.app_challenge,
            sealed_token=seal_with_secret(ticket_value, token.encode(), purpose=TICKET_PURPOSE),
            expires_at=now + TICKET_TTL,
        )
        return NewSession(session, token, ticket, ticket_value)

    # -- device sign-in (RFC 8628): plugins, the VS Code extension, CLIs --------------------

    def start_device(self, request: DeviceRequest, *, verify_url: str) -> DeviceStart:
        """POST /auth/device: a device code for the plugin (kept secret), a user code for the person."""
        scopes = self._requested_scopes(request.scopes)
        ttl, interval = self.settings.device_code_ttl_seconds, self.settings.device_poll_interval_seconds
        device_code = oauth.random_token(32)
        expires_at = self.clock() + timedelta(seconds=ttl)
        for _ in range(5):  # a user code already in use (one in 2^34 per live code): draw another
            user_code = oauth.new_user_code()
            device = DeviceCode(
                device_hash=oauth.hash_secret(device_code),
                user_code_hash=oauth.hash_secret(user_code),
                scopes=scopes,
                expires_at=expires_at,
                interval_ms=interval * 1000,
            )
            if self.store.put_device(device):
                break
        else:
            raise TemporarilyUnavailable("Could not draw a free user code; try again.")
        shown = oauth.show_user_code(user_code)
        return DeviceStart(
            device_code=device_code,
            user_code=shown,
            verification_uri=verify_url,
            verification_uri_complete=oauth.append_query(verify_url, {"user_code": shown}),
            expires_in=ttl,
            interval=interval,
        )

    def device_to_confirm(self, typed: str, *, client: str) -> tuple[str, DeviceCode]:
        """The verify page: the pending device sign-in a typed code names (shown XXXX-XXXX). Wrong
        codes count against the client's address; a code opened too often is burned."""
        now = self.clock()
        window = str(int(now.timestamp()) // GUESS_WINDOW_SECONDS)
        if self.store.wrong_codes(client, window) >= MAX_WRONG_CODES:
            raise TooManyAttempts()
        code = oauth.parse_user_code(typed)
        device, burned = (
            self.store.device_by_user_code(oauth.hash_secret(code), max_views=MAX_CODE_VIEWS) if code else (None, False)
        )
        if burned:
            raise ExpiredToken("This code was opened too many times. Start signing in again from your app.")
        if code is None or device is None:
            until = datetime.fromtimestamp((int(window) + 1) * GUESS_WINDOW_SECONDS, now.tzinfo)
            self.store.count_wrong_code(client, window, until=until)
            raise NotFound("That code is not right. Check it against the one your app shows and type it again.")
        if device.expires_at <= now or device.status != "pending":
            raise ExpiredToken("This code expired or was already used. Start signing in again from your app.")
        return oauth.show_user_code(code), device

    def confirm_device(
        self, typed: str, confirmation: str, browser_secret: str | None, *, callback_url: str, verify_url: str
    ) -> LoginStart:
        """The person confirmed the code on our page (the page's value, bound to this browser's
        cookie): start the Figma sign-in that will approve the device."""
        code = oauth.parse_user_code(typed)
        expected = oauth.derive(browser_secret, "device:" + code) if code and browser_secret else None
        if code is None or expected is None or not oauth.constant_time_equal(expected, confirmation):
            raise InvalidState("Confirm the code on this page first (it was opened in another browser or expired).")
        found, burned = self.store.device_by_user_code(oauth.hash_secret(code), max_views=MAX_CODE_VIEWS + 1)
        if burned or found is None or found.expires_at <= self.clock() or found.status != "pending":
            raise ExpiredToken("This code expired or was already used. Start signing in again from your app.")
        return self._begin_login(
            success=oauth.append_query(verify_url, {"result": "done"}),
            failure=verify_url,
            scopes=found.scopes,
            mode="device",
            app_challenge=None,
            callback_url=callback_url,
            device_hash=found.device_hash,
        )

    def poll_device(self, request: DeviceTokenRequest) -> tuple[str, SessionView]:
        """POST /auth/token, device grant: pending, slow_down, denied, expired, or (once) a session."""
        now = self.clock()
        now_ms = int(now.timestamp() * 1000)
        device_hash = oauth.hash_secret(request.device_code)
        device, early = self.store.poll_device(device_hash, now_ms=now_ms)
        if device is None:
            raise InvalidGrant("Unknown device_code (or it expired long ago). Start signing in again.")
        if device.expires_at <= now:
            raise ExpiredToken()
        if device.status == "delivered":
            raise InvalidGrant("This device code was already used: it gives one session, once.")
        if early:
            interval_ms = device.interval_ms + 5000
            self.store.slow_down(device_hash, now_ms=now_ms, interval_ms=interval_ms)
            raise SlowDown(f"Polling too fast: wait {interval_ms // 1000} s between polls.")
        if device.status == "denied":
            raise AccessDenied("The person declined at Figma.")
        if device.status != "approved" or device.user_id is None:
            raise AuthorizationPending()
        token = new_session_token(device.user_id)
        session = Session(
            id=oauth.hash_secret(token),
            user_id=device.user_id,
            created_at=now,
            expires_at=now + timedelta(days=self.settings.session_ttl_days),
            client="device",
            activated=True,
        )
        if not self.store.deliver_device(device, session, offline=self.settings.offline_access):
            raise InvalidGrant("This device code was already used: it gives one session, once.")
        return token, self.session_view(Credentials(token, "bearer"))

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

    def authenticate(self, creds: Credentials) -> Current:
        """The session the token names and its user's connection (one DynamoDB read)."""
        token = creds.token
        user_id = user_of_token(token) if token else None
        if token is None or user_id is None:
            raise Unauthorized()
        session, connection = self.store.session_with_connection(oauth.hash_secret(token), user_id)
        if session is None or not session.activated or session.user_id != user_id:
            raise Unauthorized()
        if session.expires_at <= self.clock():
            self.store.delete_session(session.id)
            raise Unauthorized("Your session expired. Sign in with Figma again.")
        if connection is None:
            raise Unauthorized("This Figma connection was disconnected. Sign in with Figma again.")
        return Current(session, connection)

    def session_view(self, creds: Credentials) -> SessionView:
        """GET /auth/session: refreshes transparently when the token is within the leeway."""
        current = self.authenticate(creds)
        fresh = self._fresh_within_leeway(current.connection)
        return self.view(current.session, fresh.connection if fresh else current.connection, fresh)

    def _fresh_within_leeway(self, conn: Connection) -> Fresh | None:
        """The connection's grant, refreshed first when it expires within the leeway; None when
        the grant is dead (the view then says reauth_required)."""
        if conn.status != ACTIVE:
            return None
        try:
            return self.engine.fresh(conn, self.settings.refresh_leeway_seconds)
        except ReauthRequired:
            return None

    def refresh(self, creds: Credentials, min_validity: int | None) -> SessionView:
        """POST /auth/refresh: a fresh token unless the current one outlives ``min_validity``."""
        current = self.authenticate(creds)
        if current.connection.status != ACTIVE:
            raise ReauthRequired()
        # Without min_validity, "refresh" means: always get a new access token.
        fresh = self.engine.fresh(current.connection, min_validity, force=min_validity is None)
        return self.view(current.session, fresh.connection, fresh)

    def list_sessions(self, creds: Credentials) -> SessionList:
        current = self.authenticate(creds).session
        now = self.clock()
        rows = [
            SessionSummary(
                id=s.id,
                created_at=oauth.iso(s.created_at),
                expires_at=oauth.iso(s.expires_at),
                current=s.id == current.id,
                client=s.client,
            )
            for s in sorted(self.store.user_sessions(current.user_id), key=lambda s: s.created_at)
            if s.activated and s.expires_at > now
        ]
        return SessionList(sessions=rows)

    def logout(self, creds: Credentials, request: LogoutRequest) -> bool:
        """End the current session, one of the user's sessions, or all (and with
        ``disconnect`` the connection too). Returns True when the caller's own session is
        gone (so its cookie must be cleared)."""
        if request.disconnect and not request.all:
            raise InvalidRequest('disconnect ends every session: send {"all": true, "disconnect": true}')
        try:
            current = self.authenticate(creds)
        except Unauthorized:
            return True  # idempotent: nothing to end
        session = current.session
        if request.all:
            self.end_user(session.user_id, disconnect=request.disconnect)
            return True
        if request.session_id is not None and request.session_id != session.id:
            self.store.delete_session(request.session_id, user_id=session.user_id)
            return False
        self.store.delete_session(session.id)
        self._forget_unused_connection(session.user_id)
        return True

    def end_user(self, user_id: str, *, disconnect: bool) -> None:
        """Every session of the user; the connection too when asked or when it is not kept
        for offline use. A partial failure raises TemporarilyUnavailable (retry finishes)."""
        # Only a logout needs the marker (a sign-in that joined meanwhile keeps the connection).
        touched = None if disconnect else self.store.connection_touched(user_id)
        self.store.delete_sessions([s.id for s in self.store.user_sessions(user_id)])
        if (disconnect or not self.settings.offline_access) and self.store.delete_connection(user_id, touched=touched):
            self._connection_deleted(user_id, "disconnect" if disconnect else "logout")

    def _forget_unused_connection(self, user_id: str) -> None:
        """After a session ended: the last one takes the connection with it (OFFLINE_ACCESS
        keeps it), unless a sign-in joined the connection meanwhile."""
        if self.settings.offline_access:
            return
        touched = self.store.connection_touched(user_id)
        now = self.clock()
        if (
            touched is not None
            and not any(s.activated and s.expires_at > now for s in self.store.user_sessions(user_id))
            and self.store.delete_connection(user_id, touched=touched)
        ):
            self._connection_deleted(user_id, "logout")

    def _connection_deleted(self, user_id: str, reason: str) -> None:
        metrics_count("ConnectionDeleted")
        self.publish("ConnectionDeleted", {"user_id": user_id, "reason": reason})

    # -- JWTs for the app's own API -------------------------------------------------------

    def create_jwt(self, creds: Credentials, *, issuer: str) -> JwtResponse:
        """POST /auth/jwt: a short-lived ES256 JWT naming the session's user (1 KMS Sign)."""
        signer = self._signer()
        current = self.authenticate(creds)
        now = self.clock()
        ends = lifetime_end(now, self.settings.jwt_ttl_seconds, current.session.expires_at)
        profile = current.connection.profile
        body = claims(
            issuer=issuer,
            audience=self.settings.jwt_audience,
            subject=current.session.user_id,
            session_id=current.session.id,
            now=now,
            expires_at=ends,
            profile={"name": profile.handle, "email": profile.email, "picture": profile.img_url},
        )
        return JwtResponse(jwt=signer.sign(body), expires_at=oauth.iso(ends))

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
            claims_supported=["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti", "name", "email", "picture"],
        )

    def _signer(self) -> JwtSigner:
        if self.signer is None:
            raise NotFound("JWTs are not enabled on this deployment: set JWT_KEY_ID to a KMS ECC_NIST_P256 key.")
        return self.signer

    # -- backend access (AWS IAM) -------------------------------------------------------------

    def connection_view(self, user_id: str) -> ConnectionView:
        """GET /connections/{user_id}: the user and a fresh token (refreshed single-flight first
        when within REFRESH_LEEWAY_SECONDS); a dead grant answers status reauth_required."""
        conn = self._connection(user_id)
        fresh = self._fresh_within_leeway(conn)
        conn = fresh.connection if fresh else conn
        return ConnectionView(user=self._user(conn), provider=self._provider(conn, fresh, expose=True))

    def disconnect(self, user_id: str) -> None:
        """DELETE /connections/{user_id}: the grant and every session of the user."""
        if self.store.connection_touched(_checked_user_id(user_id)) is None and not self.store.user_sessions(user_id):
            raise NotFound("No Figma connection for this user.")
        self.end_user(user_id, disconnect=True)

    def _connection(self, user_id: str) -> Connection:
        conn = self.store.get_connection(_checked_user_id(user_id))
        if conn is None:
            raise NotFound("No Figma connection for this user.")
        return conn

    # -- the Figma proxy ----------------------------------------------------------------

    def proxy(
        self, creds: Credentials, *, method: str, path: str, query: str, body: bytes | None, content_type: str | None
    ) -> ProxyResponse:
        """Call FIGMA_API_URL/{path} with the session user's token."""
        target = self._proxy_target(path, query)
        conn = self.authenticate(creds).connection
        return self._call_figma(conn, target, method=method, body=body, content_type=content_type)

    def proxy_as(
        self, user_id: str, *, method: str, path: str, query: str, body: bytes | None, content_type: str | None
    ) -> ProxyResponse:
        """ANY /connections/{user_id}/figma/{proxy+} (backend): the same call, as that user."""
        target = self._proxy_target(path, query)
        conn = self._connection(user_id)
        return self._call_figma(conn, target, method=method, body=body, content_type=content_type)

    def _proxy_target(self, path: str, query: str) -> str:
        query = oauth.proxy_query(query)
        return self.settings.figma_api_url + oauth.proxy_path(path) + (f"?{query}" if query else "")

    def _call_figma(
        self, conn: Connection, target: str, *, method: str, body: bytes | None, content_type: str | None
    ) -> ProxyResponse:
        """Call ``target`` with the connection's token (refreshed first when expiring; refreshed
        once more and retried once if Figma calls it invalid)."""
        if conn.status != ACTIVE:
            raise ReauthRequired()
        fresh = self.engine.fresh(conn, self.settings.refresh_leeway_seconds)

        def call(token: str) -> ProxyResponse:
            return forward(
                self.figma.http, url=target, method=method, token=token, body=body, content_type=content_type
            )

        answer = call(fresh.grant.access_token)
        obtained = fresh.connection.grant_obtained_at
        if is_invalid_token(answer) and (obtained is None or self.clock() - obtained >= FORCED_REFRESH_SPACING):
            # Figma calls the token invalid: renew it once and try again, at most once per
            # connection per 30 s (a client cannot spend the app's refresh budget). A dead grant
            # shows as the refresh's own answer (reauth_required); a second "invalid" is
            # Figma's answer, passed on.
            metrics_count("ProxyRefreshOnInvalidToken")
            answer = call(self.engine.fresh(fresh.connection, None, force=True).grant.access_token)
        if answer.status >= 500:
            raise FigmaUnavailable(f"Figma answered HTTP {answer.status}", status=502)
        metrics_count(f"ProxyCalls{answer.status // 100}xx")
        return answer

    # -- views -------------------------------------------------------------------------

    def view(self, session: Session, conn: Connection, fresh: Fresh | None) -> SessionView:
        return SessionView(
            session=SessionInfo(
                id=session.id, created_at=oauth.iso(session.created_at), expires_at=oauth.iso(session.expires_at)
            ),
            user=self._user(conn),
            provider=self._provider(conn, fresh, expose=self.settings.expose_provider_token),
        )

    @staticmethod
    def _user(conn: Connection) -> UserInfo:
        profile = conn.profile
        return UserInfo(id=conn.user_id, handle=profile.handle, email=profile.email, img_url=profile.img_url)

    @staticmethod
    def _provider(conn: Connection, fresh: Fresh | None, *, expose: bool) -> ProviderInfo:
        active = conn.status == ACTIVE and fresh is not None
        exposed = {"access_token": fresh.grant.access_token} if fresh and active and expose else {}
        return ProviderInfo(
            name="figma",
            **exposed,
            expires_at=oauth.iso(conn.grant_expires_at) if active and conn.grant_expires_at else None,
            scopes=list(conn.scopes),
            status="active" if active else "reauth_required",
        )


def _checked_user_id(user_id: str) -> str:
    """A Figma user id as a path names it; anything else names no connection (404)."""
    if not 0 < len(user_id) <= MAX_USER_ID or not user_id.isprintable():
        raise NotFound("No Figma connection for this user.")
    return user_id


__all__ = ["AuthService", "Credentials", "FigmaAuthError", "SESSION_COOKIE"]
