"""Backend access, behind API Gateway's AWS_IAM authorization (SigV4): the list of connections,
a user's Figma connection with a fresh token (Nango: getToken), disconnect, the clear of the
user's remembered rate limits, and calls to Figma as that user. For the app's own servers and
jobs; never reachable with a browser session."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from figma_auth import entry, openapi, proxy_http, runtime, web
from figma_auth.models.connections import ConnectionList, ConnectionListQuery
from figma_auth.models.views import ConnectionView

runtime.check()
app = web.create_app(runtime.settings)
CONNECTION = "/connections/{user_id}"


@app.get(
    "/connections",
    summary="Every user's Figma connection, a page at a time, newest first (Nango: listConnections)",
    responses=openapi.responses({200: ConnectionList}, ("invalid_request", "temporarily_unavailable")),
    security=openapi.IAM_SECURITY,
)
def list_connections(params: Annotated[ConnectionListQuery, Query()]) -> Any:
    return web.json_response(runtime.container().connection_list.page(params))


@app.get(
    web.route_rule(CONNECTION),
    summary="The user's Figma connection with a fresh access token (refreshed first when expiring)",
    responses=openapi.responses({200: ConnectionView}, ("not_found", "figma_error", "temporarily_unavailable")),
    security=openapi.IAM_SECURITY,
)
def get_connection(user_id: str) -> Any:
    return web.json_response(runtime.container().connections.view(user_id))


@app.delete(
    web.route_rule(CONNECTION),
    summary="Disconnect: delete the user's Figma grant and end every session of theirs",
    responses=openapi.responses({204: "Disconnected."}, ("not_found", "temporarily_unavailable")),
    security=openapi.IAM_SECURITY,
)
def disconnect(user_id: str) -> Any:
    runtime.container().connections.disconnect(user_id)
    return web.no_content()


@app.delete(
    web.route_rule(CONNECTION + "/rate_limits"),
    summary="Forget Figma's rate limits remembered for this user (after an upgrade): the next call asks Figma",
    responses=openapi.responses(
        {204: "Cleared (also when there was nothing to clear, connected or not)."},
        ("not_found", "temporarily_unavailable"),
    ),
    security=openapi.IAM_SECURITY,
)
def clear_rate_limits(user_id: str) -> Any:
    runtime.container().clear_rate_limits.theirs(user_id)
    return web.no_content()


@app.route(
    web.route_rule(CONNECTION + proxy_http.PROXY_PATH),
    proxy_http.PROXY_METHODS,
    summary="Call Figma's REST API as this user (same rules as /figma/{proxy+})",
    responses=openapi.proxy_responses("not_found"),
    security=openapi.IAM_SECURITY,
)
def proxy(user_id: str) -> Any:
    return proxy_http.proxy_response(app, runtime.container().proxy, as_user=user_id)


lambda_handler = entry.http(app)
