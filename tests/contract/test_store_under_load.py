"""The DynamoDB store when DynamoDB answers in parts, as it does for a busy table
(tests/support/throttled.py over DynamoDB Local): what a batch read or delete is left with is
asked again, with backoff, until nothing is left, and the documented 503 comes once DynamoDB
keeps leaving some; a Query or Scan is read to its last page, and a listing page DynamoDB ends
early names where the next one starts. And the listing's one-off Scan, when a connection it found
is disconnected before it is updated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from figma_auth.errors import SessionsLeft, TemporarilyUnavailable
from figma_auth.records import REAUTH_REQUIRED, Connection, RateLimit, Session
from figma_auth.records.completion import SignInWrite
from figma_auth.records.listing import ListedAt
from figma_auth.store import Store
from figma_auth.store.codec import unmarshal
from figma_auth.store.connections import CONNECTION
from figma_auth.store.sessions import session_item
from figma_auth.tokens import hash_secret
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, Table
from tests.support.throttled import busy

GRANT = SealedBox(b"key", b"nonce-twelve", b"ciphertext")
READ_PAUSES = [0.05, 0.1, 0.2, 0.4]  # a batch read's four tries, each followed by its pause
DELETE_PAUSES = [0.05, 0.1, 0.2, 0.4, 0.8, 1.0]  # a batch delete's six, doubling up to a second


def connection(user_id: str, minutes_old: int = 0) -> Connection:
    return Connection(
        user_id, ADA, ("current_user:read",), grant_box=GRANT, grant_expires_at=NOW + timedelta(hours=1),
        created_at=NOW - timedelta(minutes=minutes_old),
    )  # fmt: skip


def sessions(table: Table, user_id: str, n: int) -> list[str]:
    """``n`` sessions of ``user_id`` on the table; their ids."""
    made = [Session(hash_secret(f"{user_id}-{i}"), user_id, NOW, NOW + timedelta(days=30)) for i in range(n)]
    for s in made:
        table.client.put_item(TableName=table.name, Item=session_item(s))
    return [s.id for s in made]


def listing(store: Store, limit: int, status: str | None = None) -> list[list[str]]:
    """Each listing page's user ids, paging until the store names no next page (ten at most)."""
    pages: list[list[str]] = []
    after: ListedAt | None = None
    for _ in range(10):
        page = store.connection_page(limit=limit, after=after, status=status)
        pages.append([c.user_id for c in page.connections])
        if (after := page.after) is None:
            return pages
    raise AssertionError(f"the listing never ended: {pages}")


def test_a_session_is_read_with_its_connection_and_ledger_when_dynamodb_answers_one_key_a_call(table: Table) -> None:
    session = Session(hash_secret("token"), "42", NOW, NOW + timedelta(days=30))
    limit = RateLimit(1, "user", NOW + timedelta(days=3), type="low")
    assert table.store.sign_in(SignInWrite(session), connection("42"))
    assert table.store.record_rate_limit(connection("42"), limit, now=NOW)
    loaded = busy(table, per_batch=1)

    found, conn = loaded.store.session_with_connection(session.id, "42")

    assert found == session and conn is not None and conn.user_id == "42" and conn.rate_limits == (limit,)
    assert loaded.dynamodb.batches == [3, 2, 1]  # the session, the connection, its ledger: one a call
    assert loaded.pauses == READ_PAUSES[:2]


def test_a_page_whose_ledgers_dynamodb_answers_one_a_call_is_read_whole_within_four_tries(table: Table) -> None:
    for n in range(4):
        table.put_connection(connection(f"user-{n}", minutes_old=n))
    limit = RateLimit(1, "user", NOW + timedelta(days=3), type="low")
    assert table.store.record_rate_limit(connection("user-3"), limit, now=NOW)
    loaded = busy(table, per_batch=1)

    page = loaded.store.connection_page(limit=10, after=None, status=None)

    assert [(c.user_id, c.rate_limits) for c in page.connections] == [
        ("user-0", ()), ("user-1", ()), ("user-2", ()), ("user-3", (limit,)),
    ]  # fmt: skip
    assert loaded.dynamodb.batches == [4, 3, 2, 1] and loaded.pauses == READ_PAUSES[:3]


def test_a_read_dynamodb_keeps_leaving_keys_of_is_temporarily_unavailable_after_four_tries(table: Table) -> None:
    for n in range(5):
        table.put_connection(connection(f"user-{n}", minutes_old=n))
    loaded = busy(table, per_batch=1)

    with pytest.raises(TemporarilyUnavailable) as refused:
        loaded.store.connection_page(limit=10, after=None, status=None)

    assert (refused.value.status, refused.value.retry_after) == (503, 1)
    assert loaded.dynamodb.batches == [5, 4, 3, 2] and loaded.pauses == READ_PAUSES


def test_a_users_sessions_are_listed_whole_when_the_index_answers_two_a_page(table: Table) -> None:
    mine, theirs = sessions(table, "42", 5), sessions(table, "43", 1)
    loaded = busy(table, page=2)

    assert sorted(s.id for s in loaded.store.user_sessions("42")) == sorted(mine)
    assert [s.id for s in loaded.store.user_sessions("43")] == theirs


def test_sessions_are_deleted_25_a_batch_and_what_dynamodb_leaves_is_sent_again_with_backoff(table: Table) -> None:
    mine, theirs = sessions(table, "42", 60), sessions(table, "43", 1)
    loaded = busy(table, per_batch=10)

    loaded.store.delete_sessions(mine)

    assert table.store.user_sessions("42") == []
    assert [s.id for s in table.store.user_sessions("43")] == theirs
    assert loaded.dynamodb.batches == [25, 15, 5, 25, 15, 5, 10]  # what each BatchWriteItem asked
    assert loaded.pauses == [0.05, 0.1, 0.05, 0.1]  # each batch's backoff starts again


def test_sessions_dynamodb_keeps_leaving_are_left_after_six_tries_and_the_same_request_finishes(table: Table) -> None:
    mine = sessions(table, "42", 30)
    loaded = busy(table, per_batch=1)

    with pytest.raises(SessionsLeft) as refused:
        loaded.store.delete_sessions(mine)

    assert (refused.value.status, refused.value.retry_after) == (503, 1)
    assert loaded.pauses == DELETE_PAUSES  # the sixth, 1.6 s doubled, held to a second
    assert len(table.store.user_sessions("42")) == 30 - 6  # one a try, and the next 25 not started
    table.store.delete_sessions(mine)
    assert table.store.user_sessions("42") == []


def test_a_listing_page_dynamodb_ends_early_names_where_the_next_starts_and_lists_each_connection_once(
    table: Table,
) -> None:
    people = [connection(f"user-{n}", minutes_old=n) for n in range(5)]
    for conn in people:
        table.put_connection(conn)
    loaded = busy(table, page=2)  # DynamoDB's 1 MB, here two index items a page

    assert listing(loaded.store, limit=3) == [["user-0", "user-1"], ["user-2", "user-3"], ["user-4"]]
    assert listing(loaded.store, limit=3, status=REAUTH_REQUIRED) == [[], [], []]  # pages of none, until the end


def test_connections_written_before_the_listing_are_all_listed_when_the_scan_answers_one_item_a_page(
    table: Table,
) -> None:
    for n in range(5):
        table.put_connection(connection(f"user-{n}"))
    for n in range(3):
        table.client.update_item(
            TableName=table.name, Key=CONNECTION.key(f"user-{n}"), UpdateExpression="REMOVE listing"
        )
    loaded = busy(table, page=1)

    assert loaded.store.list_unlisted_connections(now=NOW) == 3
    assert loaded.store.list_unlisted_connections(now=NOW) == 0
    assert sorted(c.user_id for c in table.store.connection_page(limit=10, after=None, status=None).connections) == [
        f"user-{n}" for n in range(5)
    ]


@dataclass
class DisconnectedDuringTheScan:
    """DynamoDB Local, where each connection a Scan finds is disconnected (deleted) before its
    answer reaches the store: the listing's update comes after the delete."""

    client: Any

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def scan(self, **scan: Any) -> Any:
        answer = self.client.scan(**scan)
        for item in answer["Items"]:
            found = CONNECTION.key(CONNECTION.ident(unmarshal(item)["pk"]))
            self.client.delete_item(TableName=scan["TableName"], Key=found)
        return answer


def test_a_connection_disconnected_while_the_listing_runs_is_not_made_again(table: Table) -> None:
    table.put_connection(connection("gone"))
    table.client.update_item(TableName=table.name, Key=CONNECTION.key("gone"), UpdateExpression="REMOVE listing")
    client: Any = DisconnectedDuringTheScan(table.client)
    store = Store(table_name=table.name, client=client)

    assert store.list_unlisted_connections(now=NOW) == 0
    assert table.item(CONNECTION.key("gone")) is None
