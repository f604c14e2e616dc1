"""The local HTTP API: every path template.yaml routes, served by the same handlers Lambda
runs, plus a small home page at `/` for trying the flow by hand."""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, NamedTuple

from devstack.events import EventLog
from devstack.lambdas import Containers, http_event
from devstack.serving import BackgroundServer

STATIC = Path(__file__).resolve().parent / "static"
EVENTS_PATH = "/_devstack/events"
INVOKE_PATH = "/_devstack/invoke/"  # + a function's name: `make invoke` against this stack, with its settings
EVENT_LOG = EventLog()  # one per process: the stack's published events (devstack/events.py)
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' http: https: data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_STATIC_FILES = {
    "/": ("home.html", "text/html; charset=utf-8"),
    "/_dev/home.js": ("home.js", "text/javascript; charset=utf-8"),
    "/_dev/home.css": ("home.css", "text/css; charset=utf-8"),
}


class LocalApi(BackgroundServer):
    def __init__(
        self, containers: Containers | None = None, *, host: str = "127.0.0.1", port: int = 3000, log: bool = True
    ) -> None:
        """Binds the port now (so a busy port fails first); ``attach`` the handlers before ``start``."""
        self.handler = type("Handler", (_Handler,), {"containers": containers, "log": log})
        super().__init__(self.handler, host=host, port=port, name="local-api")

    def attach(self, containers: Containers) -> LocalApi:
        self.handler.containers = containers
        return self

    def start(self) -> LocalApi:
        assert self.handler.containers is not None, "attach() the functions first"
        self.serve()
        return self


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


class _Handler(BaseHTTPRequestHandler):
    containers: Containers
    log: bool
    demo_url: str = "http://127.0.0.1:5173"  # the demo SPA's address (make run sets the real one)
    _openapi: bytes | None = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the handlers log
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self.serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self.serve("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self.serve("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self.serve("DELETE")

    def do_OPTIONS(self) -> None:  # noqa: N802
        self.serve("OPTIONS")

    def do_HEAD(self) -> None:  # noqa: N802
        self.serve("HEAD")

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, CONNECT, made-up ones) gets what API Gateway answers, not
        http.server's HTML 501."""
        if name.startswith("do_"):
            return lambda: self.serve(name[3:])
        raise AttributeError(name)

    def serve(self, method: str) -> None:
        started = time.perf_counter()
        parts = _request_target(self.requestline.split(" ")[1] if self.requestline.count(" ") >= 2 else self.path)
        body = self.read_body()
        if isinstance(body, int):  # what API Gateway answers before any function runs
            self.close_connection = True  # the rest of the body is still on the wire
            message = b"Request Entity Too Large" if body == 413 else b"Bad Request"
            self.respond(body, {"Content-Type": "application/json"}, [], b'{"message":"' + message + b'"}')
            return
        if method == "GET" and parts.path in _STATIC_FILES:
            name, ctype = _STATIC_FILES[parts.path]
            self.respond(
                200,
                {
                    "Content-Type": ctype,
                    "Content-Security-Policy": PAGE_CSP,
                    "Cache-Control": "no-store",
                    "X-Content-Type-Options": "nosniff",
                },
                [],
                (STATIC / name).read_bytes().replace(b"{{DEMO_URL}}", self.demo_url.encode()),
            )
            return
        if parts.path == EVENTS_PATH and method in ("GET", "DELETE"):
            self.event_log(method)
            return
        if parts.path.startswith(INVOKE_PATH) and method == "POST":
            self.invoke_directly(parts.path.removeprefix(INVOKE_PATH), body)
            return
        if method == "GET" and parts.path == "/openapi.json":
            self.respond(200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, [], self.openapi())
            return
        if method == "GET" and parts.path == "/docs":
            self.respond(
                200, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}, [], self.docs()
            )
            return
        found = self.containers.route(method, parts.path)
        if found is None:
            self.respond(
                404, {"Content-Type": "application/json"}, [], b'{"error":"not_found","message":"No such route."}'
            )
            return
        route, params = found
        authorizer = None
        if route.auth == "AWS_IAM":  # API Gateway checks the signature; no function runs without one
            from devstack import sigv4

            caller = sigv4.verify(
                method=method, raw_path=parts.path, raw_query=parts.query, headers=dict(self.headers), body=body
            )
            if caller is None or not caller.may_invoke(method, parts.path):  # signature, then the caller's policy
                self.respond(403, {"Content-Type": "application/json"}, [], b'{"message":"Forbidden"}')
                return
            authorizer = caller.authorizer()
        host = self.headers.get("Host") or "127.0.0.1"
        event = http_event(
            method=method,
            path=parts.path,
            raw_query=parts.query,
            headers=list(self.headers.items()),
            body=body,
            route=route,
            path_params=params,
            domain=host,
            source_ip=self.client_address[0],
            authorizer=authorizer,
        )
        fn = self.containers.functions[route.function]
        try:
            result = self.containers.invoke(fn, event)
        except Exception as exc:  # what API Gateway answers when the function itself fails
            # the stack, not the function, failed (a worker that could not start): say what, for its log
            print(f"[local-api] {fn.name} raised {type(exc).__name__}: {exc}", file=sys.stderr)
            self.respond(500, {"Content-Type": "application/json"}, [], b'{"message":"Internal Server Error"}')
            return
        status, headers, cookies, payload = to_http(result)
        self.respond(status, headers, cookies, payload)
        if self.log:
            ms = (time.perf_counter() - started) * 1000
            print(f"[local-api] {method} {parts.path} -> {status} ({ms:.0f} ms)", file=sys.stderr, flush=True)

    def invoke_directly(self, name: str, body: bytes) -> None:
        """``make invoke``: one event straight to a function, as `sam local invoke` does, with this
        stack's settings. JSON only (a page in a browser cannot send it without a preflight, which
        this path never answers), and never from another origin."""
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if kind != "application/json" or self.headers.get("Origin"):
            self.respond(403, {"Content-Type": "application/json"}, [], b'{"message":"Forbidden"}')
            return
        try:
            fn = self.containers.by_name(name)
            event = json.loads(body or b"null")
        except (KeyError, ValueError) as exc:
            self.respond(400, {"Content-Type": "application/json"}, [], _json({"message": str(exc)}))
            return
        try:
            result = self.containers.invoke(fn, event)
        except Exception as exc:  # the function could not run (its init failed, it timed out)
            self.respond(
                502, {"Content-Type": "application/json"}, [], _json({"message": f"{type(exc).__name__}: {exc}"})
            )
            return
        self.respond(200, {"Content-Type": "application/json"}, [], _json(result))

    def event_log(self, method: str) -> None:
        """GET: every event the stack published, oldest first; DELETE: forget them (204)."""
        from devstack import aws

        sqs = aws.client("sqs", os.environ.get("AWS_ENDPOINT_URL", ""))
        if method == "DELETE":
            EVENT_LOG.clear(sqs)
            self.respond(204, {"Cache-Control": "no-store"}, [], b"")
            return
        body = json.dumps({"events": EVENT_LOG.read(sqs)}).encode()
        headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"}
        self.respond(200, headers, [], body)  # any local page may read it (the demo's list does)

    def read_body(self) -> bytes | int:
        """The whole request body (Content-Length or chunked); or the status API Gateway answers
        instead: 413 over its 10 MB limit, 400 for a length or chunking it cannot read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(1024).split(b";")[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError:
                    return 400
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    return 413
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)  # CRLF after each chunk
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 400
        if length < 0:
            return 400
        if length > MAX_BODY:
            return 413
        return self.rfile.read(length) if length else b""

    def openapi(self) -> bytes:
        """The OpenAPI document with this server's address (built once per server)."""
        cls = type(self)
        if getattr(cls, "_openapi", None) is None:
            from devstack.openapi import build, render

            host = self.headers.get("Host") or "127.0.0.1"
            cls._openapi = render(build(server=f"http://{host}")).encode()
        return cls._openapi

    def docs(self) -> bytes:
        """Swagger UI over the same document (local only: the page inlines its script)."""
        from devstack.openapi import swagger_page

        return swagger_page(self.openapi().decode()).encode()

    def respond(self, status: int, headers: dict[str, str], cookies: list[str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def to_http(result: Any) -> tuple[int, dict[str, str], list[str], bytes]:
    """Translate a payload-v2 Lambda response the way API Gateway does."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return 200, {"Content-Type": "application/json"}, [], json.dumps(result).encode()
    headers = {k: str(v) for k, v in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(values)
    raw = result.get("body") or ""
    payload = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    return int(result["statusCode"]), headers, list(result.get("cookies") or []), payload


class _Target(NamedTuple):
    path: str
    query: str


def _request_target(target: str) -> _Target:
    """The request line's path and query as sent: ``//connections/x`` stays that path (http.server
    collapses leading slashes in ``self.path``, urlsplit would read ``connections`` as a host)."""
    path, _, query = target.partition("#")[0].partition("?")
    return _Target(path, query)
