"""Client ID Metadata Documents (the MCP authorization specification, 2025-11-25): an agent's
``client_id`` is an HTTPS URL whose JSON names the client, its logo and its redirect URIs.

We fetch it ourselves, so we fetch it carefully: at most MAX_BYTES, within TIMEOUT_SECONDS, no
redirects, and only from public addresses: the name is resolved here, every address must be
global, and the request goes to the address we checked (so a second resolution cannot point us
at the metadata service or a VPC neighbour). Locally (``OAUTH_LOOPBACK_CLIENTS``) a document on
``http://127.0.0.1`` is admitted as well. Answers are cached as their ``Cache-Control`` says."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

MAX_BYTES = 5 * 1024
TIMEOUT_SECONDS = 3.0
MAX_CACHE_SECONDS = 86400
MAX_CACHED = 256
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "::1")

Resolve = Callable[[str, int], list[str]]


class InvalidClient(Exception):
    """The document could not be fetched or used (said on our own page, never to the client)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ClientDocument:
    """An agent's Client ID Metadata Document: what it says of itself."""

    client_id: str
    client_name: str  # the client's own words, never verified by us
    redirect_uris: tuple[str, ...]
    logo_uri: str | None = None

    def accepts(self, redirect_uri: str) -> bool:
        """Exact match, except a loopback redirect's port (RFC 8252 §7.3)."""
        if redirect_uri in self.redirect_uris:
            return True
        asked = urlsplit(redirect_uri)
        if asked.scheme != "http" or asked.hostname not in ("127.0.0.1", "::1"):
            return False
        for registered in map(urlsplit, self.redirect_uris):
            same = (registered.scheme, registered.hostname, registered.path, registered.query)
            if same == (asked.scheme, asked.hostname, asked.path, asked.query):
                return True
        return False


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class ClientDocuments:
    """Fetch, check and cache Client ID Metadata Documents."""

    def __init__(
        self,
        *,
        allow_loopback: bool,
        resolver: Resolve = resolve,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allow_loopback, self.resolver, self.transport, self.clock = allow_loopback, resolver, transport, clock
        self._cache: dict[str, tuple[float, ClientDocument]] = {}

    def get(self, client_id: str) -> ClientDocument:
        cached = self._cache.get(client_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        body, max_age = self._fetch(client_id)
        document = parse_document(client_id, body)
        if max_age > 0:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[client_id] = (self.clock() + max_age, document)
        return document

    def _fetch(self, client_id: str) -> tuple[bytes, int]:
        parts = check_client_id(client_id, allow_loopback=self.allow_loopback)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._address(host, port)
        import httpx

        target = parts._replace(netloc=f"[{address}]:{port}" if ":" in address else f"{address}:{port}").geturl()
        headers = {"Host": parts.netloc, "Accept": "application/json"}
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            with httpx.Client(transport=self.transport, timeout=TIMEOUT_SECONDS, follow_redirects=False) as http:
                with http.stream("GET", target, headers=headers, extensions=extensions) as answer:
                    if answer.status_code != 200:
                        raise InvalidClient(f"the client_id document answered HTTP {answer.status_code}, not 200")
                    body = _read_limited(answer)
                    return body, cache_seconds(answer.headers.get("cache-control", ""))
        except (httpx.HTTPError, httpx.InvalidURL):
            raise InvalidClient("the client_id document could not be fetched (unreachable or too slow)") from None

    def _address(self, host: str, port: int) -> str:
        """The one address we will connect to: every address of the name must be global."""
        if self.allow_loopback and host in LOOPBACK_HOSTS:
            return host.strip("[]")
        found = self.resolver(host, port)
        if not found:
            raise InvalidClient("the client_id's host does not resolve")
        for text in found:
            ip = ipaddress.ip_address(text.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise InvalidClient("the client_id's host resolves to a private, loopback or link-local address")
        return found[0]


def check_client_id(client_id: str, *, allow_loopback: bool) -> Any:
    """An https URL with a path (locally also http://127.0.0.1…), no fragment, no credentials."""
    if len(client_id) > 1024 or not client_id.isascii() or not client_id.isprintable() or " " in client_id:
        raise InvalidClient("client_id must be the URL of a Client ID Metadata Document (at most 1024 characters)")
    parts = urlsplit(client_id)
    loopback = allow_loopback and parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1")
    if parts.scheme != "https" and not loopback:
        raise InvalidClient("client_id must be an https URL of a Client ID Metadata Document")
    if not parts.hostname or parts.path in ("", "/") or parts.fragment or parts.username or parts.password:
        raise InvalidClient("client_id must be an https URL with a path, and no fragment or credentials")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise InvalidClient("client_id has a malformed port") from None
    return parts


def _read_limited(answer: httpx.Response) -> bytes:
    body = b""
    for chunk in answer.iter_bytes():
        body += chunk
        if len(body) > MAX_BYTES:
            raise InvalidClient(f"the client_id document is larger than {MAX_BYTES} bytes")
    return body


def cache_seconds(cache_control: str) -> int:
    """How long ``Cache-Control`` lets us keep the document (0: not at all)."""
    directives = {d.strip().split("=")[0].lower(): d.strip() for d in cache_control.split(",") if d.strip()}
    if "no-store" in directives or "no-cache" in directives:
        return 0
    value = directives.get("max-age", "").partition("=")[2].strip('"')
    return min(int(value), MAX_CACHE_SECONDS) if value.isdigit() else 0


def parse_document(client_id: str, body: bytes) -> ClientDocument:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidClient("the client_id document is not JSON") from None
    if not isinstance(doc, dict) or doc.get("client_id") != client_id:
        raise InvalidClient("the client_id document's client_id is not its own URL")
    uris = doc.get("redirect_uris")
    if not isinstance(uris, list) or not uris or not all(_redirect_uri_ok(u) for u in uris):
        raise InvalidClient("the client_id document's redirect_uris must be absolute URLs without fragments")
    if doc.get("token_endpoint_auth_method", "none") != "none":
        raise InvalidClient("only public clients are supported: token_endpoint_auth_method must be none")
    name = doc.get("client_name")
    name = name.strip()[:100] if isinstance(name, str) and name.strip() else urlsplit(client_id).netloc
    logo = doc.get("logo_uri")
    logo = logo if isinstance(logo, str) and logo.startswith("https://") and len(logo) <= 1024 else None
    return ClientDocument(client_id, name, tuple(uris), logo)


def _redirect_uri_ok(uri: Any) -> bool:
    if not isinstance(uri, str) or len(uri) > 1024:
        return False
    parts = urlsplit(uri)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and not parts.fragment
