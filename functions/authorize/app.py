"""GET /auth/figma/authorize: start "Sign in with Figma" (Appwrite: createOAuth2Session); the
device sign-in of plugins and CLIs (RFC 8628): POST /auth/device, GET /auth/device/verify; and
agents (MCP clients) asking a person for access: GET and POST /oauth/authorize."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query

from figma_auth import agent_page, device_page, entry, openapi, runtime, web
from figma_auth.models.sign_in import AuthorizeQuery, DeviceRequest, DeviceStart

runtime.check()  # bad settings fail the cold start with one line naming the variable
app = web.create_app(runtime.settings)


@app.get(
    "/auth/figma/authorize",
    summary="Start Sign in with Figma (Appwrite: createOAuth2Session / createOAuth2Token)",
    responses=openapi.responses(
        {302: "To Figma's consent page; sets the login transaction cookie."},
        ("invalid_request", "invalid_redirect", "invalid_scope", "temporarily_unavailable"),
    ),
)
def authorize(params: Annotated[AuthorizeQuery, Query()]) -> Any:
    start = runtime.container().start_sign_in.start(
        params, callback_url=web.callback_url(app), creds=web.credentials(app)
    )
    return web.authorize_response(start)


@app.post(
    "/auth/device",
    summary="Plugins, the VS Code extension, CLIs: start a device sign-in (RFC 8628 §3.1; JSON or form body)",
    responses=openapi.responses({200: DeviceStart}, ("invalid_request", "invalid_scope", "temporarily_unavailable")),
)
def start_device() -> Any:
    request = web.validated(DeviceRequest, web.form_or_json(app))
    verify_url = web.issuer(app) + device_page.DEVICE_VERIFY_PATH
    started = runtime.container().device.start(request, verify_url=verify_url, client_address=web.client_address(app))
    return web.json_response(started)


def _verification() -> Any:
    """The verify page's use case, built on the first request that needs it."""
    return runtime.container().device_verification


HTML_PAGE = {"content": {"text/html": {"schema": {"type": "string"}}}}


@app.get(
    device_page.DEVICE_VERIFY_PATH,
    summary="The page a person opens to enter or check the device's code (HTML); after confirming, on to Figma",
    responses={
        200: {"description": "An HTML page: the code form, or the outcome.", **HTML_PAGE},
        302: {"description": "The person confirmed the code: on to Figma's consent page."},
        400: {"description": "An HTML page naming the problem.", **HTML_PAGE},
        503: {"description": "An HTML page: try again shortly.", **HTML_PAGE},
    },
)
def verify_device() -> Any:
    return device_page.verify_page(app, _verification)


@app.post(
    device_page.DEVICE_VERIFY_PATH,
    summary="The code form's answer (HTML, from our own page only): the sign-in to confirm, with who asks and from where",
    responses={
        200: {"description": "An HTML page: confirm the code, or type it (a link from elsewhere).", **HTML_PAGE},
        400: {"description": "An HTML page naming the problem (e.g. not our page's form).", **HTML_PAGE},
        404: {"description": "An HTML page: that code is not right.", **HTML_PAGE},
        429: {"description": "An HTML page: too many wrong codes from this address or browser.", **HTML_PAGE},
        503: {"description": "An HTML page: try again shortly.", **HTML_PAGE},
    },
)
def look_up_device() -> Any:
    return device_page.look_up(app, _verification)


def _agents() -> Any:
    """The agents' use case, built on the first request that needs it."""
    return runtime.container().agent_authorization


@app.get(
    agent_page.AUTHORIZE_PATH,
    summary="Agents (MCP clients): the authorization request (RFC 6749 §4.1, PKCE S256, RFC 8707 resource); "
    "signs the person in with Figma first when needed, then asks for consent (HTML)",
    responses={
        200: {
            "description": "The consent page (HTML): the client in its own words, the resource, the scopes.",
            **HTML_PAGE,
        },
        302: {"description": "On to the Figma sign-in (no session yet), or back to the client with an error."},
        400: {
            "description": "An HTML page: the client_id document or the redirect_uri could not be used.",
            **HTML_PAGE,
        },
    },
)
def agent_authorize() -> Any:
    return agent_page.authorize(app, _agents, runtime.container)


@app.post(
    agent_page.AUTHORIZE_PATH,
    summary="The consent form's answer (from our own page only): back to the client with code, state and iss",
    responses={
        303: {"description": "Back to the client's redirect_uri: code, state, iss (or error=access_denied)."},
        400: {"description": "An HTML page naming the problem (e.g. not our page's form).", **HTML_PAGE},
    },
)
def agent_decide() -> Any:
    return agent_page.decide(app, _agents, runtime.container)


lambda_handler = entry.http(app)
