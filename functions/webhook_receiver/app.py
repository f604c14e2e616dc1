"""POST /webhooks/figma: Figma's webhook deliveries (public; verified by each webhook's
passcode), deduplicated and published to EventBridge as ``Figma <EVENT_TYPE>``. No Figma call
and no KMS call on this path."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Any

from figma_auth import entry, openapi, runtime, web
from figma_auth.observability import logger

runtime.check()
app = web.create_app(runtime.settings)


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
    outcome = runtime.container().webhook_receiver(web.raw_body(app))
    logger.info("webhook delivery", extra={"outcome": outcome})
    return web.json_response({"ok": True})


lambda_handler = entry.http(app)
