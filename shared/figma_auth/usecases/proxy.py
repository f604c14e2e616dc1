"""Call Figma's REST API with a user's token: as the session's user (ANY /figma/{proxy+}) or,
for the app's backend, as any user (ANY /connections/{user_id}/figma/{proxy+}).

The Figma path is decided and checked here, once: only ``v1/…``/``v2/…`` with plain segments,
never Figma's OAuth endpoints. The token is refreshed first when it expires within the leeway,
and once more (at most every 30 s per connection) when Figma calls it invalid. A Tier-1 file read
goes through the read-once cache (usecases/file_cache.py); an answer too large for Lambda's
response is streamed to S3 and answered by a presigned URL.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from figma_auth.credentials import Credentials
from figma_auth.errors import FigmaUnavailable, InvalidPath, InvalidRequest, ReauthRequired
from figma_auth.figma import Overflow, ProxyResponse, is_invalid_token
from figma_auth.observability import metrics_count
from figma_auth.records import ACTIVE, Connection, Current
from figma_auth.usecases.connections import ConnectionReader, connection_of
from figma_auth.usecases.rate_limits import RateLimitLedger
from figma_auth.usecases.views import FreshGrants

if TYPE_CHECKING:
    from figma_auth.engine import Fresh
    from figma_auth.usecases.file_cache import FileRead

FORCED_REFRESH_SPACING = timedelta(seconds=30)  # the refresh after an "invalid token" answer
_SEGMENT = re.compile(r"^[A-Za-z0-9_\-.~:,]{1,256}$")


@dataclass(frozen=True)
class ProxyCall:
    """A proxied request as API Gateway received it: the raw (still percent-encoded) path."""

    method: str
    raw_path: str
    query: str
    body: bytes | None
    content_type: str | None
    gzip: bool = False  # the caller takes Content-Encoding: gzip (its Accept-Encoding)
    max_stale: bool = False  # Cache-Control: max-stale: a cached version may answer a read refused for Tier 1


class Forwarder(Protocol):
    """A call to Figma with a user's token (the webhook routes' and the reconciliation's)."""

    def forward(
        self, target: str, *, method: str, token: str, body: bytes | None, content_type: str | None
    ) -> ProxyResponse: ...


class BodyForwarder(Protocol):
    """The proxy's call: gzip kept for a caller that takes it, a large body to ``overflow``."""

    def forward(
        self,
        target: str,
        *,
        method: str,
        token: str,
        body: bytes | None,
        content_type: str | None,
        gzip: bool = False,
        overflow: Overflow | None = None,
        max_bytes: int | None = None,
    ) -> ProxyResponse: ...


class Spill(Protocol):
    """Where an answer too large for Lambda's response goes (figma_auth.bodies)."""

    def answer_key(self) -> str: ...
    def stream(self, key: str, chunks: Iterator[bytes], content_type: str, encoding: str | None) -> int: ...
    def url(self, key: str) -> str: ...


class Files(Protocol):
    """The read-once cache (usecases/file_cache.py)."""

    def read_of(self, method: str, target: str) -> FileRead | None: ...
    def answer(self, read: FileRead, figma: FigmaAsUser, *, gzip: bool, max_stale: bool) -> ProxyResponse: ...


class FigmaProxy:
    def __init__(
        self,
        *,
        store: ConnectionReader,
        authenticate: Callable[[Credentials], Current],
        engine: FreshGrants,
        figma: BodyForwarder,
        ledger: RateLimitLedger,
        clock: Callable[[], datetime],
        leeway_seconds: int,
        spill: Spill | None = None,
        files: Files | None = None,
        max_bytes: int | None = None,
    ) -> None:
        self.store, self.authenticate, self.engine, self.figma = store, authenticate, engine, figma
        self.ledger, self.clock, self.leeway_seconds = ledger, clock, leeway_seconds
        self.spill, self.files, self.max_bytes = spill, files, max_bytes

    def as_session(self, creds: Credentials, call: ProxyCall) -> ProxyResponse:
        """ANY /figma/{path}: with the session user's token."""
        target = figma_target(call.raw_path, call.query, after=1, method=call.method)
        return self._call(self.authenticate(creds).connection, target, call)

    def as_user(self, user_id: str, call: ProxyCall) -> ProxyResponse:
        """ANY /connections/{user_id}/figma/{path} (backend): the same call, as that user."""
        target = figma_target(call.raw_path, call.query, after=3, method=call.method)
        return self._call(connection_of(self.store, user_id), target, call)

    def _call(self, conn: Connection, target: str, call: ProxyCall) -> ProxyResponse:
        """Figma's answer to ``target``, as the connection's user: a Tier-1 file read through the
        read-once cache (when on), anything else forwarded; a body too large for Lambda's
        response stored and answered by its URL (``location``)."""
        if conn.status != ACTIVE:
            raise ReauthRequired()
        figma = FigmaAsUser(self, conn)
        read = self.files.read_of(call.method, target) if self.files is not None else None
        if self.files is not None and read is not None:
            return self.files.answer(read, figma, gzip=call.gzip, max_stale=call.max_stale)
        key = self.spill.answer_key() if self.spill is not None else ""

        def overflow(chunks: Iterator[bytes], content_type: str, encoding: str | None) -> None:
            assert self.spill is not None
            self.spill.stream(key, chunks, content_type, encoding)

        answer = figma.send(
            target,
            method=call.method,
            body=call.body,
            content_type=call.content_type,
            gzip=call.gzip,
            overflow=overflow if self.spill is not None else None,
        )
        if answer.overflowed and self.spill is not None:
            metrics_count("ProxyAnswersStored")
            return replace(answer, location=self.spill.url(key))
        return answer


class FigmaAsUser:
    """Figma as one connection's user, for one proxied request: the token made fresh once (and
    renewed once if Figma calls it invalid), each call checked against and recorded in the
    rate-limit ledger, a 5xx answered as ours (502)."""

    def __init__(self, proxy: FigmaProxy, conn: Connection) -> None:
        self.proxy, self.connection = proxy, conn
        self._fresh: Fresh | None = None

    def send(
        self,
        target: str,
        *,
        method: str = "GET",
        body: bytes | None = None,
        content_type: str | None = None,
        gzip: bool = False,
        overflow: Overflow | None = None,
    ) -> ProxyResponse:
        """``target``'s answer. A call Figma's remembered rate limit covers is refused before
        anything else (RateLimited: no refresh, no Figma); a 429 is passed back as it came, and
        recorded."""
        proxy = self.proxy
        tiered = proxy.ledger.check(self.connection, method, target)
        if self._fresh is None:
            self._fresh = proxy.engine.fresh(self.connection, proxy.leeway_seconds)
        fresh = self._fresh

        def sent(token: str) -> ProxyResponse:
            return proxy.figma.forward(
                target,
                method=method,
                token=token,
                body=body,
                content_type=content_type,
                gzip=gzip,
                overflow=overflow,
                max_bytes=proxy.max_bytes,
            )

        answer = sent(fresh.grant.access_token)
        obtained = fresh.connection.grant_obtained_at
        if is_invalid_token(answer) and (obtained is None or proxy.clock() - obtained >= FORCED_REFRESH_SPACING):
            # Figma calls the token invalid: renew it once and try again, at most once per
            # connection per 30 s (a client cannot spend the app's refresh budget). A dead grant
            # shows as the refresh's own answer (reauth_required); a second "invalid" is
            # Figma's answer, passed on.
            metrics_count("ProxyRefreshOnInvalidToken")
            self._fresh = fresh = proxy.engine.fresh(fresh.connection, None, force=True)
            answer = sent(fresh.grant.access_token)
        self.connection = fresh.connection
        proxy.ledger.remember(fresh.connection, tiered, answer)
        if answer.status >= 500:
            raise FigmaUnavailable(f"Figma answered HTTP {answer.status}", status=502)
        metrics_count(f"ProxyCalls{answer.status // 100}xx")
        return explained(answer)


TOO_LARGE_ADVICE = (
    "Figma refuses to send this much in one answer: ask for less with ids= (the nodes you need, "
    "through /v1/files/KEY/nodes) or depth= (1: pages only)."
)


def explained(answer: ProxyResponse) -> ProxyResponse:
    """Figma's ``400 Request too large`` with a ``message`` saying what to do (decoded, if it came
    gzip: it is a few bytes); anything else as it came."""
    if answer.status != 400 or answer.overflowed or len(answer.body) > 65536:
        return answer
    try:
        raw = zlib.decompress(answer.body, 16 + zlib.MAX_WBITS) if answer.encoding == "gzip" else answer.body
        body = json.loads(raw)
    except (ValueError, zlib.error):
        return answer
    if not isinstance(body, dict) or not str(body.get("err", "")).startswith("Request too large"):
        return answer
    return replace(answer, body=json.dumps({**body, "message": TOO_LARGE_ADVICE}).encode(), encoding=None)


def figma_target(raw_path: str, query: str, *, after: int, method: str = "GET") -> str:
    """The Figma API path and query a proxied request names: the raw path less its route's first
    ``after`` segments (``/figma/…`` is 1, ``/connections/{id}/figma/…`` is 3), checked."""
    checked_query = proxy_query(query)
    path = proxy_path(raw_path.split("/", after + 1)[-1])
    if method.upper() not in ("GET", "HEAD") and path.lower().startswith("/v2/webhooks"):
        # A webhook pointed elsewhere would hand its passcode to whoever holds the endpoint.
        raise InvalidPath(
            "Webhooks are created, changed and deleted through /auth/webhooks (or /connections/{user_id}/webhooks), "
            "not the proxy; reading them through it is fine."
        )
    return path + (f"?{checked_query}" if checked_query else "")


def proxy_path(path: str) -> str:
    """The Figma API path for ``/figma/{path}``, or InvalidPath for anything that could leave
    Figma's API: only ``v1/…``/``v2/…`` with plain segments; no ``..``, no encoding
    (``%2f``), no backslash, ``@``, empty segment (``//``), control or non-ASCII character."""
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
        if segment in (".", "..") or not _SEGMENT.fullmatch(segment):
            raise InvalidPath()
    return "/" + "/".join(segments)


def proxy_query(query: str) -> str:
    """A query string to pass on to Figma, or InvalidRequest: printable ASCII only (a raw
    control byte or non-ASCII character is no URL)."""
    if len(query) > 2048 or not all(" " < ch < "\x7f" for ch in query):
        raise InvalidRequest("the query string has characters a URL cannot carry; percent-encode them")
    return query
