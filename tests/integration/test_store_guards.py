"""The store's guards, on DynamoDB Local: the conditions of its conditional writes decide who
may take a login transaction and who may hold a refresh lease. The unit tests' fakes only
mirror these rules; here the real `Store` meets AWS's engine, so removing a condition fails a
test on every run (no timing decides the outcome: a refused write is refused every time)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from devstack import aws
from figma_auth.records import Connection, Profile, RateLimit
from figma_auth.records.signin import LoginTransaction
from figma_auth.store import Store
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, connection_item, ledger_item

NOW = datetime.now(UTC)
LEASE_MS = 20_000


def store_of(stack: Stack) -> Store:
    return Store(table_name=stack.table.name, client=aws.client("dynamodb", stack.table.endpoint))


def transaction(binding: str) -> LoginTransaction:
    return LoginTransaction(
        state_hash="state-hash", binding=binding, success_url="", failure_url="", redirect_uri="https://api/cb",
        scopes=("current_user:read",), mode="cookie", pkce=False, app_challenge=None,
        expires_at=NOW + timedelta(minutes=10), urls_hash="urls-hash",
    )  # fmt: skip


@pytest.fixture
def user_id(stack: Stack) -> str:
    """A signed-in user: a connection with an active grant, no lease."""
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)
    return str(browser.get(f"{stack.api}/auth/session").json()["user"]["id"])


def test_a_login_transaction_is_not_taken_with_another_browsers_binding_and_stays_for_its_owner(stack: Stack):
    store = store_of(stack)
    store.put_transaction(transaction("the-owners-binding"))

    assert store.take_transaction("state-hash", "the-attackers-binding", NOW) is None
    assert stack.table.kinds()["TX"] == 1  # left for its owner, not consumed
    taken = store.take_transaction("state-hash", "the-owners-binding", NOW)
    assert taken is not None and taken.binding == "the-owners-binding" and taken.redirect_uri == "https://api/cb"
    assert store.take_transaction("state-hash", "the-owners-binding", NOW) is None  # once
    assert stack.table.kinds()["TX"] == 0


def test_a_refresh_lease_is_refused_to_a_second_taker_until_it_ends(stack: Stack, user_id: str):
    store = store_of(stack)
    version = store.get_connection(user_id).version  # type: ignore[union-attr]
    now_ms = int(NOW.timestamp() * 1000)

    first = store.acquire_lease(user_id, version=version, owner="first", now_ms=now_ms, lease_ms=LEASE_MS)
    second = store.acquire_lease(user_id, version=version, owner="second", now_ms=now_ms + 1, lease_ms=LEASE_MS)
    at_its_end = store.acquire_lease(
        user_id, version=version, owner="second", now_ms=now_ms + LEASE_MS, lease_ms=LEASE_MS
    )

    assert (first, second, at_its_end) == (True, False, False)
    assert connection_item(stack.table, user_id)["lease_owner"] == {"S": "first"}  # type: ignore[index]
    after = store.acquire_lease(
        user_id, version=version, owner="second", now_ms=now_ms + LEASE_MS + 1, lease_ms=LEASE_MS
    )
    assert after is True  # a crashed holder's lease is taken over once it has ended
    assert connection_item(stack.table, user_id)["lease_owner"] == {"S": "second"}  # type: ignore[index]


def test_of_eight_takers_at_the_same_instant_exactly_one_holds_the_refresh_lease(stack: Stack, user_id: str):
    version = store_of(stack).get_connection(user_id).version  # type: ignore[union-attr]
    now_ms = int(NOW.timestamp() * 1000)
    takers = 8
    start = threading.Barrier(takers)
    won: dict[str, bool] = {}

    def take(owner: str) -> None:
        store = store_of(stack)  # a client per thread, as each container has its own
        start.wait(timeout=30)
        won[owner] = store.acquire_lease(user_id, version=version, owner=owner, now_ms=now_ms, lease_ms=LEASE_MS)

    threads = [threading.Thread(target=take, args=(f"taker-{i}",)) for i in range(takers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(won) == takers
    holders = [owner for owner, held in won.items() if held]
    assert len(holders) == 1
    assert connection_item(stack.table, user_id)["lease_owner"] == {"S": holders[0]}  # type: ignore[index]


def test_one_reader_at_a_time_claims_a_file_versions_read_from_figma(stack: Stack) -> None:
    store = store_of(stack)
    until = NOW + timedelta(seconds=10)

    def claim(version: str, now: datetime = NOW) -> bool:
        return store.claim_fill("KEY", "request-hash", version, now=now, until=until)

    assert claim("101") is True
    assert claim("101") is False  # another reader of the same version waits for the first
    assert claim("102") is True  # a newer version is another read
    assert claim("102", now=until + timedelta(seconds=1)) is True  # a claim past its time is taken over
    assert store.claim_fill("OTHER", "request-hash", "101", now=NOW, until=until) is True


def test_a_cached_read_is_never_replaced_by_an_older_version(stack: Stack) -> None:
    from figma_auth.records.file_cache import CachedRead

    store = store_of(stack)
    newer = CachedRead("KEY", "req", "102", NOW, "application/json", "gzip", 10, "files/KEY/102/req")
    older = CachedRead("KEY", "req", "101", NOW, "application/json", "gzip", 10, "files/KEY/101/req")
    ttl = NOW + timedelta(days=7)

    assert store.save_cached_read(newer, ttl=ttl) is True
    assert store.save_cached_read(older, ttl=ttl) is False  # a slow reader of the old version came last
    found = store.cached_read("KEY", "req", now=NOW)
    assert found is not None and found.version == "102"
    assert store.forget_file("KEY") == ["files/KEY/102/req"] and store.cached_read("KEY", "req", now=NOW) is None


def test_the_ledgers_ttl_only_moves_later_even_when_a_writer_did_not_read_the_longest_entry(stack: Stack):
    store = store_of(stack)
    blank = Connection("1143925780461227139", Profile("Ada", "ada@example.com", ""), ())  # its ledger read as empty
    seat = RateLimit(1, "user", NOW + timedelta(days=20), type="low")
    burst = RateLimit(3, "user", NOW + timedelta(seconds=30), type="high")
    later = RateLimit(2, "user", NOW + timedelta(days=30), type="low")

    assert store.record_rate_limit(blank, seat, now=NOW)
    assert store.record_rate_limit(blank, burst, now=NOW)  # a writer that read no ledger: ttl stays at the seat's end
    after_burst = ledger_item(stack.table, blank.user_id)
    assert store.record_rate_limit(blank, later, now=NOW)

    assert after_burst is not None and int(after_burst["ttl"]["N"]) == int(seat.until.timestamp()) + 1
    assert int(ledger_item(stack.table, blank.user_id)["ttl"]["N"]) == int(later.until.timestamp()) + 1  # type: ignore[index]
    assert not store.record_rate_limit(blank, burst, now=NOW)  # still in force: recorded once
    entries = {name for name in ledger_item(stack.table, blank.user_id) or {} if name.startswith("rl#")}
    assert entries == {"rl#1#user", "rl#2#user", "rl#3#user"}
