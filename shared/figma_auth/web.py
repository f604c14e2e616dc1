"""HTTP glue between API Gateway (HTTP API, payload v2) and the use cases.

Every function is a Powertools ``APIGatewayHttpResolver`` with validation on, built by
``create_app``: CORS from ``cors_config`` (the one CORS policy; API Gateway configures none,
so it passes these headers through and routes preflights to the functions), every error
mapped to ``{"error", "message"}`` in one exception handler, pydantic validation failures
answered as the contract's ``400 invalid_request`` naming the field. ``handle`` wraps
``resolve`` with the checks that precede routing, the security headers and one log line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from pydantic import BaseModel

from figma_auth.credentials import SESSION_COOKIE, Credentials
from figma_auth.errors import (
    CsrfRejected,
    FigmaAuthError,
    InvalidRequest,
    NotFound,
    TemporarilyUnavailable,
    first_problem,
)
from figma_auth.models import dump
from figma_auth.observability import logger
from figma_auth.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from figma_auth.records.signin import LoginStart

JSON = "application/json"
MAX_QUERY_LENGTH = 4096
TOO_DEEP = "request body is nested too deeply"
NOT_UNICODE = "request body has text that is not valid Unicode (a lone surrogate escape)"
GREEDY = ".+"  # Powertools' catch-all rule: what API Gateway's {name+} matches


def route_rule(template_path: str) -> str:
    """A template.yaml route path in Powertools' syntax: ``{name}`` → ``<name>``, and the
    greedy ``{name+}`` → a catch-all (Powertools' ``<name>`` stops at a slash)."""
    import re

    return re.sub(r"\{(\w+)\}", r"<\1>", re.sub(r"\{\w+\+\}", GREEDY, template_path))


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
EXPOSED_HEADERS = [
    "Retry-After",
    "X-Figma-Plan-Tier",
    "X-Figma-Rate-Limit-Type",
    "X-Figma-Upgrade-Link",
    "X-Figma-Auth-Cache",
    "X-Figma-Version",
    "Age",
]
_SAMESITE = {"Lax": SameSite.LAX_MODE, "Strict": SameSite.STRICT_MODE, "None": SameSite.NONE_MODE}


# -- the app every function builds ---------------------------------------------------------


def cors_config(settings: Settings) -> CORSConfig | None:
    """The one CORS policy: credentialed, for ALLOWED_ORIGINS only (preflights included)."""
    origins = list(settings.allowed_origins)
    if not origins:
        return None
    return CORSConfig(
        allow_origin=origins[0],
        extra_origins=origins[1:],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=EXPOSED_HEADERS,
        max_age=600,
        allow_credentials=True,
    )


class App(APIGatewayHttpResolver):
    """A function's resolver, holding the provider of the settings its HTTP helpers read (the
    container's: a test that changes them drops the container, not the app)."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        super().__init__(enable_validation=True, cors=cors_config(settings()))

    @property
    def settings(self) -> Settings:
        return self._settings()


def create_app(settings: Callable[[], Settings]) -> App:
    """A resolver with validation on and the contract's error mapping."""
    app = App(settings)

    @app.exception_handler(RequestValidationError)
    def invalid_input(exc: RequestValidationError) -> Response[Any]:
        return error_response(InvalidRequest(validation_message(exc)))

    @app.exception_handler(RequestUnsupportedContentType)
    def not_json(exc: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(InvalidRequest("send the body as JSON (Content-Type: application/json)"))

    @app.exception_handler(UnicodeDecodeError)
    def not_utf8(exc: UnicodeDecodeError) -> Response[Any]:  # the event's body, decoded for validation
        return error_response(InvalidRequest("request body is not UTF-8 JSON"))

    @app.exception_handler(RecursionError)
    def too_deep(exc: RecursionError) -> Response[Any]:  # JSON nested past Python's limit ([[[[…)
        return error_response(InvalidRequest(TOO_DEEP))

    @app.exception_handler(UnicodeEncodeError)
    def lone_surrogate(exc: UnicodeEncodeError) -> Response[Any]:  # a JSON "\ud800" escape: text no UTF-8 holds
        return error_response(InvalidRequest(NOT_UNICODE))

    @app.exception_handler(NotFoundError)
    def no_route(exc: NotFoundError) -> Response[Any]:
        return error_response(NotFound())

    @app.exception_handler(Exception)
    def failed(exc: Exception) -> Response[Any]:
        return error_response(classify(exc))

    app.use(middlewares=[reject_malformed_query])
    return app


def validation_message(exc: RequestValidationError) -> str:
    """``where: what`` for the first problem; never the input (it may be a secret)."""
    errors = exc.errors()
    return first_problem(errors).line() if errors else "The request is malformed."


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


def error_body(exc: FigmaAuthError) -> str:
    return json.dumps({"error": exc.code, "message": exc.message, **exc.fields()})


def error_response(exc: FigmaAuthError) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
    return Response(exc.status, JSON, error_body(exc), {**headers, **exc.headers()})


def oauth_error_response(exc: BaseException) -> Response[Any]:
    """An OAuth endpoint's error (RFC 6749 §5.2): ``error`` and ``error_description``, and our
    ``message``; never cached."""
    error = classify(exc)
    body = {"error": error.code, "error_description": error.message, "message": error.message}
    headers = {"Pragma": "no-cache", **({"Retry-After": str(error.retry_after)} if error.retry_after else {})}
    return Response(error.status, JSON, json.dumps(body), headers)


def not_cached(response: Response[Any]) -> Response[Any]:
    """RFC 6749 §5.1: a token response is never stored (``Cache-Control: no-store`` is added to
    every response; ``Pragma`` is for HTTP/1.0 caches)."""
    response.headers["Pragma"] = "no-cache"
    return response


def json_response(body: BaseModel | Any, status: int = 200, cookies: list[Cookie] | None = None) -> Response[Any]:
    payload = dump(body) if isinstance(body, BaseModel) else body
    return Response(status, JSON, json.dumps(payload), cookies=cookies or [])


KEYS_MAX_AGE = 300  # JWKS and discovery: verifiers re-read within 5 minutes (a rotation pre-publishes longer)


def cacheable(response: Response[Any]) -> Response[Any]:
    """Public, shared-cacheable for KEYS_MAX_AGE: what verifiers of our JWTs fetch."""
    response.headers["Cache-Control"] = f"public, max-age={KEYS_MAX_AGE}"
    return response


def redirect(url: str, cookies: list[Cookie] | None = None, status: int = 302) -> Response[Any]:
    return Response(status, None, "", {"Location": url}, cookies or [])


def no_content(cookies: list[Cookie] | None = None) -> Response[Any]:
    return Response(204, None, "", cookies=cookies or [])


# -- request parts -----------------------------------------------------------------------


def _event(app: App) -> APIGatewayProxyEventV2:
    return app.current_event


def client_address(app: App) -> str:
    """The caller's IP address as API Gateway saw it."""
    return _event(app).request_context.http.source_ip


def query(app: App) -> dict[str, str]:
    """Single-valued query parameters (repeats were rejected by ``reject_malformed_query``)."""
    return dict(parse_qsl(_event(app).raw_query_string or "", keep_blank_values=True))


def cookies(app: App) -> dict[str, str]:
    jar: dict[str, str] = {}
    for pair in _event(app).cookies or ():
        name, _, value = pair.strip().partition("=")
        jar.setdefault(name, value)
    return jar


def credentials(app: App) -> Credentials:
    auth = _event(app).headers.get("authorization") or ""
    if auth:
        scheme, _, token = auth.partition(" ")
        return Credentials(token.strip() if scheme.lower() == "bearer" else None, "bearer")
    cookie = cookies(app).get(SESSION_COOKIE)
    if cookie and _event(app).request_context.http.method.upper() in ("GET", "HEAD"):
        origin = _event(app).headers.get("origin")
        if origin is not None and origin not in app.settings.allowed_origins:
            # Cookies are honoured only from ALLOWED_ORIGINS: a read from another origin is
            # anonymous (a state change from one is csrf_rejected by require_trusted_origin).
            return Credentials(None, None)
    return Credentials(cookie, "cookie" if cookie else None)


def raw_body(app: App) -> bytes | None:
    event = _event(app)
    if not event.body:
        return None
    if event.is_base64_encoded:
        import base64

        return base64.b64decode(event.body)
    return event.body.encode("utf-8", "surrogatepass")  # a lone surrogate stays bytes no decoder accepts


def require_trusted_origin(app: App, creds: Credentials) -> None:
    """CSRF: a cookie-authenticated state change must come from an allowed Origin."""
    if creds.via != "cookie":
        return
    if _event(app).headers.get("origin") not in app.settings.allowed_origins:
        raise CsrfRejected()


# -- cookies -----------------------------------------------------------------------------


def session_cookie(value: str, settings: Settings) -> Cookie:
    return _session_cookie(value, settings, settings.session_ttl_seconds)


def clear_session_cookie(settings: Settings) -> Cookie:
    return _session_cookie("", settings, 0)


def _session_cookie(value: str, settings: Settings, max_age: int) -> Cookie:
    return Cookie(
        SESSION_COOKIE,
        value,
        path="/",
        secure=True,
        http_only=True,
        same_site=_SAMESITE[settings.session_cookie_samesite],
        max_age=max_age,
    )


def short_cookie(name: str, value: str, max_age: int) -> Cookie:
    """A short-lived cookie of one flow (a login's transaction, the verify page's confirmation)."""
    return Cookie(name, value, path="/", secure=True, http_only=True, same_site=SameSite.LAX_MODE, max_age=max_age)


def authorize_response(start: LoginStart) -> Response[Any]:
    """On to Figma, with the login's transaction cookie."""
    cookie = short_cookie(start.tx_cookie_name, start.tx_cookie_value, start.tx_cookie_max_age)
    return redirect(start.redirect_url, [cookie])


# -- this API's own URLs ------------------------------------------------------------------


def callback_url(app: App) -> str:
    """CALLBACK_URL, or this API's own callback route (API Gateway sets domainName, not the client)."""
    configured = app.settings.callback_url
    if configured:
        return configured
    return f"https://{_event(app).request_context.domain_name}/auth/figma/callback"


def issuer(app: App) -> str:
    """ISSUER, or this API's own base URL (API Gateway sets domainName, not the client)."""
    configured = app.settings.issuer
    return configured or f"https://{_event(app).request_context.domain_name}"


FORM = "application/x-www-form-urlencoded"
JSON_WHITESPACE = " \t\n\r"  # RFC 8259's; Python's str.strip() takes \x0c and others as blank too


def form_or_json(app: App) -> dict[str, Any]:
    """A body sent as JSON or form-encoded (RFC 8628 clients post forms) as a dict; empty: ``{}``."""
    event = _event(app)
    kind = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    try:
        text = (raw_body(app) or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("request body is not UTF-8") from None
    if not text.strip(JSON_WHITESPACE):
        return {}
    if kind == FORM:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=16) if len(text) <= 4096 else None
        except ValueError:  # more fields than any of our forms has
            pairs = None
        if pairs is None or len({k for k, _ in pairs}) != len(pairs):
            raise InvalidRequest("form body is too long or repeats a field")
        return dict(pairs)
    if kind not in ("application/json", ""):
        raise InvalidRequest(f"send the body as JSON or {FORM}")
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidRequest("request body is not valid JSON") from None
    except RecursionError:
        raise InvalidRequest(TOO_DEEP) from None
    if not isinstance(data, dict):
        raise InvalidRequest("request body must be a JSON object (or empty)")
    return data


def validated[M: BaseModel](model: type[M], data: dict[str, Any]) -> M:
    """``data`` as ``model``, or 400 invalid_request naming the first bad field (never its value)."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(first_problem(exc.errors(include_url=False, include_input=False)).line()) from None


def require_object_body(app: App) -> None:
    """A JSON body, when there is one, must be an object: validation reads ``null`` as absent,
    and Powertools validates a list by its first element (found by the fuzzer)."""
    raw = (_event(app).body or "").strip()
    if not raw:
        return
    try:
        parsed = json.loads(raw)
    except ValueError:
        return  # validation has answered malformed JSON already
    if not isinstance(parsed, dict):
        raise InvalidRequest("request body must be a JSON object (or empty)")


# -- the entry point every function uses -------------------------------------------------


def handle(app: App, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve ``event`` with ``app``, add the security headers, write one log line (the entry
    wrapper, ``figma_auth.entry``, sets the deadline and flushes the metrics around it)."""
    started = time.perf_counter()
    caller = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    if caller:  # an AWS_IAM route: who called, for the audit trail (no secrets)
        logger.append_keys(caller=caller.get("userArn"))
    headers_in = event.get("headers") or {}
    if str(headers_in.get("content-type", "")).startswith("multipart/") and event.get("body"):
        # No route reads multipart, and Powertools' parser fails on a malformed one: refuse first.
        result = _refused(
            app.settings, InvalidRequest("send the body as JSON (Content-Type: application/json)"), headers_in
        )
    else:
        result = app.resolve(event, context)
    headers = result.setdefault("headers", {})
    _open_cors(app.settings, event, result, headers)
    headers["Vary"] = "Origin, Accept-Encoding" if "Content-Encoding" in headers else "Origin"
    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"  # HTTPS only, 2 years
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    # Sessions, tokens, your Figma data: never stored by a browser or shared cache, unless
    # the route said otherwise (the public keys).
    headers.setdefault("Cache-Control", "no-store")
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


def _open_cors(settings: Settings, event: dict[str, Any], result: dict[str, Any], headers: dict[str, Any]) -> None:
    """Any other origin (a plugin's ``null`` included) may call without credentials: Bearer
    tokens and device sign-in need no cookie, and cookies from it are ignored (``credentials``)."""
    origin = (event.get("headers") or {}).get("origin")
    if not origin or origin in settings.allowed_origins:
        return
    if any(name.lower() == "access-control-allow-origin" for name in headers):
        return
    headers["Access-Control-Allow-Origin"] = "*"
    headers["Access-Control-Expose-Headers"] = ",".join(EXPOSED_HEADERS)
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method", "")).upper()
    if method == "OPTIONS":  # the preflight: Powertools answers it for ALLOWED_ORIGINS only
        result.update(statusCode=204, body="")
        headers.pop("Content-Type", None)
        headers["Access-Control-Allow-Methods"] = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
        headers["Access-Control-Allow-Headers"] = "Authorization,Content-Type"
        headers["Access-Control-Max-Age"] = "600"


def _refused(settings: Settings, problem: FigmaAuthError, request_headers: dict[str, str]) -> dict[str, Any]:
    """An error answered before routing, with the CORS headers the resolver would add."""
    cors = cors_config(settings)
    headers = {"Content-Type": JSON, **(cors.to_dict(request_headers.get("origin")) if cors else {})}
    return {"statusCode": problem.status, "headers": headers, "body": error_body(problem), "isBase64Encoded": False}


def reject_malformed_query(app: App, next_middleware: Any) -> Response[Any]:
    """Middleware: a query string that is too long, too wide or repeats a name is refused
    before any route reads it (API Gateway would join repeats with commas)."""
    raw = _event(app).raw_query_string or ""
    if len(raw) > MAX_QUERY_LENGTH:
        raise InvalidRequest("query string is too long")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=64)
    except ValueError:
        raise InvalidRequest("too many query parameters") from None
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise InvalidRequest("a query parameter is repeated; send each at most once")
    response: Response[Any] = next_middleware(app)
    return response


def _error_code(result: dict[str, Any]) -> str | None:
    if int(result.get("statusCode", 200)) < 400:
        return None
    try:
        code = json.loads(result.get("body") or "{}").get("error")
    except ValueError:
        return None
    return code if isinstance(code, str) else None
