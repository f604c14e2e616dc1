"""EventBridge schedule: for each active webhook, read Figma's log of its deliveries (the last
week) and publish what the receiver did not (deduplicated), so an outage loses nothing."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime
from figma_auth.observability import logger, metrics

runtime.check()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = runtime.run_webhook_reconciliation(time_left=lambda: context.get_remaining_time_in_millis() / 1000)
    logger.info("webhook reconciliation", extra=report)
    return report
