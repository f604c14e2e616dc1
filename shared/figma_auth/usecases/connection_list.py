"""The backend's list of connections (``GET /connections``, AWS IAM; Nango's list of connections):
a nightly job walks its users without keeping its own registry.

Newest first (by the connection's ``created_at``, to the second; connections made in the same
second come in an order DynamoDB keeps from page to page); a page is one Query of an index
that holds connections only (never a scan, never the sessions) and one BatchGetItem of their
rate-limit ledgers. ``next`` is an opaque cursor (figma_auth.cursors) naming where the page ended
and the filter it was made for: an edited one, another stack's, or one used with another
``status`` is ``400 invalid_request``. A connection made while a job pages is ahead of its cursor
(it is not listed then); one deleted is simply gone; the rest are listed once each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from figma_auth import cursors
from figma_auth.errors import InvalidRequest
from figma_auth.models.connections import ConnectionList, ConnectionListQuery
from figma_auth.records.listing import ConnectionsPage, ListedAt
from figma_auth.usecases.views import listed_view

BAD_CURSOR = (
    "cursor: not one this API gave for this listing: pass the `next` of the page before, unchanged, "
    "with the same status"
)


class ListingStore(Protocol):
    def connection_page(self, *, limit: int, after: ListedAt | None, status: str | None) -> ConnectionsPage: ...


class ListConnections:
    """GET /connections: one page, and the cursor of the next."""

    def __init__(self, *, store: ListingStore, key: Callable[[], bytes], clock: Callable[[], datetime]) -> None:
        self.store, self.key, self.clock = store, key, clock

    def page(self, query: ConnectionListQuery) -> ConnectionList:
        status = query.status or ""
        after = self._opened(query.cursor, status) if query.cursor is not None else None
        found = self.store.connection_page(limit=query.limit, after=after, status=query.status)
        now = self.clock()
        return ConnectionList(
            connections=[listed_view(conn, now) for conn in found.connections],
            next=self._sealed(found.after, status) if found.after is not None else None,
        )

    def _sealed(self, after: ListedAt, status: str) -> str:
        return cursors.seal({"c": after.created_at, "u": after.user_id, "s": status}, self.key())

    def _opened(self, cursor: str, status: str) -> ListedAt:
        fields = cursors.opened(cursor, self.key())
        if fields is None or fields.keys() != {"c", "u", "s"} or fields["s"] != status:
            raise InvalidRequest(BAD_CURSOR)
        return ListedAt(fields["c"], fields["u"])
