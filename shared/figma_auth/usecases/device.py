"""Device sign-in (RFC 8628) for Figma plugins, the VS Code extension and CLIs: a device code
for the app (kept secret), a user code for the person, the verify page's lookup and
confirmation, then the Figma sign-in that approves it, and the app's poll that turns the
approval into a session, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from figma_auth.credentials import Credentials, LoginStart
from figma_auth.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    InvalidRequest,
    InvalidState,
    NotFound,
    SlowDown,
    TemporarilyUnavailable,
    TooManyAttempts,
)
from figma_auth.models import DeviceRequest, DeviceStart, DeviceTokenRequest, SessionView, TokenResponse
from figma_auth.records import DeviceCode, Session
from figma_auth.tokens import (
    constant_time_equal,
    derive,
    hash_secret,
    new_session_token,
    new_user_code,
    parse_user_code,
    random_token,
    show_user_code,
)
from figma_auth.urls import append_query
from figma_auth.usecases.authorize import StartSignIn
from figma_auth.usecases.views import token_response

MAX_CODE_VIEWS = 5  # a user code's verify page can be opened this often (then it is burned)
MAX_WRONG_CODES = 10  # wrong user codes one client address may type per window
GUESS_WINDOW_SECONDS = 900
EXPIRED = "This code expired or was already used. Start signing in again from your app."


class DeviceStore(Protocol):
    def put_device(self, device: DeviceCode) -> bool: ...
    def wrong_codes(self, client: str, window: str) -> int: ...
    def count_wrong_code(self, client: str, window: str, *, until: datetime) -> None: ...
    def device_by_user_code(self, user_code_hash: str, *, max_views: int) -> tuple[DeviceCode | None, bool]: ...
    def poll_device(self, device_hash: str, *, now_ms: int) -> tuple[DeviceCode | None, bool]: ...
    def slow_down(self, device_hash: str, *, now_ms: int, interval_ms: int) -> None: ...
    def deliver_device(self, device: DeviceCode, session: Session, *, offline: bool = False) -> bool: ...


class DeviceSignIn:
    """POST /auth/device, GET /auth/device/verify, and POST /auth/token's device grant."""

    def __init__(
        self,
        *,
        store: DeviceStore,
        login: StartSignIn,  # its scope rules, and the Figma leg that approves the device
        view: Callable[[Credentials], SessionView],
        clock: Callable[[], datetime],
        code_ttl_seconds: int,
        poll_interval_seconds: int,
        session_ttl_days: int,
        offline_access: bool,
    ) -> None:
        self.store, self.login, self.view, self.clock = store, login, view, clock
        self.ttl, self.interval = code_ttl_seconds, poll_interval_seconds
        self.lifetime, self.offline = timedelta(days=session_ttl_days), offline_access

    def start(self, request: DeviceRequest, *, verify_url: str) -> DeviceStart:
        """A device code for the plugin (kept secret), a user code for the person."""
        scopes = self.login.requested_scopes(_scope_parameter(request))
        device_code = random_token(32)
        expires_at = self.clock() + timedelta(seconds=self.ttl)
        for _ in range(5):  # a user code already in use (one in 2^34 per live code): draw another
            user_code = new_user_code()
            device = DeviceCode(
                device_hash=hash_secret(device_code),
                user_code_hash=hash_secret(user_code),
                scopes=scopes,
                expires_at=expires_at,
                interval_ms=self.interval * 1000,
                client_id=request.client_id,
            )
            if self.store.put_device(device):
                break
        else:
            raise TemporarilyUnavailable("Could not draw a free user code; try again.")
        shown = show_user_code(user_code)
        return DeviceStart(
            device_code=device_code,
            user_code=shown,
            verification_uri=verify_url,
            verification_uri_complete=append_query(verify_url, {"user_code": shown}),
            expires_in=self.ttl,
            interval=self.interval,
        )

    def to_confirm(self, typed: str, *, client: str) -> tuple[str, DeviceCode]:
        """The verify page: the pending device sign-in a typed code names (shown XXXX-XXXX). Wrong
        codes count against the client's address; a code opened too often is burned."""
        now = self.clock()
        window = str(int(now.timestamp()) // GUESS_WINDOW_SECONDS)
        if self.store.wrong_codes(client, window) >= MAX_WRONG_CODES:
            raise TooManyAttempts()
        code = parse_user_code(typed)
        device, burned = (
            self.store.device_by_user_code(hash_secret(code), max_views=MAX_CODE_VIEWS) if code else (None, False)
        )
        if burned:
            raise ExpiredToken("This code was opened too many times. Start signing in again from your app.")
        if code is None or device is None:
            until = datetime.fromtimestamp((int(window) + 1) * GUESS_WINDOW_SECONDS, now.tzinfo)
            self.store.count_wrong_code(client, window, until=until)
            raise NotFound("That code is not right. Check it against the one your app shows and type it again.")
        if device.expires_at <= now or device.status != "pending":
            raise ExpiredToken(EXPIRED)
        return show_user_code(code), device

    def confirm(
        self, typed: str, confirmation: str, browser_secret: str | None, *, callback_url: str, verify_url: str
    ) -> LoginStart:
        """The person confirmed the code on our page (the page's value, bound to this browser's
        cookie): start the Figma sign-in that will approve the device."""
        code = parse_user_code(typed)
        expected = derive(browser_secret, "device:" + code) if code and browser_secret else None
        if code is None or expected is None or not constant_time_equal(expected, confirmation):
            raise InvalidState("Confirm the code on this page first (it was opened in another browser or expired).")
        found, burned = self.store.device_by_user_code(hash_secret(code), max_views=MAX_CODE_VIEWS + 1)
        if burned or found is None or found.expires_at <= self.clock() or found.status != "pending":
            raise ExpiredToken(EXPIRED)
        return self.login.begin(
            success=append_query(verify_url, {"result": "done"}),
            failure=verify_url,
            scopes=found.scopes,
            mode="device",
            app_challenge=None,
            callback_url=callback_url,
            device_hash=found.device_hash,
        )

    def poll(self, request: DeviceTokenRequest) -> TokenResponse:
        """Pending, slow_down, denied, expired, or (once) a session."""
        now = self.clock()
        now_ms = int(now.timestamp() * 1000)
        device_hash = hash_secret(request.device_code)
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
            id=hash_secret(token),
            user_id=device.user_id,
            created_at=now,
            expires_at=now + self.lifetime,
            client="device",
            activated=True,
        )
        if not self.store.deliver_device(device, session, offline=self.offline):
            raise InvalidGrant("This device code was already used: it gives one session, once.")
        return token_response(token, self.view(Credentials(token, "bearer")), now)


def _scope_parameter(request: DeviceRequest) -> str | None:
    """RFC 8628 §3.1's ``scope`` (space-delimited) or our ``scopes`` (comma-separated); both
    given must name the same scopes."""
    scope, scopes = request.scope, request.scopes
    if scope is not None and scopes is not None and _names(scope) != _names(scopes):
        raise InvalidRequest("scope and scopes name different scopes: send one of them")
    return scope if scope is not None else scopes


def _names(raw: str) -> set[str]:
    return {part for part in raw.replace(",", " ").split() if part}
