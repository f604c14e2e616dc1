"""The scheduled refresh's batch, without a stack: what it reads (the due window), how it
counts each grant's outcome, that one poison grant never stops it, how Figma's Retry-After
pauses the calls and, when it outlasts the batch, the next batches; and the gate's waits
(integration/test_scheduler.py runs it against the local stack)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.engine import Outcome
from figma_auth.errors import FigmaUnavailable
from figma_auth.records import Connection, Profile
from figma_auth.usecases.scheduled_refresh import LOOK_BACK, FigmaGate, RefreshScheduler

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def conn(user_id: str) -> Connection:
    return Connection(user_id, Profile("", "", ""), ("current_user:read",))


@dataclass
class World:
    outcomes: dict[str, Outcome | Exception]  # user -> the outcome, or the exception refresh_due raises
    pages: list[list[str]]
    paused: datetime | None = None
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    pauses: list[datetime] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def due_pages(self, *, start: datetime, end: datetime) -> Iterator[list[Connection]]:
        self.windows.append((start, end))
        for page in self.pages:
            yield [conn(u) for u in page]

    def scheduler_paused_until(self) -> datetime | None:
        return self.paused

    def pause_scheduler(self, until: datetime) -> None:
        self.pauses.append(until)

    def refresh_due(self, c: Connection, *, gate: AbstractContextManager[Any] | None = None) -> Outcome:
        answer = self.outcomes[c.user_id]
        assert gate is not None
        with gate:
            with self.lock:
                self.refreshed.append(c.user_id)
            if isinstance(answer, Exception):
                raise answer
            return answer


def scheduler(world: World, *, remaining_ms: int = 300_000, concurrency: int = 1) -> RefreshScheduler:
    return RefreshScheduler(
        engine=world, store=world, pages=world, concurrency=concurrency, ahead_seconds=3600,
        remaining_ms=lambda: remaining_ms, clock=lambda: NOW, sleep=lambda s: None,
    )  # fmt: skip


def test_a_batch_reads_the_due_window_and_counts_every_outcome() -> None:
    world = World(
        outcomes={
            "a": "refreshed",
            "b": "skipped",
            "c": "reauth_required",
            "d": RuntimeError("poison"),
            "e": "refreshed",
        },
        pages=[["a", "b"], ["c", "d", "e"]],
    )
    report = scheduler(world).run().as_dict()

    assert world.windows == [(NOW - LOOK_BACK, NOW + timedelta(hours=1))]
    assert {k: report[k] for k in ("refreshed", "skipped", "reauth_required", "failed", "examined")} == {
        "refreshed": 2, "skipped": 1, "reauth_required": 1, "failed": 1, "examined": 5,
    }  # fmt: skip
    assert report["failures"] == ["d"] and not report["stopped_early"] and report["paused_until"] is None
    assert sorted(world.refreshed) == ["a", "b", "c", "d", "e"]  # the poison grant stopped nothing


def test_a_pause_left_by_an_earlier_batch_is_honoured() -> None:
    world = World(outcomes={"a": "refreshed"}, pages=[["a"]], paused=NOW + timedelta(seconds=30))
    report = scheduler(world).run()
    assert report.paused_until == "2026-12-01T12:00:30Z" and report.examined == 0 and world.refreshed == []
    past = World(outcomes={"a": "refreshed"}, pages=[["a"]], paused=NOW - timedelta(seconds=1))
    assert scheduler(past).run().refreshed == 1


def test_a_retry_after_longer_than_the_batch_ends_it_and_pauses_the_next() -> None:
    world = World(outcomes={"a": FigmaUnavailable(retry_after=600), "b": "refreshed"}, pages=[["a", "b"]])
    report = scheduler(world, remaining_ms=200_000).run()  # 600 s > what the batch has left
    assert report.failed == 1 and report.stopped_early and report.refreshed == 0
    assert world.pauses == [NOW + timedelta(seconds=600)] and report.paused_until == "2026-12-01T12:10:00Z"


def test_a_short_retry_after_fails_one_grant_and_the_batch_goes_on() -> None:
    world = World(outcomes={"a": FigmaUnavailable(retry_after=1), "b": "refreshed"}, pages=[["a", "b"]])
    report = scheduler(world).run()
    assert (report.failed, report.refreshed, report.stopped_early, world.pauses) == (1, 1, False, [])


def test_no_work_starts_within_the_safety_margin() -> None:
    world = World(outcomes={"a": "refreshed"}, pages=[["a"]])
    report = scheduler(world, remaining_ms=29_999).run()
    assert report.stopped_early and report.examined == 0 and world.refreshed == []


def test_the_gate_waits_out_a_pause_or_refuses_when_the_batch_cannot() -> None:
    clock = [100.0]
    waits: list[float] = []
    gate = FigmaGate(1, remaining_ms=lambda: 60_000, safety_ms=30_000, monotonic=lambda: clock[0], sleep=waits.append)
    with gate:
        pass
    assert waits == []  # no pause: no wait
    gate.pause(5)
    gate.pause(2)  # a shorter pause never shortens the longer one
    with gate:
        pass
    assert waits == [5.0]
    gate.pause(40)  # 60 s left - 40 s < the 30 s margin: this batch cannot wait
    refused = False
    try:
        with gate:
            pass
    except Exception as exc:  # the scheduler's private _Stop
        refused = type(exc).__name__ == "_Stop"
    assert refused and waits == [5.0]
    clock[0] += 41  # the pause is over
    with gate:  # and the slot was given back when it refused
        pass
    assert waits == [5.0]


def gate_at(clock: list[float], remaining: int = 60_000, safety: int = 30_000) -> tuple[FigmaGate, list[float]]:
    waits: list[float] = []
    return FigmaGate(
        1, remaining_ms=lambda: remaining, safety_ms=safety, monotonic=lambda: clock[0], sleep=waits.append
    ), waits


def test_a_fresh_gate_never_waits_even_at_time_zero() -> None:
    gate, waits = gate_at([0.0])
    with gate:
        pass
    assert waits == []


def test_the_gate_waits_any_positive_pause_and_not_a_pause_that_just_ended() -> None:
    clock = [100.0]
    gate, waits = gate_at(clock)
    gate.pause(0.5)
    with gate:
        pass
    assert waits == [0.5]
    clock[0] += 0.5  # the pause ends exactly now
    with gate:
        pass
    assert waits == [0.5]


def test_the_gate_waits_exactly_to_its_margin_and_not_a_millisecond_more() -> None:
    clock = [0.0]
    gate, waits = gate_at(clock, remaining=60_000, safety=30_000)
    gate.pause(30)  # 60 s - 30 s = the 30 s margin: still allowed
    with gate:
        pass
    assert waits == [30.0]
    clock2 = [0.0]
    late, late_waits = gate_at(clock2, remaining=60_000, safety=30_000)
    late.pause(30.001)
    try:
        with late:
            pass
        stopped = False
    except Exception as exc:
        stopped = type(exc).__name__ == "_Stop"
    assert stopped and late_waits == []


def test_figmas_retry_after_pauses_the_gate_for_its_seconds() -> None:
    clock = [10.0]
    gate, waits = gate_at(clock)
    try:
        with gate:
            raise FigmaUnavailable(retry_after=7)
    except FigmaUnavailable:
        pass
    with gate:
        pass
    assert waits == [7.0]
    clock[0] += 7  # that pause is over
    try:
        with gate:
            raise FigmaUnavailable()  # no Retry-After: no pause
    except FigmaUnavailable:
        pass
    with gate:
        pass
    assert waits == [7.0]


def test_the_default_safety_margin_is_30_seconds() -> None:
    world = World(outcomes={"a": "refreshed"}, pages=[["a"]])
    at = RefreshScheduler(
        engine=world, store=world, pages=world, concurrency=1, ahead_seconds=3600,
        remaining_ms=lambda: 30_000, clock=lambda: NOW, sleep=lambda s: None,
    )  # fmt: skip
    assert at.run().refreshed == 1  # 30,000 ms left: not within the margin yet
    short = World(outcomes={"a": "refreshed"}, pages=[["a"]])
    under = RefreshScheduler(
        engine=short, store=short, pages=short, concurrency=1, ahead_seconds=3600,
        remaining_ms=lambda: 29_999, clock=lambda: NOW, sleep=lambda s: None,
    )  # fmt: skip
    assert under.run().examined == 0


def test_the_gate_uses_the_schedulers_monotonic_clock() -> None:
    world = World(outcomes={"a": FigmaUnavailable(retry_after=5), "b": "refreshed"}, pages=[["a", "b"]])
    waits: list[float] = []
    clock = [1_000_000.0]  # far from time.monotonic(): a gate reading the wrong clock would not wait 5 s
    report = RefreshScheduler(
        engine=world, store=world, pages=world, concurrency=1, ahead_seconds=3600,
        remaining_ms=lambda: 300_000, clock=lambda: NOW, monotonic=lambda: clock[0], sleep=waits.append,
    ).run()  # fmt: skip
    assert report.refreshed == 1 and waits == [5.0]


def test_a_pause_ending_exactly_now_is_over() -> None:
    world = World(outcomes={"a": "refreshed"}, pages=[["a"]], paused=NOW)
    assert scheduler(world).run().refreshed == 1


def test_a_retry_after_the_batch_cannot_wait_ends_it_and_pauses_the_next_batches() -> None:
    world = World(outcomes={"a": FigmaUnavailable(retry_after=25), "b": "refreshed"}, pages=[["a", "b"]])
    report = scheduler(world, remaining_ms=50_000).run()  # 50 s - 25 s < the 30 s margin
    assert (report.failed, report.examined, report.stopped_early) == (1, 1, True)
    assert world.pauses == [NOW + timedelta(seconds=25)] and report.paused_until == "2026-12-01T12:00:25Z"


def test_a_retry_after_exactly_at_the_margin_does_not_end_the_batch() -> None:
    world = World(outcomes={"a": FigmaUnavailable(retry_after=270), "b": "refreshed"}, pages=[["a", "b"]])
    report = scheduler(world, remaining_ms=300_000).run()  # 300 s - 270 s = the 30 s margin
    assert world.pauses == [] and report.paused_until is None and report.refreshed == 1


def test_a_later_pause_replaces_an_earlier_one_never_the_reverse() -> None:
    world = World(outcomes={}, pages=[])
    s = scheduler(world)
    s._end_batch(600)
    s._end_batch(900)
    s._end_batch(300)
    assert world.pauses == [NOW + timedelta(seconds=600), NOW + timedelta(seconds=900)]
    assert s.report.paused_until == "2026-12-01T12:15:00Z" and s.report.stopped_early is True
    quiet = scheduler(World(outcomes={}, pages=[]))
    quiet._end_batch()
    assert quiet.report.stopped_early is True and quiet.report.paused_until is None


def test_a_grant_the_gate_could_not_wait_for_is_counted_skipped_and_ends_the_batch() -> None:
    world = World(outcomes={"a": "refreshed"}, pages=[["a"]])
    s = scheduler(world, remaining_ms=40_000)
    s.gate.pause(20)  # 40 s - 20 s < 30 s: the gate refuses to wait
    report = s.run()
    assert (report.skipped, report.examined, report.stopped_early, world.refreshed) == (1, 1, True, [])


def test_every_failure_is_counted_with_its_user_prefix() -> None:
    world = World(
        outcomes={"user-aaaa-1": RuntimeError("x"), "user-bbbb-2": RuntimeError("y"), "c": "refreshed"},
        pages=[["user-aaaa-1", "user-bbbb-2", "c"]],
    )
    report = scheduler(world).run()
    assert report.failed == 2 and sorted(report.failures) == ["user-aaa", "user-bbb"]


def test_a_figma_outage_is_recorded_with_its_user_prefix_and_an_equal_pause_is_kept_once() -> None:
    world = World(
        outcomes={"user-aaaa-1": FigmaUnavailable(retry_after=1), "b": "refreshed"}, pages=[["user-aaaa-1", "b"]]
    )
    report = scheduler(world).run()
    assert report.failures == ["user-aaa"] and report.failed == 1
    again = World(outcomes={}, pages=[])
    s = scheduler(again)
    s._end_batch(600)
    s._end_batch(600)
    assert again.pauses == [NOW + timedelta(seconds=600)]


# -- what the batch holds at once, and when it stops taking more -------------------------------
# A batch works on twice its concurrency at once (Figma's calls, and as many again taking their
# lease and key) and takes no further connection from the due pages until one is done: "in
# memory at once" is bounded, and a connection is only ever started on time read after the last
# one finished. Nothing here waits on time: every refresh waits until the batch itself waits for
# a slot (or has taken every due connection), and the clock moves only when a refresh finishes.


@dataclass
class Crowd:
    """``due`` connections whose refreshes each wait for ``go``: set when the batch waits for a
    slot (the loop has taken what it holds at once), or has taken every due connection."""

    concurrency: int = 4
    due: int = 12
    time_runs_out: bool = False  # once a refresh has finished, 20 s are left (within the 30 s margin)
    taken: int = 0
    taken_when_waiting: int | None = None
    started: list[str] = field(default_factory=list)
    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    go: threading.Event = field(default_factory=threading.Event)
    all_busy: threading.Barrier = field(init=False)

    def __post_init__(self) -> None:
        self.all_busy = threading.Barrier(2 * self.concurrency)

    def due_pages(self, *, start: datetime, end: datetime) -> Iterator[list[Connection]]:
        for i in range(self.due):
            with self.lock:
                self.taken += 1
            yield [conn(f"user-{i:02}")]
        self.go.set()  # every due connection taken

    def waiting_for_a_slot(self) -> None:
        with self.lock:
            if self.taken_when_waiting is None:
                self.taken_when_waiting = self.taken
        self.go.set()

    def scheduler_paused_until(self) -> datetime | None:
        return None

    def pause_scheduler(self, until: datetime) -> None:
        raise AssertionError("nothing pauses this batch")

    def refresh_due(self, c: Connection, *, gate: AbstractContextManager[Any] | None = None) -> Outcome:
        with self.lock:
            self.started.append(c.user_id)
            first_ones = len(self.started) <= 2 * self.concurrency
        if first_ones:
            self.all_busy.wait(timeout=10)  # all of them at once (fails the refresh if the pool is smaller)
        if not self.go.wait(timeout=10):
            raise AssertionError("the batch neither waited for a slot nor took every connection")
        with self.lock:
            self.finished += 1
        return "refreshed"

    def remaining_ms(self) -> int:
        with self.lock:
            return 20_000 if self.time_runs_out and self.finished else 100_000


def crowded_batch(crowd: Crowd, monkeypatch: pytest.MonkeyPatch) -> RefreshScheduler:
    """The scheduler over ``crowd``, its in-flight bound telling the crowd when the loop waits
    for a slot (the bound is the scheduler's own semaphore, only watched)."""
    import types

    from figma_auth.usecases import scheduled_refresh

    batch = RefreshScheduler(
        engine=crowd, store=crowd, pages=crowd, concurrency=crowd.concurrency, ahead_seconds=3600,
        remaining_ms=crowd.remaining_ms, clock=lambda: NOW, sleep=lambda s: None,
    )  # fmt: skip

    class WatchedSlots(threading.BoundedSemaphore):
        def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
            if super().acquire(blocking=False):
                return True
            crowd.waiting_for_a_slot()
            return super().acquire(blocking, timeout)

    watched = types.ModuleType("threading")
    watched.__dict__.update(vars(threading))
    watched.BoundedSemaphore = WatchedSlots  # type: ignore[attr-defined]
    monkeypatch.setattr(scheduled_refresh, "threading", watched)  # after the gate took the real one
    return batch


def test_a_batch_works_on_twice_its_concurrency_at_once_and_takes_no_more_until_one_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crowd = Crowd(concurrency=4, due=12)

    report = crowded_batch(crowd, monkeypatch).run()

    assert crowd.taken_when_waiting == 9  # eight being refreshed, and the ninth waiting for a slot
    assert report.refreshed == 12 and report.failed == 0 and not report.stopped_early


def test_a_batch_starts_nothing_it_reads_within_its_30_second_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    crowd = Crowd(concurrency=4, due=12, time_runs_out=True)  # the first refresh to finish leaves 20 s

    report = crowded_batch(crowd, monkeypatch).run()

    # the ninth was read with 100 s left and waited for a slot; the tenth was read with 20 s left
    assert sorted(crowd.started) == [f"user-{i:02}" for i in range(9)]
    assert report.refreshed == 9 and report.stopped_early
