"""The template's EventBridge schedules, played by the local stack: each scheduled function
(the refresh and the webhook reconciliation) is invoked with EventBridge's scheduled event on its
template schedule (``rate(15 minutes)`` unless the parameter is overridden), or every
``DEVSTACK_SCHEDULE_SECONDS`` seconds when that is set (to see a scheduled refresh or a
reconciliation without waiting; ``0`` turns the schedules off)."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devstack.template import Function

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


def every(expression: str) -> float | None:
    """Seconds between runs of a ``rate(...)`` expression; None for a cron (not played locally)."""
    found = _RATE.match(expression.strip())
    if found is None:
        return None
    return int(found.group(1)) * _UNIT[found.group(2).rstrip("s")]


def scheduled_event(fn: Function) -> dict[str, Any]:
    """What EventBridge hands a scheduled function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{fn.logical_id}Schedule"],
        "detail": {},
    }


@dataclass
class Schedule:
    fn: Function
    seconds: float

    def describe(self) -> str:
        minutes = self.seconds / 60
        shown = f"every {minutes:g} min" if self.seconds >= 60 else f"every {self.seconds:g} s"
        return f"{self.fn.name} {shown}"


def plan(functions: list[Function], override_seconds: str | None) -> list[Schedule]:
    """The schedules to play: the template's, or every function at ``override_seconds``."""
    out = []
    for fn in functions:
        if not fn.schedule:
            continue
        seconds = float(override_seconds) if override_seconds else every(fn.schedule)
        if seconds:
            out.append(Schedule(fn, seconds))
    return out


class Scheduler:
    """Invokes each scheduled function when it is due, from a daemon thread, until stopped."""

    def __init__(self, schedules: list[Schedule], invoke: Callable[[Function, dict[str, Any]], Any], log: Any) -> None:
        self.schedules, self.invoke, self.log = schedules, invoke, log
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="devstack-schedules", daemon=True)

    def start(self) -> Scheduler:
        if self.schedules:
            self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()

    def _loop(self) -> None:
        import time

        due = {id(s): time.monotonic() + s.seconds for s in self.schedules}
        while not self.stopped.is_set():
            now = time.monotonic()
            for schedule in self.schedules:
                if due[id(schedule)] <= now:
                    due[id(schedule)] = now + schedule.seconds
                    self._run(schedule.fn)
            wait = min(due.values()) - time.monotonic()
            self.stopped.wait(max(0.05, wait))

    def _run(self, fn: Function) -> None:
        try:
            report = self.invoke(fn, scheduled_event(fn))
            print(f"[schedule] {fn.name}: {report}", file=self.log(), flush=True)
        except Exception as exc:  # a failed run is reported; the next one comes as scheduled
            print(f"[schedule] {fn.name} failed: {type(exc).__name__}: {exc}", file=self.log(), flush=True)
