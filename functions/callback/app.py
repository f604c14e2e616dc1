"""GET /auth/figma/callback: Figma returns here; exchange the code, create the session."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.observability import logger

runtime.check()
app = web.create_app()


@app.get(
    "/auth/figma/callback",
    summary="Figma redirects here; exchanges the code and creates the session",
    responses=web.responses(
        {
            303: "To the success URL (cookie mode: sets the session cookie; token mode: #ticket=… in the "
            "fragment), or to the failure URL with ?error=access_denied|figma_error|figma_unavailable|…"
        },
        ("invalid_request", "invalid_state"),
    ),
)
def callback(
    # Read as plain strings: a missing or malformed state is invalid_state, never invalid_request.
    state: Annotated[str | None, Query(description="The state sent to Figma (43 characters).")] = None,
    code: Annotated[str | None, Query(description="Figma's authorization code (single use).")] = None,
    error: Annotated[str | None, Query(description="Figma's error, e.g. access_denied.")] = None,
) -> Any:
    return web.callback_response(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
