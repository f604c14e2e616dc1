"""/oauth/authorize, the web side: an agent (MCP client) asks a person for access.

GET checks the request (``usecases.agents``), signs the person in with Figma first when this
browser has no session (the usual sign-in, which comes back here), and shows the consent page:
the client in its own words, where it returns, the resource and the scopes. The page cannot be
framed; its form POSTs back here with a value derived from this browser's consent cookie and
the session and the exact request, so no other site and no other request can use it. POST then
sends the browser back to the client with ``code``, ``state`` and ``iss`` (RFC 9207), or an
``access_denied``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.shared.cookies import Cookie

from figma_auth import pages, web
from figma_auth.errors import InvalidState, Unauthorized
from figma_auth.tokens import constant_time_equal, derive, random_token

if TYPE_CHECKING:  # records cost ≈ 12 ms to import: the sign-in's start never needs them
    from figma_auth.container import Container
    from figma_auth.records import Current
    from figma_auth.usecases.agents import AgentAuthorization, AgentRequest

AUTHORIZE_PATH = "/oauth/authorize"
CONSENT_COOKIE = "__Host-figma_auth_consent"  # this browser's consent forms
CONSENT_SECONDS = 600
SIGNED_IN = "signed_in"  # on the way back from the sign-in: do not send the person to Figma twice
FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
    "scope",
)
Agents = Callable[[], "AgentAuthorization"]
Parts = Callable[[], "Container"]  # the container, built on the first request that needs it
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def authorize(app: web.App, agents: Agents, parts: Parts) -> Response[Any]:
    """GET: an error, the sign-in first, or the consent page."""
    from figma_auth.usecases.agents import ClientProblem, PageProblem

    params = web.query(app)
    try:
        request = agents().check(params)
    except PageProblem as exc:
        return page_response(app, pages.agent_failed(exc.code, exc.message), None, status=exc.status)
    except ClientProblem as problem:
        return web.redirect(problem.location(web.issuer(app)))
    if "error" in params:  # our own sign-in came back refused (the person declined at Figma)
        return web.redirect(request.fail("access_denied", "The person did not sign in.").location(web.issuer(app)))
    current = _signed_in(app, parts)
    held = set(current.connection.scopes) if current else set()
    if current is None or (not set(request.scopes) <= held and SIGNED_IN not in params):
        return _sign_in_first(app, parts, request, params, held)
    return _consent(app, request, current)


def decide(app: web.App, agents: Agents, parts: Parts) -> Response[Any]:
    """POST from our own consent form: back to the client with a code, or access_denied."""
    from figma_auth.usecases.agents import ClientProblem, PageProblem

    form = {k: str(v) for k, v in web.form_or_json(app).items()}
    try:
        request = agents().check(form)
    except PageProblem as exc:
        return page_response(app, pages.agent_failed(exc.code, exc.message), None, status=exc.status)
    except ClientProblem as refused:
        return web.redirect(refused.location(web.issuer(app)), status=303)
    current = _signed_in(app, parts)
    browser = web.cookies(app).get(CONSENT_COOKIE)
    expected = _csrf(browser, current, request) if browser and current else None
    if expected is None or not constant_time_equal(expected, form.get("csrf", "")):
        problem = InvalidState("This page expired or was opened in another browser: start connecting again.")
        return page_response(app, pages.agent_failed(problem.code, problem.message), request, status=problem.status)
    if form.get("decision") != "allow" or current is None:
        denied = request.fail("access_denied", "The person denied access.")
        return web.redirect(denied.location(web.issuer(app)), status=303)
    issuer = web.issuer(app)
    return web.redirect(agents().allow(request, user_id=current.session.user_id, issuer=issuer), status=303)


def _signed_in(app: web.App, parts: Parts) -> Current | None:
    creds = web.credentials(app)
    if creds.via != "cookie":  # a browser's page: only its session cookie counts
        return None
    try:
        current = parts().authenticate(creds)
    except Unauthorized:
        return None
    return current


def _sign_in_first(
    app: web.App, parts: Parts, request: AgentRequest, params: dict[str, str], held: set[str]
) -> Response[Any]:
    """The usual Figma sign-in (cookie mode), returning here; a refusal comes back with error."""
    here = web.issuer(app) + AUTHORIZE_PATH + "?" + urlencode({k: params[k] for k in FORWARDED if k in params})
    start = parts().start_sign_in.begin(
        success=here + "&" + urlencode({SIGNED_IN: "1"}),
        failure=here,
        scopes=tuple(dict.fromkeys((*held, *request.scopes))),
        mode="cookie",
        app_challenge=None,
        callback_url=web.callback_url(app),
    )
    return web.authorize_response(start)


def _consent(app: web.App, request: AgentRequest, current: Current) -> Response[Any]:
    browser = web.cookies(app).get(CONSENT_COOKIE)
    jar: list[Cookie] = []
    if not browser:
        browser = random_token(32)
        jar.append(web.short_cookie(CONSENT_COOKIE, browser, CONSENT_SECONDS))
    fields = {
        "response_type": "code",
        "client_id": request.client.client_id,
        "redirect_uri": request.redirect_uri,
        **({"state": request.state} if request.state is not None else {}),
        "code_challenge": request.code_challenge,
        "code_challenge_method": "S256",
        "resource": request.resource,
        "scope": " ".join(request.scopes),
        "csrf": _csrf(browser, current, request),
    }
    about = pages.AgentConsent(
        client_name=request.client.client_name,
        client_id=request.client.client_id,
        logo_uri=request.client.logo_uri,
        return_host=urlsplit(request.redirect_uri).netloc or request.redirect_uri.split(":")[0],
        resource=request.resource,
        scopes=request.scopes,
        user=current.connection.profile.handle or current.session.user_id,
    )
    return page_response(app, pages.consent(AUTHORIZE_PATH, about, fields), request, cookies=jar)


def _csrf(browser: str, current: Current, request: AgentRequest) -> str:
    return derive(browser, f"consent:{current.session.id}:{request.fingerprint()}")


def page_response(
    app: web.App,
    page: str,
    request: AgentRequest | None,
    *,
    status: int = 200,
    cookies: list[Cookie] | None = None,
) -> Response[Any]:
    """Not frameable; the form may go only here, and on (its redirect) to the client."""
    back = _source(request.redirect_uri) if request else ""
    logo = _source(request.client.logo_uri) if request and request.client.logo_uri else ""
    policy = (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: {logo}; form-action 'self' {back}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    headers = {"Content-Security-Policy": policy, "X-Frame-Options": "DENY"}
    return Response(status, "text/html; charset=utf-8", page, headers, cookies=cookies or [])


def _source(url: str) -> str:
    """A CSP source for ``url``: its origin (http/https), or its scheme (an app's own scheme)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}" if _HOST.fullmatch(parts.netloc) else ""
    return f"{parts.scheme}:" if re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme) else ""
