"""/auth/device/verify: the page a person opens to sign a device (plugin, CLI) in.

GET shows the code form (pre-filled from the app's link, or empty), setting this browser's
verify cookie; the form POSTs the code with a value derived from that cookie, so only our own
page can spend the guessing budget. The confirm page shows who asks, when and from where, and
is bound to this browser by a short cookie; its GET goes on to Figma; after the callback the
page says the outcome in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.shared.cookies import Cookie

from figma_auth import pages, web
from figma_auth.credentials import DEVICE_COOKIE, VERIFY_COOKIE
from figma_auth.errors import FigmaAuthError, InvalidState, NotFound
from figma_auth.tokens import constant_time_equal, derive, random_token

DEVICE_VERIFY_PATH = "/auth/device/verify"
CONFIRM_SECONDS = 600  # how long the page's "codes match" stays valid in this browser
BROWSER_SECONDS = 3600  # this browser's verify cookie (its own guessing budget)
TYPE_IT = "This sign-in was started elsewhere or a while ago: type the code your app shows to continue."
if TYPE_CHECKING:
    from figma_auth.usecases.device_verify import DeviceVerification

Verification = Callable[[], "DeviceVerification"]  # the use case, built on the first request that needs it
_OUTCOMES = {
    "access_denied": "You declined at Figma, so the app was not signed in.",
    "expired_token": "This code expired or was already used. Start signing in again from your app.",
    "invalid_state": "This sign-in expired or was started in another browser. Start again from your app.",
    "figma_error": "Figma answered with an error. Start again from your app.",
    "figma_unavailable": "Figma is unavailable right now. Try again in a minute.",
    "temporarily_unavailable": "We are busy right now. Try again in a minute.",
    "server_error": "Something went wrong on our side.",
}


def verify_page(app: web.App, verification: Verification) -> Response[Any]:
    """GET: the outcome, the step on to Figma after a confirmation, or the code form."""
    params = web.query(app)
    if params.get("result") == "done":
        from figma_auth.usecases.device_verify import done_mark  # use cases load on first use

        client, browser = params.get("client", ""), web.cookies(app).get(VERIFY_COOKIE)
        named = bool(client and browser) and constant_time_equal(
            done_mark(browser or "", client), params.get("mark", "")
        )
        return html_response(app, pages.done(client if named else None))
    if "error" in params:
        code = params["error"] if params["error"] in _OUTCOMES else "server_error"
        return html_response(app, pages.failed(code, _OUTCOMES[code]))
    if "confirm" in params:
        try:
            start = verification().confirm(
                params.get("user_code", ""),
                params["confirm"],
                web.cookies(app).get(DEVICE_COOKIE),
                callback_url=web.callback_url(app),
                verify_url=web.issuer(app) + DEVICE_VERIFY_PATH,
                browser=web.cookies(app).get(VERIFY_COOKIE),
            )
        except FigmaAuthError as exc:
            return html_response(app, pages.failed(exc.code, exc.message), status=exc.status)
        response = web.authorize_response(start)
        response.cookies.append(web.short_cookie(DEVICE_COOKIE, "", 0))
        return response
    return code_form(app, code=params.get("user_code", "")[:16] or None)


def look_up(app: web.App, verification: Verification) -> Response[Any]:
    """POST from our own form: the code's sign-in, shown to confirm, or the form again saying why."""
    form = web.form_or_json(app)
    browser = web.cookies(app).get(VERIFY_COOKIE)
    sent = str(form.get("csrf", ""))
    if not browser or not constant_time_equal(derive(browser, "verify-form"), sent):
        problem = InvalidState("Open the link from your app again (this page was opened in another browser).")
        return html_response(app, pages.failed(problem.code, problem.message), status=problem.status)
    typed, from_link = str(form.get("user_code", "")), form.get("via") == "link"
    try:
        found = verification().look_up(typed, address=web.client_address(app), browser=browser, from_link=from_link)
    except NotFound as exc:
        return code_form(app, problem=exc.message, status=404)
    except FigmaAuthError as exc:
        return html_response(app, pages.failed(exc.code, exc.message), status=exc.status)
    if found.must_type:
        return code_form(app, problem=TYPE_IT)
    secret = random_token(32)
    facts = pages.SignInFacts(found.device.client_id, found.started_minutes_ago, found.same_network)
    confirmation = derive(secret, "device:" + found.user_code.replace("-", ""))
    page = pages.confirm(DEVICE_VERIFY_PATH, found.user_code, list(found.device.scopes), confirmation, facts)
    return html_response(app, page, cookies=[web.short_cookie(DEVICE_COOKIE, secret, CONFIRM_SECONDS)])


def code_form(app: web.App, *, code: str | None = None, problem: str | None = None, status: int = 200) -> Response[Any]:
    """The code form, tied to this browser's verify cookie (set now when it has none)."""
    browser = web.cookies(app).get(VERIFY_COOKIE)
    jar = []
    if not browser:  # this browser's first visit: its own cookie (and guessing budget) from now on
        browser = random_token(32)
        jar.append(web.short_cookie(VERIFY_COOKIE, browser, BROWSER_SECONDS))
    page = pages.enter_code(DEVICE_VERIFY_PATH, derive(browser, "verify-form"), problem, code=code)
    return html_response(app, page, status=status, cookies=jar)


def html_response(app: web.App, page: str, *, status: int = 200, cookies: list[Cookie] | None = None) -> Response[Any]:
    figma = urlsplit(app.settings.figma_auth_url)
    policy = pages.csp(f"{figma.scheme}://{figma.netloc}")
    return Response(
        status, "text/html; charset=utf-8", page, {"Content-Security-Policy": policy}, cookies=cookies or []
    )
