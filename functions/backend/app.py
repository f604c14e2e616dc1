"""Backend access, behind API Gateway's AWS_IAM authorization (SigV4): a user's Figma
connection with a fresh token (Nango: getToken), disconnect, and calls to Figma as that
user. For the app's own servers and jobs; never reachable with a browser session."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import openapi, proxy_http, runtime, web
from figma_auth.models import ConnectionView
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()
CONNECTION = "/connections/{user_id}"


@app.get(
    web.route_rule(CONNECTION),
    summary="The user's Figma connection with a fresh access token (refreshed first when expiring)",
    responses=openapi.responses({200: ConnectionView}, ("not_found", "figma_error", "temporarily_unavailable")),
    security=openapi.IAM_SECURITY,
)
def get_connection(user_id: str) -> Any:
    return web.json_response(runtime.connections().view(user_id))


@app.delete(
    web.route_rule(CONNECTION),
    summary="Disconnect: delete the user's Figma grant and end every session of theirs",
    responses=openapi.responses({204: "Disconnected."}, ("not_found", "temporarily_unavailable")),
    security=openapi.IAM_SECURITY,
)
def disconnect(user_id: str) -> Any:
    runtime.connections().disconnect(user_id)
    return web.no_content()


@app.route(
    web.route_rule(CONNECTION + proxy_http.PROXY_PATH),
    proxy_http.PROXY_METHODS,
    summary="Call Figma's REST API as this user (same rules as /figma/{proxy+})",
    responses=openapi.proxy_responses("not_found"),
    security=openapi.IAM_SECURITY,
)
def proxy(user_id: str) -> Any:
    return proxy_http.proxy_response(app, as_user=user_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    caller = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    logger.append_keys(caller=caller.get("userArn"))  # who called, for the audit trail (no secrets)
    return web.handle(app, event, context)
