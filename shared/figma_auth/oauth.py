"""Pure OAuth protocol helpers: no I/O, no clock reads, no randomness they don't take.

State, PKCE, the return-URL allowlist, scopes, the authorize URL and Figma's token
responses. Everything here is unit-tested against the contract and an open-redirect corpus.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from figma_auth.errors import FigmaError, InvalidRedirect, InvalidScope

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

MAX_URL_LENGTH = 2048
# Bounds for Figma's expires_in: anything outside is a malformed answer, rejected closed.
MIN_EXPIRES_IN = 1
MAX_EXPIRES_IN = 400 * 86400
_TOKEN_RE = re.compile(r"^[\x21-\x7e]{1,4096}$")  # visible ASCII, bounded
_URL_SAFE_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random secret (256 bits by default)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(value: str) -> str:
    """The only form in which we store a secret we must recognise later (SHA-256, base64url)."""
    return b64url(hashlib.sha256(value.encode("utf-8")).digest())


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(verifier)))."""
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def derive(secret: str, purpose: str) -> str:
    """A value bound to ``secret`` for one purpose (HMAC-SHA256), 43 URL-safe chars."""
    return b64url(hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest())


# RFC 8628 §6.1: no vowels (no words), no look-alikes (no 0/O, 1/I/L confusion: letters only,
# and only consonants): 20 letters, 8 of them ≈ 2^34.6 codes, shown XXXX-XXXX.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))


def show_user_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def parse_user_code(text: str) -> str | None:
    """What a person typed (any case, with or without the dash or spaces) as the 8 letters, or None."""
    letters = "".join(ch for ch in text.upper() if ch not in "- ")
    return letters if len(letters) == 8 and all(ch in USER_CODE_ALPHABET for ch in letters) else None


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def is_url_safe_token(value: str, *, min_len: int, max_len: int) -> bool:
    return min_len <= len(value) <= max_len and bool(_URL_SAFE_RE.fullmatch(value))


# ---------------------------------------------------------------------------------------
# Return URLs


def normalise_origin(value: str) -> str:
    """``scheme://host[:port]`` in canonical form (lowercase host, default port dropped).

    Raises InvalidRedirect for anything that is not a plain http(s) origin.
    """
    parts = _strict_split(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidRedirect(f"{value!r} is not an origin")
    return _origin_of(parts)


MAX_RETURN_URL = 1024


def validate_return_url(url: Any, allowed_origins: Iterable[str], exact: Iterable[str] = ()) -> str:
    """Return ``url`` if it is an absolute http(s) URL on one of ``allowed_origins`` (and, when
    ``exact`` URLs are configured, one of them: origin and path, any query).

    Rejects everything an open-redirect corpus throws: ``//host``, backslashes, control
    characters and whitespace, userinfo, non-ASCII (IDN look-alikes), ``javascript:``,
    ``data:``, other ports, other hosts, and what a browser's URL parser calls invalid.
    """
    if not isinstance(url, str) or not url:
        raise InvalidRedirect("success and failure must be absolute URLs on an allowed origin")
    if len(url) > MAX_RETURN_URL:
        raise InvalidRedirect(f"success and failure may be {MAX_RETURN_URL} characters at most")
    parts = _strict_split(url)
    origin = _origin_of(parts)
    if origin not in set(allowed_origins):
        raise InvalidRedirect(f"{origin} is not in ALLOWED_ORIGINS")
    exact = tuple(exact)
    if exact and f"{origin}{parts.path or '/'}" not in exact:
        raise InvalidRedirect(f"{origin}{parts.path or '/'} is not in ALLOWED_REDIRECT_URLS")
    return url


def exact_redirect(url: str) -> str:
    """An ALLOWED_REDIRECT_URLS entry as compared: origin and path, no query or fragment."""
    parts = _strict_split(url)
    if parts.query or parts.fragment:
        raise InvalidRedirect("an allowed redirect URL has no query or fragment (any query is accepted)")
    return f"{_origin_of(parts)}{parts.path or '/'}"


def origin_of_url(url: str) -> str:
    return _origin_of(_strict_split(url))


_NETLOC_RE = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^\[\]:]+)(:[0-9]*)?")


def _strict_split(url: str):  # type: ignore[no-untyped-def]
    if len(url) > MAX_URL_LENGTH:
        raise InvalidRedirect("URL is too long")
    if not url.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise InvalidRedirect("URL contains whitespace, control or non-ASCII characters")
    if "\\" in url:
        raise InvalidRedirect("URL contains a backslash")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" (Invalid IPv6 URL)
        raise InvalidRedirect("URL is malformed") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidRedirect("URL must be http or https")
    if not url.lower().startswith(parts.scheme + "://"):
        raise InvalidRedirect("URL must be absolute")
    if "@" in parts.netloc or not parts.netloc:
        raise InvalidRedirect("URL must not contain userinfo")
    if not _NETLOC_RE.fullmatch(parts.netloc) or (parts.netloc.startswith("[") and ":" not in (parts.hostname or "")):
        # What a browser (WHATWG URL) calls invalid: text after "]" ([::1]evil.com), or a
        # bracketed name that is no IPv6 address ([v1.example.com]).
        raise InvalidRedirect("URL host is malformed")
    if parts.netloc.endswith(":"):
        raise InvalidRedirect("URL has an empty port")
    host = parts.hostname or ""
    if not (_HOST_RE.fullmatch(host) or _IPV4_RE.fullmatch(host) or host == "[::1]" or host == "::1"):
        raise InvalidRedirect("URL host is not a valid hostname")
    if "%" in parts.netloc:
        raise InvalidRedirect("URL host must not be percent-encoded")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidRedirect("URL port is invalid") from None
    return parts


def _origin_of(parts) -> str:  # type: ignore[no-untyped-def]
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def append_query(url: str, params: Mapping[str, str]) -> str:
    """Add ``params`` to ``url``'s query (before any fragment), replacing same-named ones."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def append_fragment(url: str, params: Mapping[str, str]) -> str:
    """Put ``params`` in ``url``'s fragment (replacing any fragment): a fragment never reaches
    the app's servers, logs or Referer headers."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, urlencode(list(params.items()))))


_PROXY_SEGMENT = re.compile(r"^[A-Za-z0-9_\-.~:,]{1,256}$")


def proxy_path(path: str) -> str:
    """The Figma API path for ``/figma/{path}``, or InvalidPath for anything that could leave
    Figma's API: only ``v1/…``/``v2/…`` with plain segments; no ``..``, no encoding
    (``%2f``), no backslash, ``@``, empty segment (``//``), control or non-ASCII character."""
    from figma_auth.errors import InvalidPath

    if not isinstance(path, str) or not 0 < len(path) <= 1024:
        raise InvalidPath()
    segments = path.split("/")
    if segments[-1] == "":  # one trailing slash is harmless
        segments.pop()
    if not segments or segments[0] not in ("v1", "v2"):
        raise InvalidPath("Only Figma API paths are allowed: /figma/v1/… or /figma/v2/…")
    if len(segments) > 1 and segments[1].lower() == "oauth":
        # Figma's OAuth endpoints are ours to call (with the client secret), never a client's.
        raise InvalidPath("Figma's OAuth endpoints cannot be called through the proxy.")
    for segment in segments:
        if segment in (".", "..") or not _PROXY_SEGMENT.fullmatch(segment):
            raise InvalidPath()
    return "/" + "/".join(segments)


def proxy_query(query: str) -> str:
    """A query string to pass on to Figma, or InvalidRequest: printable ASCII only (a raw
    control byte or non-ASCII character is no URL)."""
    from figma_auth.errors import InvalidRequest

    if len(query) > 2048 or not all(" " < ch < "\x7f" for ch in query):
        raise InvalidRequest("the query string has characters a URL cannot carry; percent-encode them")
    return query


# ---------------------------------------------------------------------------------------
# Scopes and the authorize URL


def parse_scopes(raw: str) -> list[str]:
    """Split a comma- or space-separated scope list; every scope must be one Figma documents."""
    if len(raw) > 1024:
        raise InvalidScope("scopes is too long")
    scopes = list(dict.fromkeys(s for s in re.split(r"[,\s]+", raw.strip()) if s))
    if not scopes:
        raise InvalidScope("no scope requested")
    if "files:read" in scopes:
        raise InvalidScope(
            "files:read is deprecated: Figma no longer grants it to new or re-published apps. Ask for the "
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
    return FigmaGrant(access, refresh, _expiry(body.get("expires_in"), now), tuple(scopes))


def parse_refresh_response(body: Any, *, now: datetime, previous: FigmaGrant) -> FigmaGrant:
    """Figma's refresh answer usually has no refresh_token: keep the old one; store a new one."""
    if not isinstance(body, dict):
        raise FigmaError("Figma's refresh response is not a JSON object")
    access = _token(body.get("access_token"), "access_token")
    new_refresh = body.get("refresh_token")
    refresh = previous.refresh_token if new_refresh in (None, "") else _token(new_refresh, "refresh_token")
    return FigmaGrant(access, refresh, _expiry(body.get("expires_in"), now), previous.scopes)


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
    for code in ("invalid_client", "invalid_grant", "invalid_token"):
        if code in lowered:
            return code
    # Figma's prose shapes: "Invalid refresh token", "Invalid token", "Token expired", "… revoked"
    if _TOKEN_PROBLEM.search(lowered):
        return "invalid_token"
    return None


_TOKEN_PROBLEM = re.compile(
    r"\b(invalid|expired|revoked)\s+(refresh\s+|access\s+)?token\b|\btoken\s+(is\s+|was\s+|has\s+been\s+)?(invalid|expired|revoked)\b"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with a Z and whole seconds, as the contract shows."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
