"""GET /auth/device/verify: the page a person opens to sign a device (plugin, CLI) in. It asks
for the code, shows it with the scopes to confirm (bound to this browser by a short cookie),
then sends the person on to Figma; after the callback it says the outcome in words."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie

from figma_auth import pages, runtime, web
from figma_auth.credentials import DEVICE_COOKIE
from figma_auth.errors import FigmaAuthError, NotFound
from figma_auth.tokens import derive, random_token

DEVICE_VERIFY_PATH = "/auth/device/verify"
CONFIRM_SECONDS = 600  # how long the page's "codes match" stays valid in this browser
_OUTCOMES = {
    "access_denied": "You declined at Figma, so the app was not signed in.",
    "expired_token": "This code expired or was already used. Start signing in again from your app.",
    "invalid_state": "This sign-in expired or was started in another browser. Start again from your app.",
    "figma_error": "Figma answered with an error. Start again from your app.",
    "figma_unavailable": "Figma is unavailable right now. Try again in a minute.",
    "temporarily_unavailable": "We are busy right now. Try again in a minute.",
    "server_error": "Something went wrong on our side.",
}


def verify_response(app: APIGatewayHttpResolver) -> Response[Any]:
    params = web.query(app)
    if params.get("result") == "done":
        return html_response(pages.done())
    if "error" in params:
        code = params["error"] if params["error"] in _OUTCOMES else "server_error"
        return html_response(pages.failed(code, _OUTCOMES[code]))
    typed = params.get("user_code", "")
    if not typed:
        return html_response(pages.enter_code(DEVICE_VERIFY_PATH))
    device = runtime.device()
    try:
        if "confirm" in params:
            start = device.confirm(
                typed,
                params["confirm"],
                web.cookies(app).get(DEVICE_COOKIE),
                callback_url=web.callback_url(app),
                verify_url=web.issuer(app) + DEVICE_VERIFY_PATH,
            )
            response = web.authorize_response(start)
            response.cookies.append(_confirmation_cookie("", 0))
            return response
        shown, pending = device.to_confirm(typed, client=web.client_address(app))
    except FigmaAuthError as exc:
        if isinstance(exc, NotFound):
            return html_response(pages.enter_code(DEVICE_VERIFY_PATH, exc.message), status=404)
        return html_response(pages.failed(exc.code, exc.message), status=exc.status)
    secret = random_token(32)
    confirmation = derive(secret, "device:" + shown.replace("-", ""))
    page = pages.confirm(DEVICE_VERIFY_PATH, shown, list(pending.scopes), confirmation, pending.client_id)
    return html_response(page, cookies=[_confirmation_cookie(secret, CONFIRM_SECONDS)])


def html_response(page: str, *, status: int = 200, cookies: list[Cookie] | None = None) -> Response[Any]:
    figma = urlsplit(runtime.settings().figma_auth_url)
    policy = pages.csp(f"{figma.scheme}://{figma.netloc}")
    return Response(
        status, "text/html; charset=utf-8", page, {"Content-Security-Policy": policy}, cookies=cookies or []
    )


def _confirmation_cookie(value: str, max_age: int) -> Cookie:
    return web.short_cookie(DEVICE_COOKIE, value, max_age)
