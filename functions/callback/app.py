"""GET /auth/figma/callback: Figma returns here; exchange the code, create the session."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.observability import logger

runtime.check()
app = web.create_app()


@app.get("/auth/figma/callback")
def callback() -> Any:
    return web.callback_response()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
