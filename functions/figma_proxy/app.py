"""ANY /figma/{proxy+}: call Figma's REST API with the user's token, which never reaches
the browser (backend-for-frontend)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import openapi, proxy_http, runtime, web
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()


@app.route(
    web.route_rule(proxy_http.PROXY_PATH),
    proxy_http.PROXY_METHODS,
    summary="Call Figma's REST API (v1/…, v2/…) with the user's token; Figma's answer comes back as is",
    responses=openapi.proxy_responses("unauthorized", "csrf_rejected"),
    security=openapi.SESSION_SECURITY,
)
def proxy() -> Any:
    return proxy_http.proxy_response(app)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
