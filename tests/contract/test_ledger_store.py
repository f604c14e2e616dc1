"""The rate-limit ledger at its edges, on DynamoDB Local (the DynamoDB store alone: the fakes keep
no cap and no ttl): at most MAX_RATE_LIMITS entries, the ones ending soonest dropped first;
entries that ended removed by the next write; the ledger's ttl its latest entry's end (DynamoDB
deletes it once nothing in it holds), never moved earlier."""

from __future__ import annotations

from datetime import datetime, timedelta

from figma_auth.records import Connection, RateLimit
from figma_auth.store.connections import MAX_RATE_LIMITS, ledger_key
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, Table

USER = "42"
CONN = Connection(
    USER, ADA, ("current_user:read",), grant_box=SealedBox(b"key", b"nonce-twelve", b"ciphertext"),
    grant_expires_at=NOW + timedelta(hours=1),
)  # fmt: skip


def record(table: Table, limit: RateLimit, now: datetime = NOW) -> bool:
    """Record ``limit`` as the ledger does: with the connection as just read."""
    read = table.store.get_connection(USER)
    assert read is not None
    return table.store.record_rate_limit(read, limit, now=now)


def entries(table: Table) -> set[RateLimit]:
    read = table.store.get_connection(USER)
    assert read is not None
    return set(read.rate_limits)


def ledger_ttl(table: Table) -> int:
    stored = table.item(ledger_key(USER))
    assert stored is not None
    return int(stored["ttl"])


def test_the_ledger_keeps_at_most_its_cap_of_entries_dropping_those_that_end_soonest(table: Table) -> None:
    table.put_connection(CONN)
    # One file's limit each, ending a minute apart; the soonest-ending has the name that sorts last.
    files = [
        RateLimit(1, f"file:{MAX_RATE_LIMITS - n:02}", NOW + timedelta(minutes=n + 1)) for n in range(MAX_RATE_LIMITS)
    ]
    for limit in files:
        assert record(table, limit)
    assert entries(table) == set(files)  # as many as the cap

    user = RateLimit(1, "user", NOW + timedelta(days=1), type="low")
    assert record(table, user)

    assert entries(table) == {*files[1:], user}  # the cap held: the one ending soonest went


def test_entries_that_ended_go_with_the_next_write_and_live_ones_stay(table: Table) -> None:
    table.put_connection(CONN)
    ended = RateLimit(1, "file:a", NOW + timedelta(minutes=1))
    ending_now = RateLimit(1, "file:b", NOW + timedelta(minutes=2))
    live = RateLimit(1, "file:c", NOW + timedelta(days=1))
    for limit in (ended, ending_now, live):
        assert record(table, limit)

    user = RateLimit(1, "user", NOW + timedelta(hours=1))
    assert record(table, user, now=ending_now.until)

    assert entries(table) == {live, user}


def test_the_ledgers_ttl_is_its_latest_entrys_end_and_never_moves_earlier(table: Table) -> None:
    table.put_connection(CONN)
    long = RateLimit(1, "user", NOW + timedelta(days=3), type="low")
    assert record(table, long)
    assert ledger_ttl(table) == int(long.until.timestamp()) + 1

    burst = RateLimit(3, "user", NOW + timedelta(seconds=30), type="high")
    assert record(table, burst)
    assert ledger_ttl(table) == int(long.until.timestamp()) + 1

    # A writer that read the connection before the long entry was recorded: its entry is kept,
    # and the ledger's ttl stays the long entry's.
    file = RateLimit(1, "file:abc", NOW + timedelta(minutes=5))
    assert table.store.record_rate_limit(CONN, file, now=NOW)
    assert entries(table) == {long, burst, file}
    assert ledger_ttl(table) == int(long.until.timestamp()) + 1
