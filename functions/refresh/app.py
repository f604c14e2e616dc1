"""POST /auth/refresh: renew the Figma access token, single-flight (Appwrite: updateSession)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import openapi, runtime, web
from figma_auth.models import RefreshQuery, SessionView
from figma_auth.observability import logger, metrics
from figma_auth.web import Query

runtime.check()
app = web.create_app()


@app.post(
    "/auth/refresh",
    summary="Renew the Figma access token, single-flight (Appwrite: updateSession('current'))",
    responses=openapi.responses(
        {200: SessionView},
        (
            "invalid_request",
            "unauthorized",
            "reauth_required",
            "csrf_rejected",
            "figma_error",
            "figma_unavailable",
            "temporarily_unavailable",
        ),
    ),
    security=openapi.SESSION_SECURITY,
)
def refresh(params: Annotated[RefreshQuery, Query()]) -> Any:
    creds = web.credentials(app)
    web.require_trusted_origin(app, creds)
    return web.json_response(runtime.sessions().refresh(creds, params.min_validity))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
