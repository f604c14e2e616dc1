"""POST /auth/logout: end this session, one of the user's, or all of them
(Appwrite: deleteSession / deleteSessions). Always 204; clears the cookie."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import openapi, runtime, web
from figma_auth.models import LogoutRequest
from figma_auth.observability import logger
from figma_auth.web import Body

runtime.check()
app = web.create_app()
THIS_SESSION = LogoutRequest()  # an empty body: end the caller's own session


@app.post(
    "/auth/logout",
    summary="End this session, one of the user's, or all (Appwrite: deleteSession / deleteSessions)",
    responses=openapi.responses(
        {204: "Done (also when there was no session); clears the cookie when this session ended."},
        ("invalid_request", "csrf_rejected", "temporarily_unavailable"),
    ),
)
def logout(request: Annotated[LogoutRequest, Body(description="Empty: this session.")] = THIS_SESSION) -> Any:
    web.require_object_body(app)
    creds = web.credentials(app)
    web.require_trusted_origin(app, creds)
    ended_own = runtime.sessions().logout(creds, request)
    return web.no_content([web.clear_session_cookie(runtime.settings())] if ended_own else [])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
