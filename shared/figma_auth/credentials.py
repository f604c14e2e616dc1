"""What a request presents (its credentials, the cookies' names): small types the web adapter and
the use cases share. Kept apart from the use cases so a handler's cold start imports no use case
code before its first request. What a sign-in hands back (``LoginStart``, ``LoginDone``) is in
``figma_auth.records.signin``, made only by the functions that sign in."""

from __future__ import annotations

from dataclasses import dataclass

from figma_auth import tokens

SESSION_COOKIE = "__Host-figma_auth_session"
TX_COOKIE_PREFIX = "__Host-figma_auth_tx_"
DEVICE_COOKIE = "__Host-figma_auth_device"  # binds the verify page's "codes match" to this browser
VERIFY_COOKIE = "__Host-figma_auth_verify"  # this browser, on the verify page: its form and guessing budget


@dataclass(frozen=True)
class Credentials:
    """What the request presented: a session token from a cookie or a Bearer header."""

    token: str | None
    via: str | None  # "cookie" | "bearer" | None


def tx_cookie_name(state: str) -> str:
    """One transaction cookie per login, so two tabs signing in at once don't collide."""
    return TX_COOKIE_PREFIX + tokens.hash_secret(state)[:16]
