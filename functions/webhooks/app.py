"""A user's Figma webhooks: from the browser (cookie or Bearer; the CSRF rule on writes) and
from the app's backend (AWS_IAM, as any user). Figma's events then reach the app's EventBridge
through POST /webhooks/figma (functions/webhook_receiver)."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Any

from figma_auth import entry, openapi, runtime, web
from figma_auth.models.webhooks import WebhookCreate, WebhookList, WebhookView

runtime.check()
app = web.create_app(runtime.settings)
MINE = "/auth/webhooks"
THEIRS = "/connections/{user_id}/webhooks"
CREATE_ERRORS = (
    "invalid_request",
    "insufficient_scope",
    "webhook_quota",
    "webhook_forbidden",
    "rate_limited",
    "reauth_required",
    "figma_error",
    "figma_unavailable",
    "temporarily_unavailable",
)


def _mine() -> Any:
    creds = web.credentials(app)
    if app.current_event.request_context.http.method != "GET":
        web.require_trusted_origin(app, creds)
    return runtime.container().authenticate(creds).connection


def _theirs(user_id: str) -> Any:
    from figma_auth.usecases.connections import connection_of  # on the first backend call, not at cold start

    return connection_of(runtime.container().store, user_id)


def _created(created: Any) -> Any:
    """201 with the new webhook, or 200 with the one the user already held for this event and context."""
    return web.json_response(created.view, 201 if created.new else 200)


@app.post(
    MINE,
    summary="Watch a Figma file, project or team: a webhook at Figma for this user, relayed to EventBridge",
    responses=openapi.responses(
        {201: WebhookView, 200: WebhookView}, ("unauthorized", "csrf_rejected", *CREATE_ERRORS)
    ),
    security=openapi.SESSION_SECURITY,
)
def create_mine(request: WebhookCreate) -> Any:  # the JSON body (Powertools validates it)
    return _created(runtime.container().webhooks.create(_mine(), request, issuer=web.issuer(app)))


@app.get(
    MINE,
    summary="This user's webhooks",
    responses=openapi.responses({200: WebhookList}, ("unauthorized", "temporarily_unavailable")),
    security=openapi.SESSION_SECURITY,
)
def list_mine() -> Any:
    return web.json_response(runtime.container().webhooks.list(_mine()))


@app.delete(
    web.route_rule(MINE + "/{id}"),
    summary="Delete one of this user's webhooks (at Figma and here)",
    responses=openapi.responses(
        {204: "Deleted."}, ("unauthorized", "csrf_rejected", "not_found", "figma_error", "temporarily_unavailable")
    ),
    security=openapi.SESSION_SECURITY,
)
def delete_mine(id: str) -> Any:  # noqa: A002 - the contract's path parameter
    runtime.container().webhooks.delete(_mine(), id)
    return web.no_content()


@app.post(
    web.route_rule(THEIRS),
    summary="Create a webhook for this user (backend, AWS IAM)",
    responses=openapi.responses({201: WebhookView, 200: WebhookView}, ("not_found", *CREATE_ERRORS)),
    security=openapi.IAM_SECURITY,
)
def create_theirs(user_id: str, request: WebhookCreate) -> Any:
    return _created(runtime.container().webhooks.create(_theirs(user_id), request, issuer=web.issuer(app)))


@app.get(
    web.route_rule(THEIRS),
    summary="This user's webhooks (backend, AWS IAM)",
    responses=openapi.responses({200: WebhookList}, ("not_found", "temporarily_unavailable")),
    security=openapi.IAM_SECURITY,
)
def list_theirs(user_id: str) -> Any:
    return web.json_response(runtime.container().webhooks.list(_theirs(user_id)))


@app.delete(
    web.route_rule(THEIRS + "/{id}"),
    summary="Delete one of this user's webhooks (backend, AWS IAM)",
    responses=openapi.responses({204: "Deleted."}, ("not_found", "figma_error", "temporarily_unavailable")),
    security=openapi.IAM_SECURITY,
)
def delete_theirs(user_id: str, id: str) -> Any:  # noqa: A002 - the contract's path parameter
    runtime.container().webhooks.delete(_theirs(user_id), id)
    return web.no_content()


lambda_handler = entry.http(app)
