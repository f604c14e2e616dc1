"""The current session (Appwrite: getSession('current')), the user's sessions
(listSessions) and token mode's ticket exchange (createSession(userId, secret))."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.models import SessionList, SessionView, TokenRequest, TokenResponse
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()


@app.get(
    "/auth/session",
    summary="The current session, user and Figma token (Appwrite: getSession('current'))",
    responses=web.responses(
        {200: SessionView}, ("unauthorized", "figma_error", "figma_unavailable", "temporarily_unavailable")
    ),
    security=web.SESSION_SECURITY,
)
def get_session() -> Any:
    return web.json_response(runtime.service().session_view(web.credentials(app)))


@app.get(
    "/auth/sessions",
    summary="The user's active sessions (Appwrite: listSessions)",
    responses=web.responses({200: SessionList}, ("unauthorized", "temporarily_unavailable")),
    security=web.SESSION_SECURITY,
)
def list_sessions() -> Any:
    return web.json_response(runtime.service().list_sessions(web.credentials(app)))


@app.post(
    "/auth/token",
    summary="Token mode: trade the ticket and your PKCE verifier for a session token",
    responses=web.responses({200: TokenResponse}, ("invalid_request", "invalid_grant", "temporarily_unavailable")),
)
def exchange_ticket(request: Annotated[TokenRequest, Body()]) -> Any:
    token, view = runtime.service().redeem_ticket(request)
    return web.json_response(TokenResponse(session_token=token, **dict(view)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
