"""The backend's listing without a stack: the cursors (sealed under the stack's key, refused when
edited, foreign or for another filter) and the page it answers (the listed view, the next cursor)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from figma_auth import cursors
from figma_auth.errors import InvalidRequest
from figma_auth.models.connections import ConnectionListQuery
from figma_auth.records import REAUTH_REQUIRED, Connection, Profile, RateLimit
from figma_auth.tokens import b64url
from figma_auth.usecases.connection_list import ListConnections
from tests.support.fakes import Listing

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = cursors.cursor_key("the-client-secret", "figma-auth-prod")
PEOPLE = [
    Connection(f"{10**18 + i}", Profile(f"u{i}", f"u{i}@example.com", ""), ("current_user:read",),
               created_at=NOW - timedelta(hours=i))
    for i in range(5)
]  # fmt: skip


def listing(*people: Connection) -> tuple[ListConnections, Listing]:
    store = Listing(list(people or PEOPLE))
    return ListConnections(store=store, key=lambda: KEY, clock=lambda: NOW), store


def test_a_cursor_opens_under_its_key_only_and_never_when_edited() -> None:
    sealed = cursors.seal({"c": "2026-12-01T12:00:00Z", "u": "42", "s": ""}, KEY)
    payload, _, tag = sealed.partition(".")

    assert cursors.opened(sealed, KEY) == {"c": "2026-12-01T12:00:00Z", "u": "42", "s": ""}
    assert (
        cursors.opened(sealed, cursors.cursor_key("the-client-secret", "figma-auth-staging")) is None
    )  # another stack
    assert cursors.opened(sealed, cursors.cursor_key("a-rotated-secret", "figma-auth-prod")) is None
    assert cursors.opened(payload + "." + tag[:-1], KEY) is None
    assert cursors.opened(payload[:-1] + "." + tag, KEY) is None
    assert cursors.opened(payload, KEY) is None
    assert cursors.opened(sealed + "é", KEY) is None
    assert "42" not in sealed and len(sealed) < 120  # opaque to the eye, and short


@pytest.mark.parametrize("fields", ['["c", "u"]', '{"c": 1}', "not json"])
def test_a_cursor_whose_signed_payload_is_not_an_object_of_strings_opens_as_none(fields: str) -> None:
    payload = b64url(fields.encode())
    forged_with_the_key = f"{payload}.{cursors._tag(payload, KEY)}"  # as if the key had leaked: still no crash
    assert cursors.opened(forged_with_the_key, KEY) is None


def test_pages_follow_each_other_through_the_cursor_until_next_is_null() -> None:
    use, store = listing()
    first = use.page(ConnectionListQuery(limit=2))
    second = use.page(ConnectionListQuery(limit=2, cursor=first.next))
    third = use.page(ConnectionListQuery(limit=2, cursor=second.next))

    ids = [c.user.id for page in (first, second, third) for c in page.connections]
    assert ids == [c.user_id for c in PEOPLE] and third.next is None and store.pages == 3
    assert first.next is not None and cursors.opened(first.next, KEY) == {
        "c": "2026-12-01T11:00:00Z",
        "u": PEOPLE[1].user_id,
        "s": "",
    }


def test_the_listed_view_shows_the_stored_status_and_only_the_limits_in_force() -> None:
    limits = (RateLimit(1, "user", NOW + timedelta(days=2), type="low"), RateLimit(3, "user", NOW))
    dead = replace(PEOPLE[0], status=REAUTH_REQUIRED, rate_limits=limits)
    use, _ = listing(dead)

    (shown,) = use.page(ConnectionListQuery()).connections

    assert (shown.status, shown.scopes, shown.created_at) == (
        "reauth_required",
        ["current_user:read"],
        "2026-12-01T12:00:00Z",
    )
    assert [(r.tier, r.type) for r in shown.rate_limits] == [(1, "low")]  # the one ended at this instant is not
    assert (shown.user.id, shown.user.handle, shown.user.email) == (dead.user_id, "u0", "u0@example.com")


def test_a_status_filter_travels_in_its_cursor_and_another_status_refuses_it() -> None:
    people = [replace(c, status=REAUTH_REQUIRED) if i % 2 else c for i, c in enumerate(PEOPLE)]
    use, _ = listing(*people)
    first = use.page(ConnectionListQuery(limit=1, status="reauth_required"))
    assert first.next is not None

    rest = use.page(ConnectionListQuery(cursor=first.next, status="reauth_required"))

    assert [c.user.id for c in (*first.connections, *rest.connections)] == [PEOPLE[1].user_id, PEOPLE[3].user_id]
    for other in (None, "active"):
        with pytest.raises(InvalidRequest) as refused:
            use.page(ConnectionListQuery(cursor=first.next, status=other))
        assert refused.value.message.startswith("cursor: ")


@pytest.mark.parametrize(
    "fields",
    [{"c": "2026-12-01T12:00:00Z", "u": "1"}, {"c": "x", "u": "1", "s": "", "x": ""}, {"s": ""}],
)
def test_a_signed_cursor_of_another_shape_is_refused_before_the_store_is_asked(fields: dict[str, str]) -> None:
    use, store = listing()
    with pytest.raises(InvalidRequest):
        use.page(ConnectionListQuery(cursor=cursors.seal(fields, KEY)))
    assert store.pages == 0


def test_the_query_takes_a_limit_of_1_to_100_defaulting_to_50_and_two_statuses() -> None:
    from pydantic import ValidationError

    assert ConnectionListQuery().limit == 50
    assert ConnectionListQuery(limit=100).limit == 100
    for bad in ({"limit": 0}, {"limit": 101}, {"status": "revoked"}, {"cursor": ""}, {"cursor": "x" * 513}):
        with pytest.raises(ValidationError):
            ConnectionListQuery.model_validate(bad)
