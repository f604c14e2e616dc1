"""The start of a sign-in: its login transaction (between authorize and callback) and what
authorize hands back to the browser (``LoginStart``; the callback too, when it goes back to Figma
once more). A kind of ``figma_auth.records`` (its docstring says why each kind is a module of
its own); what completing a sign-in makes is in ``figma_auth.records.completion``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
class LoginStart:
    """On to Figma's consent page: where, and the transaction cookie that goes with it."""

    redirect_url: str
    tx_cookie_name: str
    tx_cookie_value: str
    tx_cookie_max_age: int
