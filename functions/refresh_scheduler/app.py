"""EventBridge schedule: refresh every Figma grant that expires within REFRESH_AHEAD_SECONDS."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime
from figma_auth.observability import logger, metrics

runtime.check()


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return runtime.run_scheduled_refresh(remaining_ms=context.get_remaining_time_in_millis)
