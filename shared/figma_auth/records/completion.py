"""What completing a sign-in makes: the callback's write beside the connection's grant (the
session, token mode's ticket, the approval of a device sign-in) and its answer to the browser
(``LoginDone``). A kind of ``figma_auth.records`` (its docstring says why each kind is a module
of its own): authorize, which only starts sign-ins, never creates these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from figma_auth.records import Session


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
class LoginDone:
    """A finished sign-in: back to the app (cookie mode: with the session cookie to set)."""

    redirect_url: str
    session_token: str | None  # cookie mode: the value of the session cookie to set
