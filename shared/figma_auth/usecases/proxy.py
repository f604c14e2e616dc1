"""Call Figma's REST API with a user's token: as the session's user (ANY /figma/{proxy+}) or,
for the app's backend, as any user (ANY /connections/{user_id}/figma/{proxy+}).

The Figma path is decided and checked here, once: only ``v1/…``/``v2/…`` with plain segments,
never Figma's OAuth endpoints. The token is refreshed first when it expires within the leeway,
and once more (at most every 30 s per connection) when Figma calls it invalid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from figma_auth.credentials import Credentials
from figma_auth.errors import FigmaUnavailable, InvalidPath, InvalidRequest, ReauthRequired
from figma_auth.figma import ProxyResponse, is_invalid_token
from figma_auth.observability import metrics_count
from figma_auth.records import ACTIVE, Connection, Current
from figma_auth.usecases.connections import ConnectionReader, connection_of
from figma_auth.usecases.rate_limits import RateLimitLedger
from figma_auth.usecases.views import FreshGrants

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


class Forwarder(Protocol):
    def forward(
        self, target: str, *, method: str, token: str, body: bytes | None, content_type: str | None
    ) -> ProxyResponse: ...


class FigmaProxy:
    def __init__(
        self,
        *,
        store: ConnectionReader,
        authenticate: Callable[[Credentials], Current],
        engine: FreshGrants,
        figma: Forwarder,
        ledger: RateLimitLedger,
        clock: Callable[[], datetime],
        leeway_seconds: int,
    ) -> None:
        self.store, self.authenticate, self.engine, self.figma = store, authenticate, engine, figma
        self.ledger, self.clock, self.leeway_seconds = ledger, clock, leeway_seconds

    def as_session(self, creds: Credentials, call: ProxyCall) -> ProxyResponse:
        """ANY /figma/{path}: with the session user's token."""
        target = figma_target(call.raw_path, call.query, after=1, method=call.method)
        return self._call(self.authenticate(creds).connection, target, call)

    def as_user(self, user_id: str, call: ProxyCall) -> ProxyResponse:
        """ANY /connections/{user_id}/figma/{path} (backend): the same call, as that user."""
        target = figma_target(call.raw_path, call.query, after=3, method=call.method)
        return self._call(connection_of(self.store, user_id), target, call)

    def _call(self, conn: Connection, target: str, call: ProxyCall) -> ProxyResponse:
        """Call ``target`` with the connection's token (refreshed first when expiring; refreshed
        once more and retried once if Figma calls it invalid). A call Figma's remembered rate
        limit covers is refused before anything else (rate_limited: no refresh, no Figma)."""
        if conn.status != ACTIVE:
            raise ReauthRequired()
        tiered = self.ledger.check(conn, call.method, target)
        fresh = self.engine.fresh(conn, self.leeway_seconds)

        def send(token: str) -> ProxyResponse:
            return self.figma.forward(
                target, method=call.method, token=token, body=call.body, content_type=call.content_type
            )

        answer = send(fresh.grant.access_token)
        obtained = fresh.connection.grant_obtained_at
        if is_invalid_token(answer) and (obtained is None or self.clock() - obtained >= FORCED_REFRESH_SPACING):
            # Figma calls the token invalid: renew it once and try again, at most once per
            # connection per 30 s (a client cannot spend the app's refresh budget). A dead grant
            # shows as the refresh's own answer (reauth_required); a second "invalid" is
            # Figma's answer, passed on.
            metrics_count("ProxyRefreshOnInvalidToken")
            answer = send(self.engine.fresh(fresh.connection, None, force=True).grant.access_token)
        self.ledger.remember(fresh.connection, tiered, answer)  # a 429: passed back as it came, and recorded
        if answer.status >= 500:
            raise FigmaUnavailable(f"Figma answered HTTP {answer.status}", status=502)
        metrics_count(f"ProxyCalls{answer.status // 100}xx")
        return answer


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
