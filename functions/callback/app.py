"""GET /auth/figma/callback: Figma returns here; exchange the code, create the session."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.models import CallbackQuery
from figma_auth.observability import logger

runtime.check()
app = web.create_app()


@app.get(
    "/auth/figma/callback",
    summary="Figma redirects here; exchanges the code and creates the session",
    query=CallbackQuery,
    responses={
        303: "To the success URL (cookie mode: sets the session cookie; token mode: #ticket=… in the "
        "fragment), or to the failure URL with ?error=access_denied|figma_error|figma_unavailable|…"
    },
    errors=("invalid_state",),
)
def callback() -> Any:
    return web.callback_response()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
