"""HTTP glue between API Gateway (HTTP API, payload v2) and the use cases.

One place for: routing, reading credentials, cookies and query parameters; CSRF (Origin)
checks; CORS; security headers; and mapping every error to ``{"error", "message"}`` or a
redirect.

Routing is a small router of our own rather than Powertools' resolver: the resolver keeps the
current event in class-level (process-wide) state, which is fine in Lambda but races when the
local stack serves concurrent requests from threads. Here the request lives in a ContextVar.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from pydantic import BaseModel

from figma_auth import runtime
from figma_auth.errors import (
    CsrfRejected,
    FigmaAuthError,
    InvalidRequest,
    NotFound,
    ResponseTooLarge,
    TemporarilyUnavailable,
)
from figma_auth.models import MAX_MIN_VALIDITY, RefreshQuery, dump, parse
from figma_auth.oauth import append_query
from figma_auth.observability import logger
from figma_auth.service import SESSION_COOKIE, Credentials, LoginDone, LoginStart, parse_json_body, tx_cookie_name
from figma_auth.settings import Settings

JSON = "application/json"
MAX_QUERY_LENGTH = 4096
_THROTTLED = {
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "InternalServerError",
    "ServiceUnavailable",
    "KMSInternalException",
    "TransactionInProgressException",
    "TransactionCanceledException",  # a conflict or throttle inside a transaction: retryable
    "TransactionConflictException",
    "KMSInvalidStateException",  # key disabled or pending import: an operator must act; callers retry later
}
EXPOSED_HEADERS = "Retry-After, X-Figma-Plan-Tier, X-Figma-Rate-Limit-Type, X-Figma-Upgrade-Link"
MAX_PROXY_REQUEST = 1024 * 1024  # the JSON body a proxied call may carry
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_SAMESITE = {"Lax": SameSite.LAX_MODE, "Strict": SameSite.STRICT_MODE, "None": SameSite.NONE_MODE}


# -- request and response -----------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """The parts of a payload-v2 event the handlers use."""

    method: str
    path: str
    raw_query: str
    headers: Mapping[str, str]
    cookie_pairs: tuple[str, ...]
    body: bytes | None
    domain: str

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Request:
        http = (event.get("requestContext") or {}).get("http") or {}
        raw_body = event.get("body")
        body = None
        if raw_body:
            body = base64.b64decode(raw_body) if event.get("isBase64Encoded") else str(raw_body).encode()
        return cls(
            method=str(http.get("method") or "GET").upper(),
            path=str(event.get("rawPath") or http.get("path") or "/"),
            raw_query=str(event.get("rawQueryString") or ""),
            headers={str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()},
            cookie_pairs=tuple(str(c) for c in event.get("cookies") or ()),
            body=body,
            domain=str((event.get("requestContext") or {}).get("domainName") or ""),
        )


_current: ContextVar[Request] = ContextVar("figma_auth_request")


def request() -> Request:
    return _current.get()


@dataclass
class HttpResponse:
    status: int
    body: str | bytes = ""
    content_type: str | None = JSON
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[Cookie] = field(default_factory=list)

    def to_v2(self) -> dict[str, Any]:
        headers = dict(self.headers)
        if self.content_type:
            headers["Content-Type"] = self.content_type
        binary = isinstance(self.body, bytes)
        body = base64.b64encode(self.body).decode() if isinstance(self.body, bytes) else self.body
        result: dict[str, Any] = {
            "statusCode": self.status,
            "headers": headers,
            "body": body,
            "isBase64Encoded": binary,
        }
        if self.cookies:
            result["cookies"] = [str(c) for c in self.cookies]
        return result


@dataclass(frozen=True)
class Route:
    """One operation: how it is matched and what it reads and answers (for the OpenAPI document)."""

    methods: frozenset[str]
    path: str  # as in template.yaml: "/auth/session", "/figma/{proxy+}"
    fn: Callable[[], HttpResponse]
    summary: str = ""
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    responses: Mapping[int, type[BaseModel] | str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    error_status: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # codes with other statuses
    auth: bool = False
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{[a-z_]+\\\+\\\}", ".+", re.escape(self.path))  # "{proxy+}" → greedy
        object.__setattr__(self, "pattern", re.compile("^" + regex + "$"))


Handler = Callable[[], HttpResponse]


class Router:
    """Routes (method, path) to a function; errors become the contract's JSON errors."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, path: str, methods: list[str], **doc: Any) -> Callable[[Handler], Handler]:
        """``path`` is the template's route path; ``{name+}`` matches the rest of the path.
        ``doc``: summary, query/body models, responses {status: model or description}, the
        error codes the route can answer with, and whether it needs a session (auth)."""

        def register(fn: Handler) -> Handler:
            self.routes.append(Route(frozenset(m.upper() for m in methods), path, fn, **doc))
            return fn

        return register

    def get(self, path: str, **doc: Any) -> Callable[[Handler], Handler]:
        return self.route(path, ["GET"], **doc)

    def post(self, path: str, **doc: Any) -> Callable[[Handler], Handler]:
        return self.route(path, ["POST"], **doc)

    def resolve(self, req: Request) -> HttpResponse:
        for route in self.routes:
            if req.method in route.methods and route.pattern.match(req.path):
                try:
                    return route.fn()
                except Exception as exc:  # every error ends as the contract's JSON shape
                    return error_response(classify(exc))
        return error_response(NotFound())


def create_app() -> Router:
    return Router()


def classify(exc: BaseException) -> FigmaAuthError:
    """Map anything raised to the error the caller sees (AWS throttling → 503, bugs → 500)."""
    if isinstance(exc, FigmaAuthError):
        return exc
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _THROTTLED:
        logger.warning("aws unavailable after retries", extra={"aws_error": exc.response["Error"]["Code"]})
        return TemporarilyUnavailable(retry_after=1)
    if isinstance(exc, (ConnectionError, ReadTimeoutError)):
        logger.warning("aws unreachable", extra={"aws_error": type(exc).__name__})
        return TemporarilyUnavailable(retry_after=1)
    logger.exception("unexpected error")
    return FigmaAuthError()


def error_response(exc: FigmaAuthError) -> HttpResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
    return HttpResponse(exc.status, json.dumps({"error": exc.code, "message": exc.message}), JSON, headers)


def json_response(body: BaseModel | Any, status: int = 200, cookies: list[Cookie] | None = None) -> HttpResponse:
    payload = dump(body) if isinstance(body, BaseModel) else body
    return HttpResponse(status, json.dumps(payload), JSON, cookies=cookies or [])


def redirect(url: str, cookies: list[Cookie] | None = None, status: int = 302) -> HttpResponse:
    return HttpResponse(status, "", None, {"Location": url}, cookies or [])


def no_content(cookies: list[Cookie] | None = None) -> HttpResponse:
    return HttpResponse(204, "", None, cookies=cookies or [])


# -- request parts -----------------------------------------------------------------------


def query() -> dict[str, str]:
    """Single-valued query parameters (duplicates were rejected in ``handle``)."""
    return dict(parse_qsl(request().raw_query, keep_blank_values=True))


def cookies() -> dict[str, str]:
    jar: dict[str, str] = {}
    for pair in request().cookie_pairs:
        name, _, value = pair.strip().partition("=")
        jar.setdefault(name, value)
    return jar


def credentials() -> Credentials:
    auth = request().headers.get("authorization") or ""
    if auth:
        scheme, _, token = auth.partition(" ")
        return Credentials(token.strip() if scheme.lower() == "bearer" else None, "bearer")
    cookie = cookies().get(SESSION_COOKIE)
    return Credentials(cookie, "cookie" if cookie else None)


def body(limit: int = 16_384) -> Any:
    raw = request().body
    if raw is not None and len(raw) > limit:
        raise InvalidRequest("request body is too large")
    try:
        text = raw.decode() if raw is not None else None
    except UnicodeDecodeError:
        raise InvalidRequest("request body is not UTF-8 JSON") from None
    return parse_json_body(text, limit=limit)


def require_trusted_origin(creds: Credentials) -> None:
    """CSRF: a cookie-authenticated state change must come from an allowed Origin."""
    if creds.via != "cookie":
        return
    if request().headers.get("origin") not in runtime.settings().allowed_origins:
        raise CsrfRejected()


def min_validity() -> int | None:
    """``?min_validity=SECONDS`` (0 to 400 days) or None."""
    raw = query().get("min_validity")
    if raw is not None and not raw.isdigit():  # digits only: no signs, spaces, "1e3" or "10.0"
        raise InvalidRequest(f"min_validity must be a whole number of seconds (0 to {MAX_MIN_VALIDITY})")
    return parse(RefreshQuery, {"min_validity": raw} if raw is not None else {}).min_validity


# -- cookies -----------------------------------------------------------------------------


def session_cookie(value: str, settings: Settings) -> Cookie:
    return Cookie(
        SESSION_COOKIE,
        value,
        path="/",
        secure=True,
        http_only=True,
        same_site=_SAMESITE[settings.session_cookie_samesite],
        max_age=settings.session_ttl_seconds,
    )


def clear_session_cookie(settings: Settings) -> Cookie:
    return Cookie(
        SESSION_COOKIE,
        "",
        path="/",
        secure=True,
        http_only=True,
        same_site=_SAMESITE[settings.session_cookie_samesite],
        max_age=0,
    )


def _tx_cookie(name: str, value: str, max_age: int) -> Cookie:
    return Cookie(name, value, path="/", secure=True, http_only=True, same_site=SameSite.LAX_MODE, max_age=max_age)


# -- the two redirecting flows -----------------------------------------------------------


def callback_url() -> str:
    """CALLBACK_URL, or this API's own callback route (API Gateway sets domainName, not the client)."""
    configured = runtime.settings().callback_url
    if configured:
        return configured
    return f"https://{request().domain}/auth/figma/callback"


def authorize_response(start: LoginStart) -> HttpResponse:
    return redirect(
        start.redirect_url, [_tx_cookie(start.tx_cookie_name, start.tx_cookie_value, start.tx_cookie_max_age)]
    )


def callback_response() -> HttpResponse:
    """Complete a login. Without a trustworthy transaction: 400 JSON (Figma never called).
    With one: a redirect to its success URL, or to its failure URL with ``?error=``."""
    service = runtime.service()
    params = query()
    tx, verifier = service.take_transaction(params, cookies())
    clear_tx = _tx_cookie(tx_cookie_name(params["state"]), "", 0)
    try:
        done: LoginDone = service.complete_login(tx, verifier, params)
    except Exception as exc:  # every failure after a trustworthy transaction goes to the app
        error = classify(exc)
        logger.info("login failed", extra={"error": error.code})
        return redirect(append_query(tx.failure_url, {"error": error.code}), [clear_tx], status=303)
    jar = [clear_tx]
    if done.session_token is not None:
        jar.append(session_cookie(done.session_token, service.settings))
    return redirect(done.redirect_url, jar, status=303)


# -- the entry point every function uses -------------------------------------------------


def handle(app: Router, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve ``event`` with ``app``, then add CORS and security headers; one log line."""
    started = time.perf_counter()
    settings = runtime.settings()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    origin = headers.get("origin")
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    path = event.get("rawPath") or "/"
    problem = _bad_query(event.get("rawQueryString") or "")
    if method == "OPTIONS":
        result = _preflight(origin, settings)
    elif problem is not None:
        result = {
            "statusCode": problem.status,
            "headers": {"Content-Type": JSON},
            "isBase64Encoded": False,
            "body": json.dumps({"error": problem.code, "message": problem.message}),
        }
    else:
        req = Request.from_event(event)
        token = _current.set(req)
        try:
            result = app.resolve(req).to_v2()
        finally:
            _current.reset(token)
    _decorate(result, origin, path, settings)
    logger.info(
        "request",
        extra={
            "route": event.get("routeKey"),
            "status": result.get("statusCode"),
            "error": _error_code(result),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return result


def _bad_query(raw: str) -> InvalidRequest | None:
    if len(raw) > MAX_QUERY_LENGTH:
        return InvalidRequest("query string is too long")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False, max_num_fields=64)
    except ValueError:
        return InvalidRequest("too many query parameters")
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        return InvalidRequest("a query parameter is repeated; send each at most once")
    return None


def _preflight(origin: str | None, settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {"statusCode": 204, "headers": {}, "body": "", "isBase64Encoded": False}
    if origin in settings.allowed_origins:
        out["headers"].update(
            {
                "Access-Control-Allow-Methods": _METHODS,
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
    return out


def _decorate(result: dict[str, Any], origin: str | None, path: str, settings: Settings) -> None:
    h = result.setdefault("headers", {})
    if origin and origin in settings.allowed_origins:
        h["Access-Control-Allow-Origin"] = origin
        h["Access-Control-Allow-Credentials"] = "true"
        h["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    h["Vary"] = "Origin"
    h["X-Content-Type-Options"] = "nosniff"
    h["Referrer-Policy"] = "no-referrer"
    if path.startswith("/auth/"):
        h["Cache-Control"] = "no-store"


def _error_code(result: dict[str, Any]) -> str | None:
    if int(result.get("statusCode", 200)) < 400:
        return None
    try:
        code = json.loads(result.get("body") or "{}").get("error")
    except ValueError:
        return None
    return code if isinstance(code, str) else None


def proxy_response() -> HttpResponse:
    """ANY /figma/{proxy+}: forward to Figma with the user's token and return its answer."""
    req = request()
    creds = credentials()
    if req.method != "GET":
        require_trusted_origin(creds)
    if req.body is not None and len(req.body) > MAX_PROXY_REQUEST:
        raise InvalidRequest("request body is too large (1 MB at most)")
    answer = runtime.service().proxy(
        creds,
        method=req.method,
        path=req.path.removeprefix("/figma/"),
        query=req.raw_query,
        body=req.body or None,
        content_type=req.headers.get("content-type"),
    )
    textual = answer.content_type.startswith(("application/json", "text/"))
    try:
        payload: str | bytes = answer.body.decode() if textual else answer.body
    except UnicodeDecodeError:
        payload = answer.body
    encoded_size = len(json.dumps(payload)) if isinstance(payload, str) else len(payload) * 4 // 3
    if encoded_size + 8192 > LAMBDA_RESPONSE_LIMIT:
        raise ResponseTooLarge()
    return HttpResponse(answer.status, payload, answer.content_type, dict(answer.headers))
