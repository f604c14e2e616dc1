"""Device sign-in (RFC 8628) for Figma plugins, the VS Code extension and CLIs, the app's side:
a device code for the app (kept secret) and a user code for the person, then the app's poll
that turns the approval into a session, once. The person's side (the verify page's look-up and
confirmation, then the Figma sign-in that approves it) is ``usecases.device_verify``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from figma_auth.credentials import Credentials
from figma_auth.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    InvalidRequest,
    SlowDown,
    TemporarilyUnavailable,
)
from figma_auth.models.sign_in import DeviceRequest, DeviceStart
from figma_auth.models.tokens import DeviceTokenRequest
from figma_auth.models.views import SessionView, TokenResponse
from figma_auth.records import Session
from figma_auth.records.devices import DeviceCode
from figma_auth.tokens import (
    hash_secret,
    new_session_token,
    new_user_code,
    random_token,
    show_user_code,
)
from figma_auth.urls import append_query
from figma_auth.usecases.authorize import StartSignIn
from figma_auth.usecases.views import token_response

EXPIRED = "This code expired or was already used. Start signing in again from your app."


class DeviceStore(Protocol):
    def put_device(self, device: DeviceCode) -> bool: ...
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

    def start(self, request: DeviceRequest, *, verify_url: str, client_address: str) -> DeviceStart:
        """A device code for the plugin (kept secret), a user code for the person; where and
        when it started, so the verify page can tell the person (RFC 8628 §5.4)."""
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
                network=network_of(client_address),
                started_at=self.clock(),
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


def network_of(address: str) -> str:
    """A hash of the address's network (IPv4 /24, IPv6 /64): the same home or office, not the
    same device; the address itself is never stored."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return hash_secret("unknown:" + address)
    prefix = 24 if ip.version == 4 else 64
    return hash_secret(str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False)))


def _scope_parameter(request: DeviceRequest) -> str | None:
    """RFC 8628 §3.1's ``scope`` (space-delimited) or our ``scopes`` (comma-separated); both
    given must name the same scopes."""
    scope, scopes = request.scope, request.scopes
    if scope is not None and scopes is not None and _names(scope) != _names(scopes):
        raise InvalidRequest("scope and scopes name different scopes: send one of them")
    return scope if scope is not None else scopes


def _names(raw: str) -> set[str]:
    return {part for part in raw.replace(",", " ").split() if part}
