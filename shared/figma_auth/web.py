"""HTTP glue between API Gateway (HTTP API, payload v2) and the use cases.

One place for: reading credentials, cookies and query parameters; CSRF (Origin) checks;
CORS; security headers; and mapping every error to ``{"error", "message"}`` or a redirect.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from figma_auth import runtime
from figma_auth.errors import (
    CsrfRejected,
    FigmaAuthError,
    InvalidRequest,
    NotFound,
    TemporarilyUnavailable,
)
from figma_auth.oauth import append_query
from figma_auth.observability import logger
from figma_auth.service import SESSION_COOKIE, Credentials, LoginDone, LoginStart, tx_cookie_name
from figma_auth.settings import Settings

JSON = "application/json"
HttpResponse = Response[Any]
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
}
EXPOSED_HEADERS = "Retry-After, X-Figma-Plan-Tier, X-Figma-Rate-Limit-Type, X-Figma-Upgrade-Link"
MAX_PROXY_REQUEST = 1024 * 1024  # the JSON body a proxied call may carry
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
_SAMESITE = {"Lax": SameSite.LAX_MODE, "Strict": SameSite.STRICT_MODE, "None": SameSite.NONE_MODE}


def create_app() -> APIGatewayHttpResolver:
    """A resolver with every error mapped to the contract's JSON error shape."""
    app = APIGatewayHttpResolver()

    @app.exception_handler(FigmaAuthError)
    def _known(exc: FigmaAuthError) -> HttpResponse:
        return error_response(exc)

    @app.not_found
    def _not_found(_: Exception) -> HttpResponse:
        return error_response(NotFound())

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> HttpResponse:
        return error_response(classify(exc))

    return app


def classify(exc: BaseException) -> FigmaAuthError:
    """Map anything raised to the error the caller sees (AWS throttling → 503, bugs → 500)."""
    if isinstance(exc, FigmaAuthError):
        return exc
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _THROTTLED:
        logger.warning("aws throttled after retries", extra={"aws_error": exc.response["Error"]["Code"]})
        return TemporarilyUnavailable(retry_after=1)
    if isinstance(exc, (ConnectionError, ReadTimeoutError)):
        logger.warning("aws unreachable", extra={"aws_error": type(exc).__name__})
        return TemporarilyUnavailable(retry_after=1)
    logger.exception("unexpected error")
    return FigmaAuthError()


def error_response(exc: FigmaAuthError) -> HttpResponse:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
    return Response(exc.status, JSON, json.dumps({"error": exc.code, "message": exc.message}), headers)


def json_response(body: Any, status: int = 200, cookies: list[Cookie] | None = None) -> HttpResponse:
    return Response(status, JSON, json.dumps(body), cookies=cookies or [])


def redirect(url: str, cookies: list[Cookie] | None = None, status: int = 302) -> HttpResponse:
    return Response(status, None, "", {"Location": url}, cookies=cookies or [])


# -- request parts -----------------------------------------------------------------------


def query(app: APIGatewayHttpResolver) -> dict[str, str]:
    """Single-valued query parameters (duplicates were rejected in ``handle``)."""
    raw = app.current_event.raw_event.get("rawQueryString") or ""
    return dict(parse_qsl(raw, keep_blank_values=True))


def cookies(app: APIGatewayHttpResolver) -> dict[str, str]:
    jar: dict[str, str] = {}
    for pair in app.current_event.cookies or []:
        name, _, value = str(pair).strip().partition("=")
        jar.setdefault(name, value)
    return jar


def credentials(app: APIGatewayHttpResolver) -> Credentials:
    auth = app.current_event.headers.get("authorization") or ""
    if auth:
        scheme, _, token = auth.partition(" ")
        return Credentials(token.strip() if scheme.lower() == "bearer" else None, "bearer")
    cookie = cookies(app).get(SESSION_COOKIE)
    return Credentials(cookie, "cookie" if cookie else None)


def body(app: APIGatewayHttpResolver, limit: int = 16_384) -> Any:
    from figma_auth.service import parse_json_body

    return parse_json_body(app.current_event.decoded_body, limit=limit)


def require_trusted_origin(app: APIGatewayHttpResolver, creds: Credentials) -> None:
    """CSRF: a cookie-authenticated state change must come from an allowed Origin."""
    if creds.via != "cookie":
        return
    origin = app.current_event.headers.get("origin")
    if origin not in runtime.settings().allowed_origins:
        raise CsrfRejected()


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


def callback_url(app: APIGatewayHttpResolver) -> str:
    """CALLBACK_URL, or this API's own callback route (API Gateway sets domainName, not the client)."""
    configured = runtime.settings().callback_url
    if configured:
        return configured
    return f"https://{app.current_event.request_context.domain_name}/auth/figma/callback"


def authorize_response(start: LoginStart) -> HttpResponse:
    return redirect(
        start.redirect_url, [_tx_cookie(start.tx_cookie_name, start.tx_cookie_value, start.tx_cookie_max_age)]
    )


def callback_response(app: APIGatewayHttpResolver) -> HttpResponse:
    """Complete a login. Without a trustworthy transaction: 400 JSON (Figma never called).
    With one: a redirect to its success URL, or to its failure URL with ``?error=``."""
    service = runtime.service()
    params = query(app)
    tx, verifier = service.take_transaction(params, cookies(app))
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


def handle(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve ``event`` with ``app``, then add CORS and security headers; one log line."""
    started = time.perf_counter()
    settings = runtime.settings()
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    origin = headers.get("origin")
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    path = event.get("rawPath") or "/"
    problem = _bad_query(event.get("rawQueryString") or "")
    if method == "OPTIONS":
        result = _preflight(origin, headers, settings)
    elif problem is not None:
        result = {
            "statusCode": problem.status,
            "headers": {"Content-Type": JSON},
            "isBase64Encoded": False,
            "body": json.dumps({"error": problem.code, "message": problem.message}),
        }
    else:
        result = app.resolve(event, context)
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


def _preflight(origin: str | None, headers: Mapping[str, str], settings: Settings) -> dict[str, Any]:
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


def no_content(cookies: list[Cookie] | None = None) -> HttpResponse:
    return Response(204, None, "", cookies=cookies or [])


def min_validity(app: APIGatewayHttpResolver) -> int | None:
    """``?min_validity=SECONDS`` (0 to 400 days) or None."""
    raw = query(app).get("min_validity")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) > 400 * 86400:
        raise InvalidRequest("min_validity must be a whole number of seconds (0 to 34560000)")
    return int(raw)


def proxy_response(app: APIGatewayHttpResolver) -> HttpResponse:
    """ANY /figma/{proxy+}: forward to Figma with the user's token and return its answer."""
    import base64

    from figma_auth.errors import ResponseTooLarge

    event = app.current_event
    creds = credentials(app)
    method = event.request_context.http.method
    if method != "GET":
        require_trusted_origin(app, creds)
    raw = event.raw_event.get("body")
    body: bytes | None = None
    if raw:
        body = base64.b64decode(raw) if event.is_base64_encoded else str(raw).encode()
        if len(body) > MAX_PROXY_REQUEST:
            raise InvalidRequest("request body is too large (1 MB at most)")
    answer = runtime.service().proxy(
        creds,
        method=method,
        path=str(event.raw_event.get("rawPath") or "").removeprefix("/figma/"),
        query=str(event.raw_event.get("rawQueryString") or ""),
        body=body,
        content_type=event.headers.get("content-type"),
    )
    textual = answer.content_type.startswith(("application/json", "text/"))
    try:
        payload: str | bytes = answer.body.decode() if textual else answer.body
    except UnicodeDecodeError:
        payload = answer.body
    encoded_size = len(json.dumps(payload)) if isinstance(payload, str) else len(payload) * 4 // 3
    if encoded_size + 8192 > LAMBDA_RESPONSE_LIMIT:
        raise ResponseTooLarge()
    return Response(answer.status, answer.content_type, payload, dict(answer.headers))
