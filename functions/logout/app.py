"""POST /auth/logout: end this session, one of the user's, or all of them
(Appwrite: deleteSession / deleteSessions). Always 204; clears the cookie."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.models import LogoutRequest
from figma_auth.observability import logger

runtime.check()
app = web.create_app()


@app.post(
    "/auth/logout",
    summary="End this session, one of the user's, or all (Appwrite: deleteSession / deleteSessions)",
    body=LogoutRequest,
    responses={204: "Done (also when there was no session); clears the cookie when this session ended."},
    errors=("invalid_request", "csrf_rejected", "temporarily_unavailable"),
)
def logout() -> Any:
    creds = web.credentials()
    web.require_trusted_origin(creds)
    ended_own = runtime.service().logout(creds, web.body())
    return web.no_content([web.clear_session_cookie(runtime.settings())] if ended_own else [])


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
