"""GET /auth/figma/authorize: start "Sign in with Figma" (Appwrite: createOAuth2Session)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.models import AuthorizeQuery
from figma_auth.observability import logger

runtime.check()  # bad settings fail the cold start with one line naming the variable
app = web.create_app()


@app.get(
    "/auth/figma/authorize",
    summary="Start Sign in with Figma (Appwrite: createOAuth2Session / createOAuth2Token)",
    responses=web.responses(
        {302: "To Figma's consent page; sets the login transaction cookie."},
        ("invalid_request", "invalid_redirect", "invalid_scope", "temporarily_unavailable"),
    ),
)
def authorize(params: Annotated[AuthorizeQuery, Query()]) -> Any:
    service = runtime.service()
    start = service.start_login(params, callback_url=web.callback_url(app), creds=web.credentials(app))
    return web.authorize_response(start)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
