"""POST /webhooks/figma: Figma's webhook deliveries (public; verified by each webhook's
passcode), deduplicated and published to EventBridge as ``Figma <EVENT_TYPE>``. No Figma call
and no KMS call on this path."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import openapi, runtime, web
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()


@app.post(
    "/webhooks/figma",
    summary="Figma's webhook deliveries (Figma calls this; the app never does)",
    responses=openapi.responses(
        {
            200: "Received: published, a duplicate, or not ours (the answer is the same and tells nothing; "
            "never 400, which would stop the webhook at Figma).",
        },
        ("temporarily_unavailable",),
    ),
)
def receive() -> Any:
    outcome = runtime.webhook_receiver()(web.raw_body(app))
    logger.info("webhook delivery", extra={"outcome": outcome})
    return web.json_response({"ok": True})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
