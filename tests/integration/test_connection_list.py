"""GET /connections (AWS_IAM): the backend's list of connections, a page at a time, newest first;
one Query of an index of connections only per page (never the sessions), signed cursors, the
status filter, each connection's rate limits, and the Python helper that iterates it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devstack.figma_emulator import USERS
from devstack.hooks import AwsCalls
from devstack.seed import PLACEHOLDER
from figma_auth import cursors
from figma_auth.records import REAUTH_REQUIRED, Connection, Profile, Session
from figma_auth.store.connections import connection_item
from figma_auth.store.sessions import session_item
from tests.support.backend_client import FigmaAuthError, backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, update_connection

ADA = USERS["ada"]["id"]
NOW = datetime.now(UTC).replace(microsecond=0)


def put_connections(stack: Stack, count: int, *, sessions: int = 0) -> list[str]:
    """``count`` connections (the newest first in the list returned), each a minute older than the
    one before, with ``sessions`` sessions each, written as sign-ins leave them."""
    items: list[dict[str, Any]] = []
    ids = [f"{7 * 10**17 + i}" for i in range(count)]
    for i, user_id in enumerate(ids):
        made = NOW - timedelta(minutes=i)
        conn = Connection(
            user_id, Profile(f"user{i}", f"user{i}@example.com", ""), ("current_user:read",), grant_box=PLACEHOLDER,
            grant_expires_at=NOW + timedelta(days=1), signed_in_ms=int(made.timestamp() * 1000), created_at=made,
        )  # fmt: skip
        items.append(connection_item(conn, ttl=NOW + timedelta(days=30)))
        items += [session_item(Session(f"s{i}-{n}", user_id, made, NOW + timedelta(days=30))) for n in range(sessions)]
    for start in range(0, len(items), 25):
        pending: Any = {stack.table.name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        while pending:
            pending = stack.table.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return ids


def listed(stack: Stack, **params: Any) -> httpx.Response:
    """GET /connections signed as the app's backend, the answer as it came."""
    return backend(stack)._send("GET", "/connections", params=params)


def test_250_connections_in_pages_of_100_are_each_listed_once_newest_first_in_3_queries(stack: Stack):
    ids = put_connections(stack, 250, sessions=2)  # 500 sessions beside them: never read
    counter = AwsCalls()

    pages = []
    cursor = None
    while True:
        page = backend(stack).connections_page(limit=100, cursor=cursor)
        pages.append(page)
        if (cursor := page["next"]) is None:
            break

    listed_ids = [c["user"]["id"] for page in pages for c in page["connections"]]
    assert [len(page["connections"]) for page in pages] == [100, 100, 50]
    assert listed_ids == ids  # each once, newest first
    calls = counter.by_function["BackendFunction"]
    assert calls["dynamodb:Query"] == 3 and calls["dynamodb:Scan"] == 0
    assert calls["dynamodb:BatchGetItem"] == 3  # each page's rate-limit ledgers
    print(f"250 connections, pages of 100: {dict(calls)}")


def test_the_python_helper_iterates_every_connection_and_a_page_holds_the_contracts_shape(stack: Stack):
    ids = put_connections(stack, 7)

    every = list(backend(stack).connections(page_size=3))
    first = backend(stack).connections_page()  # the default limit (50): one page

    assert [c["user"]["id"] for c in every] == ids
    assert first["next"] is None and len(first["connections"]) == 7
    one = first["connections"][0]
    assert set(one) == {"user", "status", "scopes", "created_at", "rate_limits"}
    assert one["user"] == {"id": ids[0], "handle": "user0", "email": "user0@example.com", "img_url": ""}
    assert (one["status"], one["scopes"], one["rate_limits"]) == ("active", ["current_user:read"], [])
    assert one["created_at"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_status_reauth_required_lists_only_the_dead_grants_and_its_cursor_keeps_the_filter(stack: Stack):
    alive = put_connections(stack, 4)
    dead = [f"{9 * 10**17 + i}" for i in range(3)]
    for user_id in dead:
        put_one(stack, user_id, status=REAUTH_REQUIRED)

    pages = [backend(stack).connections_page(limit=2, status="reauth_required")]
    while pages[-1]["next"] is not None:
        pages.append(backend(stack).connections_page(limit=2, cursor=pages[-1]["next"], status="reauth_required"))

    found = [c for page in pages for c in page["connections"]]
    assert sorted(c["user"]["id"] for c in found) == sorted(dead) and {c["status"] for c in found} == {REAUTH_REQUIRED}
    everyone = list(backend(stack).connections())
    assert len(everyone) == 7 and {c["user"]["id"] for c in everyone} == {*alive, *dead}
    active = [c["user"]["id"] for c in backend(stack).connections(status="active")]
    assert active == alive
    with pytest.raises(FigmaAuthError) as other_filter:  # a filtered listing's cursor, used without the filter
        backend(stack).connections_page(cursor=backend(stack).connections_page(limit=1, status="active")["next"])
    assert (other_filter.value.status, other_filter.value.error) == (400, "invalid_request")


def put_one(stack: Stack, user_id: str, *, status: str) -> None:
    conn = Connection(
        user_id, Profile("dead", "dead@example.com", ""), ("current_user:read",), grant_box=PLACEHOLDER,
        grant_expires_at=NOW + timedelta(days=1), signed_in_ms=int(NOW.timestamp() * 1000), created_at=NOW,
    )  # fmt: skip
    stack.table.client.put_item(TableName=stack.table.name, Item=connection_item(conn, ttl=None))
    update_connection(stack.table, user_id, "SET grant_status = :r", {":r": {"S": status}})


def tampered(cursor: str) -> str:
    payload, _, tag = cursor.partition(".")
    fields = cursors.opened(cursor, b"") or {}  # unreadable without the key: edit the payload blind
    assert fields == {}
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return f"{flipped}.{tag}"


@pytest.mark.parametrize(
    "make",
    [
        tampered,
        lambda c: c.partition(".")[0] + "." + "A" * 22,  # a tag made up
        lambda c: c.partition(".")[0],  # the tag left off
        lambda c: cursors.seal({"c": "2999-01-01T00:00:00Z", "u": "1", "s": ""}, cursors.cursor_key("x", "other")),
        lambda c: "not a cursor",
        lambda c: c + "x" * 600,
    ],
    ids=["edited", "made-up-tag", "no-tag", "another-stacks", "garbage", "too-long"],
)
def test_a_forged_or_foreign_cursor_is_invalid_request_never_a_500(stack: Stack, make: Any):
    put_connections(stack, 3)
    cursor = backend(stack).connections_page(limit=1)["next"]
    assert cursor is not None

    answer = listed(stack, cursor=make(cursor))

    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text
    assert set(answer.json()) == {"error", "message"} and "cursor" in answer.json()["message"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"status": "revoked"}, {"cursor": ""}]
)
def test_bad_parameters_are_invalid_request(stack: Stack, params: dict[str, Any]):
    answer = listed(stack, **params)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request", answer.text


def test_an_unsigned_or_badly_signed_listing_is_api_gateways_403(stack: Stack):
    unsigned = httpx.get(f"{stack.api}/connections")
    forged = httpx.get(
        f"{stack.api}/connections",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/execute-api/aws4_request, "
                 "SignedHeaders=host, Signature=" + "0" * 64},
    )  # fmt: skip
    assert (unsigned.status_code, unsigned.json()) == (403, {"message": "Forbidden"})
    assert forged.status_code == 403


def test_a_signed_in_user_is_listed_with_their_rate_limits_until_disconnected(stack: Stack):
    stack.emulator.limits(seats={"ada": "view"})  # Tier 3: ten a minute
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api).status_code == 303
    assert [browser.get(f"{stack.api}/figma/v1/me").status_code for _ in range(11)][-1] == 429

    (ada,) = list(backend(stack).connections())

    assert ada["user"]["id"] == ADA and ada["status"] == "active"
    assert [(e["tier"], e["scope"], e["type"]) for e in ada["rate_limits"]] == [(3, "user", "low")]
    backend(stack).disconnect(ADA)
    assert list(backend(stack).connections()) == []  # the ledger outlives the connection, but lists nobody


def test_a_warm_read_of_one_connection_gets_it_and_its_ledger_in_one_batch_get(stack: Stack):
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api).status_code == 303
    backend(stack).connection(ADA)  # warm: the grant's data key cached
    counter = AwsCalls()

    backend(stack).connection(ADA)

    assert dict(counter.by_function["BackendFunction"]) == {"dynamodb:BatchGetItem": 1}
