"""The proxy routes' HTTP side: a request's parts as a ``ProxyCall`` for the proxy use case,
and Figma's answer as it is served from the API's own origin (the one holding the session
cookie): JSON and images as they are, anything else as a download no browser renders, under a
sandbox CSP, within Lambda's response limit."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Response

from figma_auth import web
from figma_auth.errors import InvalidRequest, ResponseTooLarge

if TYPE_CHECKING:
    from figma_auth.figma import ProxyResponse
    from figma_auth.usecases.proxy import FigmaProxy, ProxyCall

PROXY_PATH = "/figma/{proxy+}"
PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_PROXY_REQUEST = 1024 * 1024  # the body a proxied call may carry
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


def proxy_response(app: web.App, proxy: FigmaProxy, *, as_user: str | None = None) -> Response[Any]:
    """Forward to Figma and return its answer: ANY /figma/{proxy+} with the session user's
    token, or (``as_user``, backend routes behind AWS IAM) ANY /connections/{id}/figma/{proxy+}."""
    call = _call(app)
    if as_user is None:
        creds = web.credentials(app)
        if call.method != "GET":
            web.require_trusted_origin(app, creds)
        answer = proxy.as_session(creds, call)
    else:
        answer = proxy.as_user(as_user, call)
    return served(answer)


def served(answer: ProxyResponse) -> Response[Any]:
    """Figma's answer as the proxy serves it: a stored body by its URL (303, never cached), gzip
    as it came for a caller that takes it, JSON as text while it is small (base64 above: JSON
    escaping could double it), within Lambda's response limit."""
    if answer.location is not None:
        headers = {**answer.headers, "Location": answer.location, "Cache-Control": "no-store"}
        return Response(303, None, "", headers)
    content_type, extra = _served_as(answer.content_type)
    textual = content_type.startswith("application/json") and answer.encoding is None and len(answer.body) < 1024**2
    try:
        payload: str | bytes = answer.body.decode() if textual else answer.body
    except UnicodeDecodeError:
        payload = answer.body
    encoded_size = len(json.dumps(payload)) if isinstance(payload, str) else len(payload) * 4 // 3
    if encoded_size + 8192 > LAMBDA_RESPONSE_LIMIT:
        raise ResponseTooLarge()
    headers = {
        **dict(answer.headers),
        **extra,
        **({"Content-Encoding": answer.encoding} if answer.encoding else {}),
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if isinstance(payload, bytes) and content_type.startswith("application/json"):
        # Powertools would JSON-serialize a JSON response's bytes (gzip, or not UTF-8): hand it
        # the base64 text Lambda carries a binary body in, marked so.
        response: Response[Any] = Response(answer.status, content_type, base64.b64encode(payload).decode(), headers)
        response.base64_encoded = True
        return response
    return Response(answer.status, content_type, payload, headers)


def _call(app: web.App) -> ProxyCall:
    from figma_auth.usecases.proxy import ProxyCall

    event = app.current_event
    method = event.request_context.http.method.upper()
    body = web.raw_body(app)
    if body is not None and len(body) > MAX_PROXY_REQUEST:
        raise InvalidRequest("request body is too large (1 MB at most)")
    if body and method == "GET":
        raise InvalidRequest("a GET request carries no body")
    return ProxyCall(
        method=method,
        raw_path=event.raw_path or "",
        query=event.raw_query_string or "",
        body=body or None,
        content_type=_forwardable_content_type(event.headers.get("content-type")),
        gzip=takes_gzip(event.headers.get("accept-encoding")),
        max_stale=allows_stale(event.headers.get("cache-control")),
    )


def takes_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` takes gzip (RFC 9110 §12.5.3: ``gzip`` or ``*``, not ``;q=0``)."""
    for part in (accept_encoding or "").lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def allows_stale(cache_control: str | None) -> bool:
    """Whether ``Cache-Control`` has ``max-stale`` (with or without a value: any age is taken)."""
    return any(d.strip().lower().split("=", 1)[0].strip() == "max-stale" for d in (cache_control or "").split(","))


def _forwardable_content_type(value: str | None) -> str | None:
    if value is not None and (len(value) > 256 or not all(" " <= ch < "\x7f" for ch in value)):
        raise InvalidRequest("Content-Type must be printable ASCII")
    return value


def _served_as(upstream: str) -> tuple[str, dict[str, str]]:
    """JSON and images as they are; anything else (an HTML error page from something in front
    of Figma) as a download that no browser renders."""
    kind = upstream.split(";")[0].strip().lower()
    if kind == "application/json" or (kind.startswith("image/") and kind != "image/svg+xml"):
        return upstream, {}
    return "application/octet-stream", {"Content-Disposition": "attachment"}
