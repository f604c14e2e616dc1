"""Figma's REST rate limits as the emulator plays them (since November 17, 2025).

Budgets count per user, per plan, per app (the emulator is one app), by the endpoint's tier
(devstack/figma_api.py) and the user's seat. The plan that counts is the one that owns the
resource: a file's plan for calls naming a file, else the user's own plan. Numbers (from
docs/FIGMA.md; Figma's table is hard to read, so they are a reconstruction):

| tier | View / Collab seat, or a Starter plan | Dev / Full seat: Pro / Organization / Enterprise |
|---|---|---|
| 1 | 6 a calendar month | 10 / 15 / 20 a minute |
| 2 | 5 a minute (Starter: unconfirmed, same) | 25 / 50 / 100 a minute |
| 3 | 10 a minute (Starter: unconfirmed, same) | 50 / 100 / 150 a minute |

A refused call is not counted. Its 429 carries ``Retry-After`` (seconds until the oldest call
leaves the minute, or until the next month begins: days), ``X-Figma-Plan-Tier`` (the plan that
counted), ``X-Figma-Rate-Limit-Type`` (``low`` when the seat or plan is the limit, ``high`` for a
paid seat's per-minute burst) and, for ``low``, ``X-Figma-Upgrade-Link``. Knobs: a user's seat
and plan, a file's plan, and a clock offset so tests need not wait a minute (or a month).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

SEATS = ("view", "collab", "dev", "full")
PLANS = ("starter", "pro", "organization", "enterprise")
MINUTE = "minute"
MONTH = "month"
_PAID = {1: (10, 15, 20), 2: (25, 50, 100), 3: (50, 100, 150)}
_LOW = {1: (6, MONTH), 2: (5, MINUTE), 3: (10, MINUTE)}
UPGRADE_LINK = "https://www.figma.com/pricing/?emulated-upgrade-for={plan}"


def budget(tier: int, seat: str, plan: str) -> tuple[int, str, str]:
    """(calls allowed, window, limit type) for a seat spending a plan's tier."""
    if seat in ("view", "collab") or plan == "starter":
        allowed, window = _LOW[tier]
        return allowed, window, "low"
    return _PAID[tier][PLANS.index(plan) - 1], MINUTE, "high"


@dataclass
class Refusal:
    retry_after: int
    plan: str
    type: str

    def headers(self) -> dict[str, str]:
        out = {
            "Retry-After": str(self.retry_after),
            "X-Figma-Plan-Tier": self.plan,
            "X-Figma-Rate-Limit-Type": self.type,
        }
        if self.type == "low":
            out["X-Figma-Upgrade-Link"] = UPGRADE_LINK.format(plan=self.plan)
        return out


@dataclass
class Limits:
    """Call with the emulator's lock held."""

    enabled: bool = True
    clock_offset: float = 0.0  # seconds added to the wall clock (the clock knob)
    seats: dict[str, str] = field(default_factory=dict)  # user key → seat (default full)
    user_plans: dict[str, str] = field(default_factory=dict)  # user key → plan (default pro)
    file_plans: dict[str, str] = field(default_factory=dict)  # file key → plan (default: the user's)
    minute: dict[tuple[str, str, int], deque[float]] = field(default_factory=dict)
    month: dict[tuple[str, str, int, str], int] = field(default_factory=dict)
    refused: int = 0

    def spend(self, user: str, tier: int, file_key: str | None, now: float) -> Refusal | None:
        """Count one call (None), or the 429 Figma answers instead (not counted)."""
        if not self.enabled:
            return None
        now += self.clock_offset
        seat = self.seats.get(user, "full")
        plan = self.file_plans.get(file_key, "") if file_key else ""
        plan = plan or self.user_plans.get(user, "pro")
        allowed, window, kind = budget(tier, seat, plan)
        if window == MONTH:
            month = datetime.fromtimestamp(now, UTC).strftime("%Y-%m")
            key = (user, plan, tier, month)
            if self.month.get(key, 0) >= allowed:
                self.refused += 1
                return Refusal(math.ceil(_next_month(now) - now), plan, kind)
            self.month[key] = self.month.get(key, 0) + 1
            return None
        calls = self.minute.setdefault((user, plan, tier), deque())
        while calls and calls[0] <= now - 60:
            calls.popleft()
        if len(calls) >= allowed:
            self.refused += 1
            return Refusal(max(1, math.ceil(calls[0] + 60 - now)), plan, kind)
        calls.append(now)
        return None

    def reset(self) -> None:
        self.enabled, self.clock_offset, self.refused = True, 0.0, 0
        for table in (self.seats, self.user_plans, self.file_plans, self.minute, self.month):
            table.clear()


def _next_month(now: float) -> float:
    moment = datetime.fromtimestamp(now, UTC)
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return datetime(year, month, 1, tzinfo=UTC).timestamp()
