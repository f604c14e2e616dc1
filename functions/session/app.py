"""The current session (Appwrite: getSession('current')), the user's sessions
(listSessions) and token mode's ticket exchange (createSession(userId, secret))."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()


@app.get("/auth/session")
def get_session() -> Any:
    return web.json_response(runtime.service().session_view(web.credentials()))


@app.get("/auth/sessions")
def list_sessions() -> Any:
    return web.json_response(runtime.service().list_sessions(web.credentials()))


@app.post("/auth/token")
def exchange_ticket() -> Any:
    token, view = runtime.service().redeem_ticket(web.body())
    return web.json_response({"session_token": token, **view})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
