"""A sign-in between authorize and callback: its login transaction, token mode's ticket, the
approval of a device sign-in, what the callback writes beside the connection's grant, and what
authorize and the callback hand back to the browser (``LoginStart``, ``LoginDone``).
A kind of ``figma_auth.records`` (its docstring says why each kind is a module of its own)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from figma_auth.records import Session


@dataclass(frozen=True)
class LoginTransaction:
    """One sign-in attempt between authorize and callback (10 minutes at most)."""

    state_hash: str
    binding: str  # hash bound to the browser's transaction cookie
    success_url: str  # the URLs travel in the browser's transaction cookie, not in the item
    failure_url: str
    redirect_uri: str  # exactly what authorize sent to Figma
    scopes: tuple[str, ...]
    mode: str
    pkce: bool  # whether a code_challenge was sent to Figma
    app_challenge: str | None  # token mode: S256 of the SPA's own verifier
    expires_at: datetime
    device_hash: str | None = None  # device mode: the device sign-in this login approves
    urls_hash: str = ""  # the hash of the return URLs the browser's cookie carries
    widened: bool = False  # the one return to Figma for the union of the connection's scopes


@dataclass(frozen=True)
class Ticket:
    """Token mode: a one-time ticket that trades for the session token it seals."""

    ticket_hash: str
    session_id: str
    app_challenge: str
    sealed_token: bytes = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class DeviceApproval:
    """A callback approving a device sign-in: the session is created by the device's poll."""

    device_hash: str
    user_id: str
    now: datetime
    lives_until: datetime  # the connection must live at least until the device's session could


@dataclass(frozen=True)
class SignInWrite:
    """What one sign-in writes beside the connection's grant, in the same transaction: the new
    session (in token mode with its ticket), or the approval of a device sign-in."""

    session: Session | None
    ticket: Ticket | None = None
    device: DeviceApproval | None = None
    offline: bool = False  # OFFLINE_ACCESS: the connection outlives its sessions


@dataclass(frozen=True)
class LoginStart:
    """On to Figma's consent page: where, and the transaction cookie that goes with it."""

    redirect_url: str
    tx_cookie_name: str
    tx_cookie_value: str
    tx_cookie_max_age: int


@dataclass(frozen=True)
class LoginDone:
    """A finished sign-in: back to the app (cookie mode: with the session cookie to set)."""

    redirect_url: str
    session_token: str | None  # cookie mode: the value of the session cookie to set
