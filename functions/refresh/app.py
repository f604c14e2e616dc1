"""POST /auth/refresh: renew the Figma access token, single-flight (Appwrite: updateSession)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.models import RefreshQuery, SessionView
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()


@app.post(
    "/auth/refresh",
    summary="Renew the Figma access token, single-flight (Appwrite: updateSession('current'))",
    query=RefreshQuery,
    responses={200: SessionView},
    errors=(
        "invalid_request",
        "unauthorized",
        "reauth_required",
        "csrf_rejected",
        "figma_error",
        "figma_unavailable",
        "temporarily_unavailable",
    ),
    auth=True,
)
def refresh() -> Any:
    creds = web.credentials()
    web.require_trusted_origin(creds)
    return web.json_response(runtime.service().refresh(creds, web.min_validity()))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
