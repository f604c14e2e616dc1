"""The scheduled refresh: renew every active connection whose grant expires within
REFRESH_AHEAD_SECONDS, through the same refresh engine as the request paths.

Reads only the connections that are due (a day-bucketed GSI), never sessions: a user with ten
sessions costs one refresh. ``REFRESH_CONCURRENCY`` calls to Figma at once, while as many
connections again take their lease and decrypt their key, so Figma's slots never wait on AWS.
One bad grant fails alone. A 429 pauses every call for its Retry-After; one longer than the
batch has left ends the batch and is stored, so the next batches wait it out instead of
hammering Figma. New work stops before the Lambda deadline (the rest is the next run's).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from figma_auth.engine import Outcome
from figma_auth.errors import FigmaUnavailable
from figma_auth.observability import logger
from figma_auth.records import Connection
from figma_auth.times import iso

LOOK_BACK = timedelta(days=1)  # grants whose refresh failed recently are retried too


class PauseStore(Protocol):
    """Where the scheduler keeps Figma's Retry-After between batches."""

    def scheduler_paused_until(self) -> datetime | None: ...
    def pause_scheduler(self, until: datetime) -> None: ...


class DuePages(Protocol):
    def due_pages(self, *, start: datetime, end: datetime) -> Iterator[list[Connection]]: ...


class DueRefresher(Protocol):
    """The refresh engine, as the scheduler uses it."""

    def refresh_due(self, conn: Connection, *, gate: AbstractContextManager[Any] | None = None) -> Outcome: ...


@dataclass
class BatchReport:
    """What one scheduled batch did, counted."""

    refreshed: int = 0
    skipped: int = 0
    reauth_required: int = 0
    failed: int = 0
    examined: int = 0
    stopped_early: bool = False
    paused_until: str | None = None  # Figma's Retry-After outlasting this batch (ISO time)
    failures: list[str] = field(default_factory=list)  # short user-id prefixes, never tokens

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Stop(Exception):
    """Not enough time left to wait out Figma's Retry-After in this batch."""


class FigmaGate:
    """Around each Figma call: at most ``concurrency`` at once, and nobody calls while Figma
    has asked us to wait (Retry-After)."""

    def __init__(
        self,
        concurrency: int,
        *,
        remaining_ms: Callable[[], int],
        safety_ms: int,
        monotonic: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        self.slots = threading.BoundedSemaphore(concurrency)
        self.remaining_ms, self.safety_ms = remaining_ms, safety_ms
        self.monotonic, self.sleep = monotonic, sleep
        self.pause_until = 0.0
        self.lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        with self.lock:
            self.pause_until = max(self.pause_until, self.monotonic() + seconds)

    def __enter__(self) -> FigmaGate:
        self.slots.acquire()
        wait = self.pause_until - self.monotonic()
        if wait > 0:
            if self.remaining_ms() - wait * 1000 < self.safety_ms:
                self.slots.release()
                raise _Stop()
            self.sleep(wait)
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if isinstance(exc, FigmaUnavailable) and exc.retry_after:
            self.pause(exc.retry_after)  # before the slot frees: nobody may call Figma meanwhile
        self.slots.release()


class RefreshScheduler:
    def __init__(
        self,
        *,
        engine: DueRefresher,
        store: PauseStore,
        pages: DuePages,
        concurrency: int,
        ahead_seconds: int,
        remaining_ms: Callable[[], int],
        clock: Callable[[], datetime],
        safety_ms: int = 30_000,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``pages``: where the due connections are read from (the runtime passes a store whose
        client waits longer for a 1 MB query page)."""
        self.engine, self.store, self.pages = engine, store, pages
        self.concurrency = concurrency
        self.ahead = timedelta(seconds=ahead_seconds)
        self.remaining_ms, self.safety_ms = remaining_ms, safety_ms
        self.clock = clock
        self.gate = FigmaGate(
            concurrency, remaining_ms=remaining_ms, safety_ms=safety_ms, monotonic=monotonic, sleep=sleep
        )
        self.report = BatchReport()
        self._lock = threading.Lock()

    def run(self) -> BatchReport:
        now = self.clock()
        paused = self.store.scheduler_paused_until()
        if paused is not None and paused > now:
            self.report.paused_until = iso(paused)
            # pragma: no mutate start (log wording: docs/TESTING.md)
            logger.info("scheduled refresh paused by Figma's Retry-After", extra={"until": self.report.paused_until})
            # pragma: no mutate end
            return self.report
        in_flight = threading.BoundedSemaphore(2 * self.concurrency)  # connections in memory at once
        with ThreadPoolExecutor(max_workers=2 * self.concurrency, thread_name_prefix="refresh") as pool:
            for conn in self._due(now):
                if self.remaining_ms() < self.safety_ms or self.report.paused_until:
                    self.report.stopped_early = True
                    break
                in_flight.acquire()
                future: Future[None] = pool.submit(self._one, conn)
                future.add_done_callback(lambda _: in_flight.release())
        return self.report

    def _due(self, now: datetime) -> Iterator[Connection]:
        for page in self.pages.due_pages(start=now - LOOK_BACK, end=now + self.ahead):
            yield from page

    def _one(self, conn: Connection) -> None:
        try:
            outcome = self.engine.refresh_due(conn, gate=self.gate)
        except _Stop:
            self._count("skipped")
            self._end_batch()
            return
        except FigmaUnavailable as exc:
            # Figma asked everyone to slow down: the gate paused the batch; a wait longer than
            # the batch has left ends it and is kept for the next batches.
            if exc.retry_after and self.remaining_ms() - exc.retry_after * 1000 < self.safety_ms:
                self._end_batch(exc.retry_after)
            self._failed(conn, exc)
            return
        except Exception as exc:  # one poison grant never stops the batch
            self._failed(conn, exc)
            return
        self._count(outcome)

    def _end_batch(self, retry_after: float | None = None) -> None:
        """Figma's wait outlasts this batch: stop, and make the next batches wait too."""
        with self._lock:
            if retry_after is not None:
                until = self.clock() + timedelta(seconds=retry_after)
                if self.report.paused_until is None or iso(until) > self.report.paused_until:
                    self.store.pause_scheduler(until)
                    self.report.paused_until = iso(until)
            self.report.stopped_early = True

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.report.examined += 1
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)

    def _failed(self, conn: Connection, exc: Exception) -> None:
        with self._lock:
            self.report.examined += 1
            self.report.failed += 1
            self.report.failures.append(conn.user_id[:8])
        # pragma: no mutate start (log wording: docs/TESTING.md)
        logger.warning("scheduled refresh failed", extra={"user": conn.user_id[:8], "error": type(exc).__name__})
        # pragma: no mutate end
