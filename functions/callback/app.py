"""GET /auth/figma/callback: Figma returns here; exchange the code, create the session."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from figma_auth import entry, openapi, runtime, web
from figma_auth.credentials import tx_cookie_name
from figma_auth.observability import logger
from figma_auth.records.signin import LoginStart
from figma_auth.urls import append_query

runtime.check()
app = web.create_app(runtime.settings)


@app.get(
    "/auth/figma/callback",
    summary="Figma redirects here; exchanges the code and creates the session",
    responses=openapi.responses(
        {
            303: "To the success URL (cookie mode: sets the session cookie; token mode: #ticket=… in the "
            "fragment), or to the failure URL with ?error=access_denied|figma_error|figma_unavailable|…"
        },
        ("invalid_request", "invalid_state"),
    ),
)
def callback(
    # Read as plain strings: a missing or malformed state is invalid_state, never invalid_request.
    state: Annotated[str | None, Query(description="The state sent to Figma (43 characters).")] = None,
    code: Annotated[str | None, Query(description="Figma's authorization code (single use).")] = None,
    error: Annotated[str | None, Query(description="Figma's error, e.g. access_denied.")] = None,
) -> Any:
    return complete(app)


def complete(app: web.App) -> Response[Any]:
    """Without a trustworthy transaction: 400 JSON (Figma never called). With one: a redirect to
    its success URL (cookie mode with the session cookie), or to its failure URL with ``?error=``."""
    sign_in = runtime.container().complete_sign_in
    params = web.query(app)
    tx, verifier = sign_in.take_transaction(params, web.cookies(app))
    clear_tx = web.short_cookie(tx_cookie_name(params["state"]), "", 0)
    try:
        done = sign_in.complete(tx, verifier, params)
    except Exception as exc:  # every failure after a trustworthy transaction goes to the app
        error = web.classify(exc)
        logger.info("login failed", extra={"error": error.code})
        return web.redirect(append_query(tx.failure_url, {"error": error.code}), [clear_tx], status=303)
    jar = [clear_tx]
    if isinstance(done, LoginStart):  # back to Figma once for the union of the connection's scopes
        jar.append(web.short_cookie(done.tx_cookie_name, done.tx_cookie_value, done.tx_cookie_max_age))
        return web.redirect(done.redirect_url, jar, status=303)
    if done.session_token is not None:
        jar.append(web.session_cookie(done.session_token, app.settings))
    return web.redirect(done.redirect_url, jar, status=303)


lambda_handler = entry.http(app)
