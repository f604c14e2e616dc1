"""POST /auth/refresh: renew the Figma access token, single-flight (Appwrite: updateSession)."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from figma_auth import entry, openapi, runtime, web
from figma_auth.models.sessions import RefreshQuery
from figma_auth.models.views import SessionView

runtime.check()
app = web.create_app(runtime.settings)


@app.post(
    "/auth/refresh",
    summary="Renew the Figma access token, single-flight (Appwrite: updateSession('current'))",
    responses=openapi.responses(
        {200: SessionView},
        (
            "invalid_request",
            "unauthorized",
            "reauth_required",
            "csrf_rejected",
            "figma_error",
            "figma_unavailable",
            "temporarily_unavailable",
        ),
    ),
    security=openapi.SESSION_SECURITY,
)
def refresh(params: Annotated[RefreshQuery, Query()]) -> Any:
    creds = web.credentials(app)
    web.require_trusted_origin(app, creds)
    return web.json_response(runtime.container().sessions.refresh(creds, params.min_validity))


lambda_handler = entry.http(app)
