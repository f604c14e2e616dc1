"""The scheduled functions' jobs: each takes the Lambda context and returns its report (the entry
wrapper, ``figma_auth.entry.scheduled``, logs and flushes around it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from figma_auth import runtime
from figma_auth.observability import logger, metrics_count

if TYPE_CHECKING:
    from figma_auth.container import Container


def scheduled_refresh(context: Any) -> dict[str, Any]:
    """Refresh every grant expiring within REFRESH_AHEAD_SECONDS; outcomes go to Powertools
    metrics and the returned report."""
    report = refresh_batch(runtime.container(), remaining_ms=context.get_remaining_time_in_millis)
    for outcome in ("refreshed", "skipped", "reauth_required", "failed"):
        metrics_count(f"Grants{outcome.title().replace('_', '')}", report[outcome])
    logger.info("scheduled refresh done", extra={k: v for k, v in report.items() if k != "failures"})
    return report


def refresh_batch(c: Container, *, remaining_ms: Any, sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """One batch of the scheduled refresh with ``c``'s collaborators: the same engine as the
    request paths, over a Figma client that leaves 429s to the scheduler (``sleep``: how it
    waits out a Retry-After)."""
    from figma_auth.engine import RefreshEngine
    from figma_auth.figma import RetryPolicy
    from figma_auth.usecases.scheduled_refresh import RefreshScheduler

    # The container's Figma client (its TLS context and warm connections), with the scheduler's policy.
    figma = c.figma.with_retry(RetryPolicy(retry_rate_limited=False))
    engine = RefreshEngine(store=c.store, vault=c.vault, figma=figma, clock=c.clock, publish=c.publish)
    scheduler = RefreshScheduler(
        engine=engine,
        store=c.store,
        pages=c.pages,
        concurrency=c.settings.refresh_concurrency,
        ahead_seconds=c.settings.refresh_ahead_seconds,
        remaining_ms=remaining_ms,
        clock=c.clock,
        sleep=sleep,
    )
    return scheduler.run().as_dict()


def webhook_reconciliation(context: Any) -> dict[str, int]:
    """Keep Figma's webhooks and the table in agreement (usecases.webhook_reconcile)."""
    report = runtime.container().reconcile.run(time_left=lambda: context.get_remaining_time_in_millis() / 1000)
    logger.info("webhook reconciliation", extra=report)
    return report
