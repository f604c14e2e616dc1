"""GET /auth/figma/authorize: start "Sign in with Figma" (Appwrite: createOAuth2Session)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import runtime, web
from figma_auth.models import AuthorizeQuery
from figma_auth.observability import logger

runtime.check()  # bad settings fail the cold start with one line naming the variable
app = web.create_app()


@app.get(
    "/auth/figma/authorize",
    summary="Start Sign in with Figma (Appwrite: createOAuth2Session / createOAuth2Token)",
    query=AuthorizeQuery,
    responses={302: "To Figma's consent page; sets the login transaction cookie."},
    errors=("invalid_request", "invalid_redirect", "invalid_scope", "temporarily_unavailable"),
)
def authorize() -> Any:
    return web.authorize_response(runtime.service().start_login(web.query(), callback_url=web.callback_url()))


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
