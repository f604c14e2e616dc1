"""The refresh engine with in-memory fakes and injected time: single flight, waiting for a
peer, lease take-over, dead grants, outages. No AWS, no HTTP, no real waiting."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from figma_auth.engine import JUST_REFRESHED
from figma_auth.errors import FigmaUnavailable, ReauthRequired, Unauthorized
from figma_auth.records import REAUTH_REQUIRED
from tests.support.engines import world
from tests.support.fakes import START


def test_a_grant_valid_long_enough_is_opened_without_calling_figma() -> None:
    engine, store, figma, _, _ = world(expires_in=timedelta(hours=1))

    fresh = engine.fresh(store.stored(), 300)

    assert fresh.grant.access_token == "access-0" and figma.calls == 0 and store.saves == 0


def test_an_expiring_grant_is_refreshed_once_and_stored_with_the_next_version() -> None:
    engine, store, figma, _, _ = world()

    fresh = engine.fresh(store.stored(), 300)

    assert fresh.grant.access_token == "access-1" and figma.calls == 1
    assert store.conn is not None and store.conn.version == 2 and store.owner is None
    assert fresh.grant.refresh_token == "refresh-0"  # Figma sent none: the old one is kept


def test_a_caller_that_finds_a_peer_refreshing_waits_and_takes_the_peers_grant() -> None:
    engine, store, figma, clock, _ = world()
    stale = store.stored()
    store.peer_takes_lease()
    clock.on_sleep.append(store.peer_finishes)

    fresh = engine.fresh(stale, 300)

    assert figma.calls == 0 and fresh.grant.access_token == "peer"
    assert clock.slept < 1  # one short pause, not a lease's length


def test_a_peer_that_never_finishes_ends_in_figma_unavailable_after_the_wait_limit() -> None:
    engine, store, figma, clock, _ = world()
    store.peer_takes_lease()

    with pytest.raises(FigmaUnavailable):
        engine.fresh(store.stored(), 300)

    assert figma.calls == 0 and 10 <= clock.slept < 11  # ten seconds of injected time, none real


def test_a_crashed_refreshers_lease_is_taken_over_once_it_expires() -> None:
    engine, store, figma, clock, _ = world()
    assert store.conn is not None
    store.owner = "died-18.5-s-into-its-lease"
    store.conn = replace(store.conn, lease_until_ms=int(START.timestamp() * 1000) + 1500)

    fresh = engine.fresh(store.stored(), 300)

    assert figma.calls == 1 and fresh.grant.access_token == "access-1" and store.saves == 1
    assert 1.5 <= clock.slept < 3  # it waited the lease out, no longer


def test_a_dead_grant_is_marked_once_and_the_app_told_once() -> None:
    engine, store, figma, _, events = world()
    figma.fail = ReauthRequired()
    first = store.stored()

    with pytest.raises(ReauthRequired):
        engine.fresh(first, 300)
    with pytest.raises(ReauthRequired):
        engine.fresh(store.stored(), 300)

    assert store.conn is not None and store.conn.status == REAUTH_REQUIRED and store.conn.grant_box is None
    assert events == [("GrantNeedsReauth", {"user_id": "42", "reason": "figma_rejected_refresh"})]
    assert figma.calls == 1


def test_a_figma_outage_releases_the_lease_and_leaves_the_grant_as_it_was() -> None:
    engine, store, figma, _, _ = world()
    before = store.stored()
    figma.fail = FigmaUnavailable(retry_after=7)

    with pytest.raises(FigmaUnavailable):
        engine.fresh(before, 300)

    assert store.conn == replace(before, lease_until_ms=0) and store.owner is None


def test_a_grant_refreshed_seconds_ago_is_reused_even_when_a_new_token_is_asked_for() -> None:
    engine, store, figma, clock, _ = world()
    engine.fresh(store.stored(), 300, force=True)
    clock.sleep(JUST_REFRESHED.total_seconds() / 2)

    again = engine.fresh(store.stored(), None, force=True)

    assert figma.calls == 1 and again.grant.access_token == "access-1"


def test_a_disconnected_connection_while_waiting_is_unauthorized() -> None:
    engine, store, _, clock, _ = world()
    stale = store.stored()
    store.peer_takes_lease()
    clock.on_sleep.append(lambda: setattr(store, "conn", None))

    with pytest.raises(Unauthorized):
        engine.fresh(stale, 300)


def test_the_scheduler_path_skips_a_leased_connection_and_refreshes_a_free_one() -> None:
    engine, store, figma, _, _ = world()
    store.peer_takes_lease()
    assert engine.refresh_due(store.stored()) == "skipped"
    store.release_lease("42", owner="peer")

    assert engine.refresh_due(store.stored()) == "refreshed"
    assert figma.calls == 1


def test_the_scheduler_path_reports_a_dead_grant_without_raising() -> None:
    engine, store, figma, _, events = world()
    figma.fail = ReauthRequired()

    assert engine.refresh_due(store.stored()) == "reauth_required"
    assert len(events) == 1
