"""The backend's listing of connections, the fake (Listing) against the DynamoDB store: newest
first, each connection once across pages, a status filter, the place a page ends, and (DynamoDB)
each connection's ledger read with it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from figma_auth.records import REAUTH_REQUIRED, Connection, RateLimit
from figma_auth.records.listing import ListedAt
from figma_auth.usecases.connection_list import ListingStore
from figma_auth.vault import SealedBox
from tests.support import fakes
from tests.support.contract import ADA, NOW, Table, real

BOX = SealedBox(b"key", b"nonce-twelve", b"ciphertext")
PEOPLE = [
    Connection(
        f"{10**18 + i}",
        ADA,
        ("current_user:read",),
        grant_box=BOX,
        grant_expires_at=NOW + timedelta(hours=1),
        created_at=NOW - timedelta(minutes=i),
    )  # fmt: skip
    for i in range(7)
]
DEAD = {PEOPLE[1].user_id, PEOPLE[4].user_id, PEOPLE[5].user_id}


@dataclass
class World:
    store: ListingStore

    def every(self, limit: int, status: str | None = None) -> list[list[str]]:
        """Each page's user ids, paging until the store names no next page (a page per
        connection at most, and one more: a listing that starts over fails here)."""
        pages: list[list[str]] = []
        after: ListedAt | None = None
        for _ in range(len(PEOPLE) + 1):
            page = self.store.connection_page(limit=limit, after=after, status=status)
            pages.append([c.user_id for c in page.connections])
            if (after := page.after) is None:
                return pages
        raise AssertionError(f"the listing never ended: {pages}")


@pytest.fixture
def world(backend: str, request: pytest.FixtureRequest) -> World:
    people = [replace(c, status=REAUTH_REQUIRED) if c.user_id in DEAD else c for c in PEOPLE]
    if backend == "fake":
        return World(fakes.Listing(list(people)))
    table = real(request)
    for conn in PEOPLE:
        table.put_connection(conn)
        if conn.user_id in DEAD:
            assert table.store.acquire_lease(conn.user_id, version=1, owner="o", now_ms=0, lease_ms=1)
            assert table.store.mark_reauth_required(conn.user_id, owner="o")
    return World(table.store)


def test_every_connection_is_listed_once_newest_first_a_page_at_a_time(world: World) -> None:
    pages = world.every(limit=3)

    assert [user for page in pages for user in page] == [c.user_id for c in PEOPLE]
    assert [len(page) for page in pages] == [3, 3, 1]


def test_a_page_of_exactly_the_rest_names_no_next_page(world: World) -> None:
    assert world.every(limit=7) == [[c.user_id for c in PEOPLE]]
    assert [len(page) for page in world.every(limit=1)] == [1] * 7


@pytest.mark.parametrize("status", [REAUTH_REQUIRED, "active"])
def test_a_status_lists_only_its_connections_newest_first(world: World, status: str) -> None:
    wanted = [c.user_id for c in PEOPLE if (c.user_id in DEAD) == (status == REAUTH_REQUIRED)]
    # A filtered page reads up to FILTERED_READ index items: on this small table, every match.
    assert world.every(limit=2, status=status) == [wanted[:2], wanted[2:]]


def test_the_listed_connections_carry_what_the_view_shows(world: World) -> None:
    page = world.store.connection_page(limit=2, after=None, status=None)
    newest = page.connections[0]
    assert (newest.user_id, newest.profile, newest.scopes, newest.created_at) == (
        PEOPLE[0].user_id,
        ADA,
        ("current_user:read",),
        NOW,
    )
    assert page.connections[1].status == REAUTH_REQUIRED and page.after is not None
    assert page.after.user_id == PEOPLE[1].user_id


def test_dynamodb_reads_each_listed_users_ledger_with_the_page(table: Table) -> None:
    """The DynamoDB store's own read (the fake's connections carry their entries as given)."""
    for conn in PEOPLE[:3]:
        table.put_connection(conn)
    limit = RateLimit(1, "user", NOW + timedelta(days=3), type="low")
    assert table.store.record_rate_limit(PEOPLE[1], limit, now=NOW)
    assert table.store.record_rate_limit(PEOPLE[5], limit, now=NOW)  # a ledger without a connection: not listed

    page = table.store.connection_page(limit=10, after=None, status=None)

    assert [c.rate_limits for c in page.connections] == [(), (limit,), ()] and page.after is None
