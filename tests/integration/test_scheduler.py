"""The scheduled refresh: finds only the connections that are due (never sessions), refreshes
them with bounded concurrency through the one refresh engine, isolates poison, honours
Retry-After (beyond the batch too), stops before the Lambda deadline."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from devstack.figma_emulator import FigmaEmulator
from devstack.hooks import AwsCalls
from devstack.lambdas import Containers, LambdaContext, load_module
from devstack.seed import seed_connections
from figma_auth import times
from tests.support.stack import EventCapture, Stack, connection_item, update_connection


def run_scheduler(remaining_s: int = 300, sleep: Callable[[float], None] | None = None) -> dict:
    fn = Containers().by_name("refresh_scheduler")
    module = load_module(fn)
    if sleep is not None:  # the same batch, waiting through ``sleep`` instead of time.sleep
        from figma_auth import jobs, runtime

        context = LambdaContext(fn.logical_id, remaining_s)
        return jobs.refresh_batch(runtime.container(), remaining_ms=context.get_remaining_time_in_millis, sleep=sleep)
    return module.lambda_handler(
        {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}},
        LambdaContext(fn.logical_id, remaining_s),
    )


def seed(
    stack: Stack, emulator: FigmaEmulator, *, due: int, later: int, sessions_per_user: int = 1
) -> tuple[list[str], list[str]]:
    """Users whose connections are due (and later), each with ``sessions_per_user`` sessions."""
    stack.emulator.config(token_lifetime=86400)  # as Figma: longer than REFRESH_AHEAD_SECONDS
    now = times.utcnow()
    expiries = [now + timedelta(minutes=5 + i % 50) for i in range(due)] + [
        now + timedelta(hours=3, minutes=i % 500) for i in range(later)
    ]
    ids = seed_connections(
        endpoint=stack.moto,
        dynamodb=stack.table.endpoint,
        table=stack.table.name,
        key_id=os.environ["KMS_KEY_ID"],
        emulator=emulator.state,
        expiries=expiries,
        now=now,
        sessions_per_user=sessions_per_user,
    )
    return ids[:due], ids[due:]


def test_scheduler_refreshes_exactly_the_expiring_grants_reads_nothing_else_and_reports_poison(
    stack: Stack, emulator: FigmaEmulator
):
    due, later = seed(stack, emulator, due=100, later=900)
    poison = due[0]
    update_connection(stack.table, poison, "SET grant_box.c = :junk", {":junk": {"B": b"not a ciphertext"}})
    counter = AwsCalls()
    read: list[int] = []
    from figma_auth import aws as layer_aws

    layer_aws.session().register(
        "after-call.dynamodb.Query", lambda parsed, **_: read.append(parsed.get("ScannedCount", 0))
    )

    report = run_scheduler()

    assert (report["refreshed"], report["failed"], report["reauth_required"]) == (99, 1, 0)
    assert report["failures"] == [poison[:8]]
    assert stack.emulator.calls()["refresh"] == 99
    assert sum(read) == 100  # items read: the expiring ones, not the 900 others
    assert counter.by_service("dynamodb").get("Scan", 0) == 0
    for user_id in due[1:4]:
        assert int(connection_item(stack.table, user_id)["version"]["N"]) == 2
    for user_id in later[:3]:
        assert int(connection_item(stack.table, user_id)["version"]["N"]) == 1
    assert "lease_owner" not in connection_item(stack.table, poison)


def test_a_user_with_ten_sessions_costs_one_refresh(stack: Stack, emulator: FigmaEmulator):
    due, _ = seed(stack, emulator, due=3, later=0, sessions_per_user=10)

    report = run_scheduler()

    assert (report["examined"], report["refreshed"]) == (3, 3)
    assert stack.emulator.calls()["refresh"] == 3
    assert stack.table.kinds() == {"CONN": 3, "SESSION": 30}


def test_scheduled_refresh_of_a_revoked_grant_marks_it_and_emits_one_event(stack: Stack, emulator: FigmaEmulator):
    events = EventCapture(stack.moto)
    due, _ = seed(stack, emulator, due=3, later=0)
    stack.emulator.revoke()

    report = run_scheduler()

    assert report["reauth_required"] == 3 and report["refreshed"] == 0
    received = events.received()
    assert sorted(e["detail"]["user_id"] for e in received) == sorted(due)
    assert all(e["detail-type"] == "GrantNeedsReauth" for e in received)
    assert run_scheduler()["examined"] == 0  # a dead grant leaves the refresh index


def test_scheduler_pauses_the_batch_on_429_retry_after(stack: Stack, emulator: FigmaEmulator, reconfigure):
    reconfigure(REFRESH_CONCURRENCY="1")  # one at a time: the grants after the 429 must wait
    seed(stack, emulator, due=4, later=0)
    stack.emulator.fault("refresh", "429", times=1, retry_after=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # records what the gate waits, and waits it
        waits.append(seconds)
        time.sleep(seconds)

    report = run_scheduler(sleep=sleep)

    assert report["failed"] == 1 and report["refreshed"] == 3
    assert len(waits) == 1 and 0.5 < waits[0] <= 1.0  # the next grant waited out Retry-After, once
    assert run_scheduler()["refreshed"] == 1  # the throttled one is picked up next run


def test_a_retry_after_longer_than_the_batch_ends_it_and_the_next_batches_wait(
    stack: Stack, emulator: FigmaEmulator, reconfigure
):
    reconfigure(REFRESH_CONCURRENCY="1")
    seed(stack, emulator, due=4, later=0)
    stack.emulator.fault("refresh", "429", times=1, retry_after=396749)  # Figma has sent days

    first = run_scheduler()
    second = run_scheduler()

    assert first["stopped_early"] is True and first["failed"] == 1 and first["refreshed"] == 0
    assert first["paused_until"] is not None
    assert second["paused_until"] == first["paused_until"] and second["examined"] == 0
    assert stack.emulator.calls()["refresh"] == 1  # one call; nobody hammered Figma after its 429


def test_scheduler_starts_nothing_when_too_close_to_the_lambda_deadline(stack: Stack, emulator: FigmaEmulator):
    seed(stack, emulator, due=5, later=0)

    report = run_scheduler(remaining_s=10)

    assert report["stopped_early"] is True and report["refreshed"] == 0
    assert "refresh" not in stack.emulator.calls()


def test_scheduler_skips_a_grant_an_on_demand_refresh_is_holding(stack: Stack, emulator: FigmaEmulator):
    due, _ = seed(stack, emulator, due=2, later=0)
    update_connection(
        stack.table,
        due[0],
        "SET lease_owner = :o, lease_until = :u",
        {":o": {"S": "on-demand"}, ":u": {"N": str(int(time.time() * 1000) + 20_000)}},
    )

    report = run_scheduler()

    assert (report["refreshed"], report["skipped"]) == (1, 1)


@pytest.mark.parametrize("kind", ["500", "503"])  # a timeout is the same FigmaUnavailable: unit/test_figma_client.py
def test_a_figma_outage_fails_the_grants_but_keeps_them_intact(stack: Stack, emulator: FigmaEmulator, kind: str):
    due, _ = seed(stack, emulator, due=2, later=0)
    before = connection_item(stack.table, due[0])
    stack.emulator.fault("refresh", kind, times=-1)

    report = run_scheduler()

    assert report["failed"] == 2 and report["refreshed"] == 0
    after = connection_item(stack.table, due[0])
    assert after["grant_box"] == before["grant_box"] and "lease_owner" not in after


def test_figma_never_sees_more_refreshes_at_once_than_refresh_concurrency_and_it_is_kept_full(
    stack: Stack, emulator: FigmaEmulator, reconfigure
):
    reconfigure(REFRESH_CONCURRENCY="4")
    seed(stack, emulator, due=40, later=0)
    emulator.state.latency_ms = 50  # each refresh waits at Figma, so overlapping calls are visible

    report = run_scheduler()

    assert report["refreshed"] == 40
    assert emulator.state.peak_in_flight["refresh"] == 4
