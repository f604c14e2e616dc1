"""Pure OAuth protocol helpers: no I/O, no clock reads, no randomness.

Figma's scopes, PKCE's S256, the authorize URL and Figma's token responses (and its three
error shapes). Secrets live in ``tokens``, return URLs in ``urls``, time formats in ``times``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from figma_auth.errors import FigmaError, InvalidScope
from figma_auth.tokens import b64url
from figma_auth.urls import append_query

# Figma's documented OAuth scopes (developers.figma.com, "Scopes").
FIGMA_SCOPES: frozenset[str] = frozenset(
    {
        "current_user:read",
        "file_comments:read",
        "file_comments:write",
        "file_content:read",
        "file_dev_resources:read",
        "file_dev_resources:write",
        "file_metadata:read",
        "file_variables:read",
        "file_variables:write",
        "file_versions:read",
        "library_analytics:read",
        "library_assets:read",
        "library_content:read",
        "team_library_content:read",
        "projects:read",
        "webhooks:read",
        "webhooks:write",
        "selections:read",
        "org:activity_log_read",
    }
)

MIN_EXPIRES_IN = 1
MAX_EXPIRES_IN = 400 * 86400
_TOKEN_RE = re.compile(r"^[\x21-\x7e]{1,4096}$")  # visible ASCII, bounded


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


# ---------------------------------------------------------------------------------------
# Scopes and the authorize URL


def parse_scopes(raw: str) -> list[str]:
    """Split a comma- or space-separated scope list; every scope must be one Figma documents."""
    if len(raw) > 1024:
        raise InvalidScope("scopes is too long")
    scopes = list(dict.fromkeys(s for s in re.split(r"[,\s]+", raw.strip()) if s))
    if not scopes:
        raise InvalidScope("no scope requested")
    removed = [s for s in scopes if s in ("files:read", "file_read")]
    if removed:
        raise InvalidScope(
            f"{removed[0]} is being removed by Figma (deprecated; new and re-published apps cannot ask for it). "
            "Ask for the "
            "granular scopes you need instead: file_content:read, file_metadata:read, file_versions:read, "
            "file_comments:read, file_dev_resources:read, library_content:read"
        )
    unknown = [s for s in scopes if s not in FIGMA_SCOPES]
    if unknown:
        shown = ", ".join(repr(s[:40]) for s in unknown[:3])
        raise InvalidScope(f"unknown Figma scope {shown}; see Figma's Scopes page for the list")
    return scopes


def authorize_url(
    *,
    auth_url: str,
    client_id: str,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
    code_challenge: str | None,
) -> str:
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": ",".join(scopes),
        "state": state,
        "response_type": "code",
    }
    if code_challenge is not None:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = "S256"
    return append_query(auth_url, params)


# ---------------------------------------------------------------------------------------
# Figma's token responses


@dataclass(frozen=True)
class FigmaGrant:
    """What Figma granted: tokens (secret), absolute expiry, scopes."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scopes: tuple[str, ...] = ()

    def expires_within(self, seconds: float, now: datetime) -> bool:
        return self.expires_at - now <= timedelta(seconds=seconds)


def parse_token_response(body: Any, *, now: datetime, scopes: Iterable[str]) -> FigmaGrant:
    """Validate Figma's code-exchange answer; anything malformed is a FigmaError (closed)."""
    if not isinstance(body, dict):
        raise FigmaError("Figma's token response is not a JSON object")
    access = _token(body.get("access_token"), "access_token")
    refresh = _token(body.get("refresh_token"), "refresh_token")
    return FigmaGrant(access, refresh, _expiry(body.get("expires_in"), now), granted_scopes(body, tuple(scopes)))


def parse_refresh_response(body: Any, *, now: datetime, previous: FigmaGrant) -> FigmaGrant:
    """Figma's refresh answer usually has no refresh_token: keep the old one; store a new one."""
    if not isinstance(body, dict):
        raise FigmaError("Figma's refresh response is not a JSON object")
    access = _token(body.get("access_token"), "access_token")
    new_refresh = body.get("refresh_token")
    refresh = previous.refresh_token if new_refresh in (None, "") else _token(new_refresh, "refresh_token")
    return FigmaGrant(access, refresh, _expiry(body.get("expires_in"), now), granted_scopes(body, previous.scopes))


def granted_scopes(body: dict[str, Any], asked: tuple[str, ...]) -> tuple[str, ...]:
    """RFC 6749 §5.1: ``scope`` is in the answer when it differs from what was asked (Figma
    has not been seen to send it; unconfirmed). Only the asked-for scopes it names count: an
    answer never widens a grant. Without it (or unreadable), what was asked."""
    raw = body.get("scope")
    if not isinstance(raw, str) or len(raw) > 2000:
        return asked
    named = set(re.split(r"[,\s]+", raw.strip()))
    return tuple(s for s in asked if s in named)


def _token(value: Any, name: str) -> str:
    if not isinstance(value, str) or not _TOKEN_RE.fullmatch(value):
        raise FigmaError(f"Figma's response has no valid {name}")
    return value


def _expiry(value: Any, now: datetime) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FigmaError("Figma's response has no numeric expires_in")
    if not MIN_EXPIRES_IN <= value <= MAX_EXPIRES_IN:
        raise FigmaError("Figma's expires_in is out of bounds")
    return now + timedelta(seconds=int(value))


def figma_error_code(body: Any) -> str | None:
    """The OAuth-style error in any of Figma's three error shapes, lowercased, if any."""
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, str):
        return err.lower()
    message = body.get("message") if err is True else body.get("err")
    if not isinstance(message, str):
        return None
    lowered = message.lower()
    for code in ("invalid_client", "invalid_grant", "invalid_token", "unsupported_grant_type"):
        if code in lowered:
            return code
    # Figma's prose shapes: "Invalid refresh token", "Invalid token", "Token expired", "… revoked"
    if _TOKEN_PROBLEM.search(lowered):
        return "invalid_token"
    return None


_TOKEN_PROBLEM = re.compile(
    r"\b(invalid|expired|revoked)\s+(refresh\s+|access\s+)?token\b|\btoken\s+(is\s+|was\s+|has\s+been\s+)?(invalid|expired|revoked)\b"
)
