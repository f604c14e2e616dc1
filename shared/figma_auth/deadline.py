"""The request's deadline: the time Lambda gives the invocation, minus a margin to answer.

Set once per request at the web boundary (``web.handle``, from
``context.get_remaining_time_in_millis()``); every Figma call, retry, ``Retry-After`` wait and
wait for a peer's refresh fits inside it, so a slow Figma ends in our own answer (the failure
URL with ``figma_unavailable``, a 503 JSON) instead of API Gateway's bare 503 after the
function was killed. Unset (tests, the scheduler's worker threads): no bound but the callers'.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar, Token

MARGIN_SECONDS = 1.0  # left after the last wait: write the answer, the log line, the metrics
MIN_ATTEMPT_SECONDS = 1.0  # a Figma call given less than this is not worth starting

_ends_at: ContextVar[float | None] = ContextVar("figma_auth_deadline", default=None)


def start(remaining_ms: int | None, *, clock: Callable[[], float] = time.monotonic) -> Token[float | None]:
    """Bound this request by ``remaining_ms`` (Lambda's remaining time) minus the margin."""
    ends = None if remaining_ms is None else clock() + remaining_ms / 1000 - MARGIN_SECONDS
    return _ends_at.set(ends)


def finish(token: Token[float | None]) -> None:
    _ends_at.reset(token)


def left(*, clock: Callable[[], float] = time.monotonic) -> float | None:
    """Seconds this request may still spend waiting (None: unbounded)."""
    ends = _ends_at.get()
    return None if ends is None else ends - clock()


def bounded(seconds: float, *, clock: Callable[[], float] = time.monotonic) -> float:
    """``seconds``, or less if the request ends sooner (never below zero)."""
    remaining = left(clock=clock)
    return seconds if remaining is None else max(0.0, min(seconds, remaining))
