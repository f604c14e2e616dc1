"""Return-URL and origin judgement: which URLs a sign-in may send the browser back to, and
how parameters are added to them. Pure; unit-tested against an open-redirect corpus and
judged against a WHATWG URL parser (ada) as the oracle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from figma_auth.errors import InvalidRedirect

MAX_URL_LENGTH = 2048
_HOST_RE = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_IPV4_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


def _strict_split(url: str) -> SplitResult:
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


def _origin_of(parts: SplitResult) -> str:
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
