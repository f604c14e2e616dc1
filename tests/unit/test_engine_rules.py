"""The refresh engine's exact rules, each at its boundary: when a grant is valid enough, young
enough or leased, how long a caller waits for a peer and how its pauses grow, what a refresh
stores and returns (a narrower grant narrows the connection), whose connection each store call
names, and what it counts (test_engine.py tells the stories; this file pins the numbers)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from figma_auth.engine import JUST_REFRESHED, LEASE_MS, Fresh, RefreshEngine
from figma_auth.errors import FigmaUnavailable, GrantUnreadable, ReauthRequired, Unauthorized
from figma_auth.oauth import FigmaGrant
from figma_auth.records import REAUTH_REQUIRED, Connection
from figma_auth.vault import SealedBox, grant_context
from tests.support.engines import FakeFigma, FakeVault, engine_over, world
from tests.support.fakes import START, Clock, FakeStore

USER = "42"


class StrictStore(FakeStore):
    """FakeStore that answers only for its own user: a call naming anyone else finds nothing."""

    def __init__(self, conn: Connection, clock: Clock) -> None:
        super().__init__(conn, clock)
        self.named: list[str] = []

    def _mine(self, user_id: str) -> bool:
        self.named.append(user_id)
        return user_id == USER

    def get_connection(self, user_id: str) -> Connection | None:
        return super().get_connection(user_id) if self._mine(user_id) else None

    def acquire_lease(self, user_id: str, *, version: int, owner: str, now_ms: int, lease_ms: int) -> bool:
        assert owner and len(owner) == 16, owner  # a random owner per attempt (12 bytes, base64url)
        return self._mine(user_id) and super().acquire_lease(
            user_id, version=version, owner=owner, now_ms=now_ms, lease_ms=lease_ms
        )

    def save_refreshed_grant(self, conn: Connection, **kwargs: Any) -> bool:
        self.saved_with = kwargs
        return self._mine(conn.user_id) and super().save_refreshed_grant(conn, **kwargs)

    def release_lease(self, user_id: str, *, owner: str) -> None:
        if self._mine(user_id):
            super().release_lease(user_id, owner=owner)

    def mark_reauth_required(self, user_id: str, *, owner: str) -> bool:
        return self._mine(user_id) and super().mark_reauth_required(user_id, owner=owner)


class ContextVault(FakeVault):
    """FakeVault that opens and reseals only under the grant's own encryption context."""

    def open(self, box: SealedBox, context: dict[str, str]) -> dict[str, str]:
        assert context == grant_context(USER), context
        return super().open(box, context)

    def reseal(self, previous: SealedBox, plaintext: dict[str, str], context: dict[str, str]) -> SealedBox:
        assert context == grant_context(USER), context
        return super().reseal(previous, plaintext, context)


class NarrowingFigma(FakeFigma):
    def __init__(self, clock: Clock, scopes: tuple[str, ...]) -> None:
        super().__init__(clock)
        self.scopes = scopes

    def refresh(self, grant: FigmaGrant, *, now: Any) -> FigmaGrant:
        return replace(super().refresh(grant, now=now), scopes=self.scopes)


def strict(
    expires_in: timedelta = timedelta(minutes=2),
    scopes: tuple[str, ...] = ("current_user:read",),
    figma_scopes: tuple[str, ...] | None = None,
    **conn_fields: Any,
) -> tuple[RefreshEngine, StrictStore, FakeFigma, Clock, list[tuple[str, dict[str, Any]]]]:
    _, loose, _, clock, events = world(expires_in)
    conn = replace(loose.stored(), scopes=scopes, **conn_fields)
    store = StrictStore(conn, clock)
    figma = NarrowingFigma(clock, figma_scopes) if figma_scopes is not None else FakeFigma(clock)
    return engine_over(store, ContextVault(), figma, clock, events), store, figma, clock, events


def ms(moment: Any) -> int:
    return int(moment.timestamp() * 1000)


# -- when a grant is good enough --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "min_validity", "refreshed"),
    [
        (timedelta(seconds=301), 300, False),
        (timedelta(seconds=300), 300, True),  # exactly min_validity left: not more than asked
        (timedelta(milliseconds=1), None, False),  # no min_validity: any validity left will do
        (timedelta(0), None, True),
        (timedelta(seconds=1), 0, False),
    ],
)
def test_a_grant_is_refreshed_exactly_when_it_outlives_min_validity_no_longer(
    left: timedelta, min_validity: int | None, refreshed: bool
) -> None:
    engine, store, figma, _, _ = strict(expires_in=left)
    fresh = engine.fresh(store.stored(), min_validity)
    assert figma.calls == (1 if refreshed else 0)
    assert fresh.connection == store.stored()  # what it returns is what is stored
    assert fresh.grant.access_token == ("access-1" if refreshed else "access-0")


@pytest.mark.parametrize(
    ("age", "reused"), [(JUST_REFRESHED - timedelta(milliseconds=1), True), (JUST_REFRESHED, False)]
)
def test_a_forced_refresh_reuses_a_grant_younger_than_five_seconds_only(age: timedelta, reused: bool) -> None:
    engine, store, figma, _, _ = strict(expires_in=timedelta(hours=1), grant_obtained_at=START - age)
    engine.fresh(store.stored(), None, force=True)
    assert figma.calls == (0 if reused else 1)


def test_a_connection_that_moved_on_while_waiting_is_taken_as_it_is() -> None:
    engine, store, figma, clock, _ = strict(expires_in=timedelta(seconds=1))
    stale = store.stored()
    store.peer_takes_lease()

    def peer_wrote_an_expiring_grant() -> None:
        store.conn = replace(store.stored(), version=stale.version + 1, lease_until_ms=0)

    clock.on_sleep.append(peer_wrote_an_expiring_grant)
    fresh = engine.fresh(stale, 300)
    assert figma.calls == 0 and fresh.connection.version == stale.version + 1  # a newer grant: no second refresh


@pytest.mark.parametrize("missing", [{"status": REAUTH_REQUIRED}, {"grant_box": None}, {"grant_expires_at": None}])
def test_no_usable_grant_is_reauth_required_without_figma(missing: dict[str, Any]) -> None:
    engine, store, figma, _, _ = strict(**missing)
    with pytest.raises(ReauthRequired):
        engine.fresh(store.stored(), 300)
    assert figma.calls == 0 and store.named == []


def test_a_box_without_both_tokens_is_unreadable() -> None:
    engine, store, _, _, _ = strict(expires_in=timedelta(hours=1))

    class OneToken(ContextVault):
        def open(self, box: SealedBox, context: dict[str, str]) -> dict[str, str]:
            return {"access_token": "a"}

    engine.vault = OneToken()
    with pytest.raises(GrantUnreadable):
        engine.fresh(store.stored(), 300)
    with pytest.raises(ReauthRequired):
        engine.open(replace(store.stored(), grant_expires_at=None))


def test_an_opened_grant_carries_the_connections_expiry_and_scopes() -> None:
    engine, store, _, _, _ = strict(expires_in=timedelta(hours=1), scopes=("current_user:read", "file_content:read"))
    grant = engine.open(store.stored())
    assert (grant.access_token, grant.refresh_token) == ("access-0", "refresh-0")
    assert grant.expires_at == START + timedelta(hours=1) and grant.scopes == ("current_user:read", "file_content:read")


# -- leases and waiting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("until", "waits"), [(-1, False), (0, True), (1, True)])
def test_a_lease_ending_before_now_is_free_and_one_ending_now_or_later_is_held(until: int, waits: bool) -> None:
    engine, store, figma, clock, _ = strict()
    store.conn = replace(store.stored(), lease_until_ms=ms(START) + until)
    engine.fresh(store.stored(), 300)
    assert figma.calls == 1 and (clock.slept > 0) == waits


def test_the_pauses_start_at_50_ms_double_and_stop_at_400_ms_with_jitter() -> None:
    engine, store, _, clock, _ = strict()
    store.peer_takes_lease()
    pauses: list[float] = []
    sleep = clock.sleep

    def recording(seconds: float) -> None:
        pauses.append(seconds)
        sleep(seconds)

    engine.sleep = recording
    random.seed(7)
    with pytest.raises(FigmaUnavailable) as waited:
        engine.fresh(store.stored(), 300)
    bases = [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]
    for base, pause in zip(bases, pauses, strict=False):
        assert 0.5 * base <= pause <= 1.5 * base, (base, pause)
    assert max(pauses) <= 0.6 and min(pauses[:1]) <= 0.075
    assert any(p > base for base, p in zip(bases, pauses, strict=False))  # jitter above the base too
    assert any(p < base for base, p in zip(bases, pauses, strict=False))  # and below
    assert waited.value.message == "Another refresh of this grant is still running; try again."
    assert waited.value.retry_after == 2 and waited.value.status == 503


def test_a_caller_gives_up_at_its_wait_limit_not_before() -> None:
    engine, store, _, clock, _ = strict()
    store.peer_takes_lease()
    engine.wait_for_peer = 1.0
    with pytest.raises(FigmaUnavailable):
        engine.fresh(store.stored(), 300)
    assert 1.0 <= clock.slept <= 1.0 + 0.6


def test_a_caller_re_reads_its_own_users_connection_and_says_when_it_is_gone() -> None:
    engine, store, _, clock, _ = strict()
    store.peer_takes_lease()
    clock.on_sleep.append(lambda: setattr(store, "conn", None))
    with pytest.raises(Unauthorized) as gone:
        engine.fresh(store.stored(), 300)
    assert gone.value.message == "This Figma connection was disconnected. Sign in with Figma again."
    assert set(store.named) == {USER}


# -- what a refresh stores and returns ----------------------------------------------------------------------


def test_a_refresh_stores_and_returns_the_next_version_unleased_with_when_it_was_obtained() -> None:
    engine, store, _, _, events = strict()
    before = store.stored()
    fresh = engine.fresh(before, 300)

    assert store.saved_with["expires_at"] == START + timedelta(hours=1)
    assert store.saved_with["obtained_at"] == START and store.saved_with["narrowed_to"] is None
    assert store.saved_with["box"].ciphertext == b"access-1|refresh-0"
    got = fresh.connection
    assert (got.version, got.lease_until_ms, got.grant_obtained_at) == (before.version + 1, 0, START)
    assert got.grant_expires_at == START + timedelta(hours=1) and got.grant_box == store.saved_with["box"]
    assert (got.scopes, got.revoked_scopes) == (before.scopes, ()) and events == []
    assert set(store.named) == {USER}


def test_a_refresh_naming_fewer_scopes_narrows_the_connection_and_counts_it(emitted: list[str]) -> None:
    engine, store, _, _, _ = strict(
        scopes=("current_user:read", "file_content:read", "file_comments:read"),
        figma_scopes=("current_user:read", "file_comments:read", "webhooks:write"),  # never widens
        revoked_scopes=("files:read",),
    )
    fresh = engine.fresh(store.stored(), 300)
    assert store.saved_with["narrowed_to"] == ("current_user:read", "file_comments:read")
    assert fresh.connection.scopes == ("current_user:read", "file_comments:read")
    assert fresh.connection.revoked_scopes == ("files:read", "file_content:read")
    assert emitted == ["GrantNarrowedByFigma"]


def test_a_refresh_naming_the_same_scopes_narrows_nothing(emitted: list[str]) -> None:
    engine, store, _, _, _ = strict(
        scopes=("current_user:read", "file_content:read"), figma_scopes=("file_content:read", "current_user:read")
    )
    fresh = engine.fresh(store.stored(), 300)
    assert store.saved_with["narrowed_to"] is None and fresh.connection.scopes == (
        "current_user:read",
        "file_content:read",
    )
    assert emitted == []


def test_a_refresh_a_sign_in_overtook_is_not_returned_and_the_caller_re_reads() -> None:
    engine, store, figma, clock, _ = strict()
    real_save = store.save_refreshed_grant

    def overtaken(conn: Connection, **kwargs: Any) -> bool:
        store.conn = replace(
            store.stored(), version=conn.version + 5, lease_until_ms=0, grant_expires_at=START + timedelta(hours=3)
        )
        store.save_refreshed_grant = real_save  # type: ignore[method-assign]
        return False

    store.save_refreshed_grant = overtaken  # type: ignore[method-assign]
    fresh = engine.fresh(store.stored(), 300)
    assert figma.calls == 1 and fresh.connection.version == store.stored().version and clock.slept > 0


def test_a_connection_without_a_box_at_store_time_is_reauth_required() -> None:
    engine, store, _, _, _ = strict()
    with pytest.raises(ReauthRequired):
        engine._store(replace(store.stored(), grant_box=None), FigmaGrant("a", "r", START, ()), owner="o")


# -- dead grants and the scheduler's path ---------------------------------------------------------------------


def test_a_dead_grant_is_marked_counted_and_announced_by_the_call_that_marked_it(emitted: list[str]) -> None:
    engine, store, figma, _, events = strict()
    figma.fail = ReauthRequired()
    with pytest.raises(ReauthRequired):
        engine.fresh(store.stored(), 300)
    assert emitted == ["GrantNeedsReauth"] and events == [
        ("GrantNeedsReauth", {"user_id": USER, "reason": "figma_rejected_refresh"})
    ]
    assert engine.grant_died(store.stored(), owner="not-the-lease-holder") is False
    assert emitted == ["GrantNeedsReauth"] and len(events) == 1
    assert set(store.named) == {USER}


def test_grant_died_says_whether_this_call_marked_it() -> None:
    engine, store, _, _, events = strict()
    store.peer_takes_lease()
    assert engine.grant_died(store.stored(), owner="peer", reason="scheduler") is True
    assert events == [("GrantNeedsReauth", {"user_id": USER, "reason": "scheduler"})]


def test_an_outage_releases_its_own_users_lease() -> None:
    engine, store, figma, _, _ = strict()
    figma.fail = FigmaUnavailable()
    with pytest.raises(FigmaUnavailable):
        engine.refresh_due(store.stored())
    assert store.owner is None and store.stored().lease_until_ms == 0 and set(store.named) == {USER}


@pytest.mark.parametrize(("until", "outcome"), [(-1, "refreshed"), (0, "skipped"), (1, "skipped")])
def test_the_scheduler_skips_a_lease_held_until_now_or_later(until: int, outcome: str) -> None:
    engine, store, _, _, _ = strict()
    store.conn = replace(store.stored(), lease_until_ms=ms(START) + until)
    assert engine.refresh_due(store.stored()) == outcome


def test_the_scheduler_skips_a_dead_grant_and_a_lost_race() -> None:
    engine, store, figma, _, _ = strict()
    assert engine.refresh_due(replace(store.stored(), status=REAUTH_REQUIRED)) == "skipped"
    stale = store.stored()
    store.conn = replace(stale, version=stale.version + 1)  # another refresh won meanwhile
    assert engine.refresh_due(stale) == "skipped" and figma.calls == 0


def test_the_scheduler_calls_figma_inside_its_gate() -> None:
    engine, store, figma, _, _ = strict()
    inside: list[int] = []

    class Gate:
        def __enter__(self) -> None:
            inside.append(figma.calls)

        def __exit__(self, *exc: object) -> None:
            inside.append(figma.calls)

    assert engine.refresh_due(store.stored(), gate=Gate()) == "refreshed"
    assert inside == [0, 1]


def test_fresh_is_what_fresh_returns() -> None:
    engine, store, _, _, _ = strict(expires_in=timedelta(hours=1))
    assert isinstance(engine.fresh(store.stored(), 300), Fresh)
    assert LEASE_MS == 20_000
