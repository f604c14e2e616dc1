"""POST /auth/logout: end this session, one of the user's, or all of them
(Appwrite: deleteSession / deleteSessions). Always 204; clears the cookie."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body

from figma_auth import entry, openapi, runtime, web
from figma_auth.models.sessions import LogoutRequest

runtime.check()
app = web.create_app(runtime.settings)
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
    ended_own = runtime.container().sessions.logout(creds, request)
    return web.no_content([web.clear_session_cookie(app.settings)] if ended_own else [])


lambda_handler = entry.http(app)
