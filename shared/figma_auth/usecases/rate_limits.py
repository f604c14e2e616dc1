"""Figma's rate limits, remembered per Figma user: no call Figma will refuse is sent.

A Figma 429 on a proxied call is passed back as it came and recorded in the user's ledger (tier,
what it covers, until when, Figma's headers), with one ``FigmaRateLimited`` event per entry: a
``low`` 429 (the seat or plan is the limit) covers the user, a burst the call's file or user.
While an entry holds, calls it covers are answered ``429 rate_limited`` at once, without
Figma; the ledger is read in the request that reads the connection anyway (no extra read), and
entries whose time has passed cost nothing (they are dropped at the next write). The ledger
outlives the connection (Figma counts per user): before its entries end, only a clear (the
user's, or the backend's for them) removes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from figma_auth.credentials import Credentials
from figma_auth.engine import Publish
from figma_auth.errors import RateLimited
from figma_auth.figma_tiers import Classified, classify
from figma_auth.observability import logger, metrics_count
from figma_auth.records import Connection, Current, RateLimit
from figma_auth.usecases.connections import checked_user_id
from figma_auth.usecases.views import entry_view

if TYPE_CHECKING:
    from figma_auth.figma import ProxyResponse

DEFAULT_RETRY_AFTER = 60  # a 429 without a readable Retry-After (Figma always sends one)
MAX_RETRY_AFTER = 366 * 86400  # Figma's monthly budgets: days are normal; a year is not


class LedgerStore(Protocol):
    def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool: ...


class LedgerClearer(Protocol):
    def delete_rate_limits(self, user_id: str) -> None: ...


class ClearRateLimits:
    """DELETE /auth/rate_limits (the user's) and DELETE /connections/{user_id}/rate_limits (the
    backend's): the way back after the user upgraded their seat or plan. Every entry goes; the
    next call asks Figma, and a 429 then is recorded (and announced) again. A sign-in never
    clears them: people sign in far more often than they upgrade."""

    def __init__(self, *, store: LedgerClearer, authenticate: Callable[[Credentials], Current]) -> None:
        self.store, self.authenticate = store, authenticate

    def mine(self, creds: Credentials) -> None:
        self._clear(self.authenticate(creds).session.user_id)

    def theirs(self, user_id: str) -> None:
        """Whether or not the user is connected now: the ledger outlives the connection."""
        self._clear(checked_user_id(user_id))

    def _clear(self, user_id: str) -> None:
        self.store.delete_rate_limits(user_id)
        metrics_count("RateLimitsCleared")
        logger.info("rate limits cleared")  # pragma: no mutate


class RateLimitLedger:
    def __init__(self, *, store: LedgerStore, publish: Publish, clock: Callable[[], datetime]) -> None:
        self.store, self.publish, self.clock = store, publish, clock

    def check(self, conn: Connection, method: str, path: str) -> Classified:
        """The call's tier and scope; RateLimited (429, Figma never called) while an entry covers it."""
        call = classify(method, path)
        now = self.clock()
        for limit in conn.rate_limits_at(now):
            if limit.covers(call.tier, call.scope):
                metrics_count(f"RateLimitAnsweredTier{limit.tier}")
                raise refusal(limit, now)
        return call

    def remember(self, conn: Connection, call: Classified, answer: ProxyResponse) -> RateLimit | None:
        """After Figma answered: a 429 becomes a ledger entry (and its one event); the entry."""
        if answer.status != 429:
            return None
        now = self.clock()
        headers = {name.lower(): value for name, value in answer.headers.items()}
        kind = _header(headers, "x-figma-rate-limit-type")
        limit = RateLimit(
            tier=call.tier,
            scope=scope_of(call, kind),
            until=now + timedelta(seconds=retry_after(headers.get("retry-after"))),
            type=kind,
            plan_tier=_header(headers, "x-figma-plan-tier"),
            upgrade_link=_header(headers, "x-figma-upgrade-link"),
        )
        metrics_count(f"FigmaRateLimitedTier{call.tier}")
        if not self.store.record_rate_limit(conn, limit, now=now):
            return limit  # another call recorded this limit first: its event is out
        if limit.type == "low":  # one per new entry: the alarm counts users whose seat or plan is the limit
            metrics_count("FigmaRateLimitedLow")
        # pragma: no mutate start (log wording: docs/TESTING.md)
        logger.info("figma rate limit recorded", extra={"tier": limit.tier, "limit_type": limit.type})
        # pragma: no mutate end
        self.publish("FigmaRateLimited", {"user_id": conn.user_id, **entry_view(limit)})
        return limit


def scope_of(call: Classified, limit_type: str | None) -> str:
    """What a 429 covers: ``low`` says the seat or plan is the limit, which holds for every file
    the user reads (one entry, one event, however many files follow); a burst (``high``, or no
    type) covers what the call spent: its file's plan, or the user."""
    return "user" if limit_type == "low" else call.scope


def refusal(limit: RateLimit, now: datetime) -> RateLimited:
    return RateLimited(
        retry_after=max(1, math.ceil((limit.until - now).total_seconds())),
        tier=limit.tier,
        scope=limit.scope,
        limit_type=limit.type,
        plan_tier=limit.plan_tier,
        upgrade_link=limit.upgrade_link,
    )


def retry_after(value: str | None) -> int:
    """Figma's Retry-After in seconds (days are real: 396,749 s was seen), bounded."""
    try:
        seconds = int(str(value).strip())
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return min(max(seconds, 1), MAX_RETRY_AFTER)


def _header(headers: dict[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None or not value.isprintable() or len(value) > 512:
        return None
    return value
