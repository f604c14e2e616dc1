"""The current session (Appwrite: getSession('current')), the user's sessions
(listSessions) and token mode's ticket exchange (createSession(userId, secret))."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.models import SessionList, SessionView, TokenRequest, TokenResponse
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()


@app.get(
    "/auth/session",
    summary="The current session, user and Figma token (Appwrite: getSession('current'))",
    responses={200: SessionView},
    errors=("unauthorized", "figma_error", "figma_unavailable", "temporarily_unavailable"),
    auth=True,
)
def get_session() -> Any:
    return web.json_response(runtime.service().session_view(web.credentials()))


@app.get(
    "/auth/sessions",
    summary="The user's active sessions (Appwrite: listSessions)",
    responses={200: SessionList},
    errors=("unauthorized", "temporarily_unavailable"),
    auth=True,
)
def list_sessions() -> Any:
    return web.json_response(runtime.service().list_sessions(web.credentials()))


@app.post(
    "/auth/token",
    summary="Token mode: trade the ticket and your PKCE verifier for a session token",
    body=TokenRequest,
    responses={200: TokenResponse},
    errors=("invalid_request", "invalid_grant", "temporarily_unavailable"),
)
def exchange_ticket() -> Any:
    token, view = runtime.service().redeem_ticket(web.body())
    return web.json_response(TokenResponse(session_token=token, **dict(view)))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
