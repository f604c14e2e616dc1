"""The local WebSocket API: template.yaml's realtime API served on ``WS_PORT`` (3001) as API
Gateway serves it, on the standard library alone (RFC 6455 framing).

- A handshake (``GET /{stage}?ticket=…`` with ``Upgrade: websocket``) invokes the ``$connect``
  route's function with API Gateway's WebSocket event (``requestContext.eventType`` CONNECT, a
  ``connectionId``, the query); an answer other than 2xx refuses the handshake with its status.
- Each text message is routed by the API's selection expression (``$request.body.action``: a
  route of that key, else ``$default``) and invokes its function (MESSAGE); when the route has a
  route response the function's ``body`` goes back on the socket.
- A close, a dropped TCP connection, 10 idle minutes or 2 hours (API Gateway's limits;
  ``WS_IDLE_SECONDS`` and ``WS_MAX_SECONDS`` shorten them; so does ``POST /_devstack/limits``
  ``{"idle_seconds", "max_seconds"}`` on a running stack, 0 restoring them) invoke ``$disconnect`` — except for a
  socket a test makes ``vanish``: API Gateway does not always send ``$disconnect`` (a best
  effort, its docs say), and the stack must cope.
- The management API on the same port: ``POST /{stage}/@connections/{id}`` sends its body as a
  text message, ``DELETE`` closes the socket, ``GET`` describes it; an unknown or closed socket
  answers ``410`` ``GoneException``. Requests must be SigV4-signed by a local identity
  (devstack/sigv4.py), as IAM requires of ``execute-api:ManageConnections``.

Secrets: the query (the ticket) is never printed; access lines name the route and status only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote

from devstack import template
from devstack.serving import BackgroundServer

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
MAX_MESSAGE = 128 * 1024  # API Gateway: 128 KB a message (32 KB frames, which we do not enforce)
TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


LIMITS_PATH = "/_devstack/limits"  # POST {"idle_seconds"?, "max_seconds"?}: a running stack's limits now
LIMITS: dict[str, float] = {}  # set through LIMITS_PATH; else WS_IDLE_SECONDS / WS_MAX_SECONDS


def idle_seconds() -> float:
    return LIMITS.get("idle_seconds") or float(os.environ.get("WS_IDLE_SECONDS", "600"))


def max_seconds() -> float:
    return LIMITS.get("max_seconds") or float(os.environ.get("WS_MAX_SECONDS", "7200"))


def frame(opcode: int, payload: bytes) -> bytes:
    """A server frame (unmasked, final)."""
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + payload


def read_frame(stream: Any) -> tuple[bool, int, bytes]:
    """(final, opcode, payload) of one client frame; ConnectionError on EOF, ValueError when the
    frame breaks the protocol (unmasked, or too large)."""
    head = stream.read(2)
    if len(head) < 2:
        raise ConnectionError("closed")
    final, opcode, masked, size = bool(head[0] & 0x80), head[0] & 0x0F, bool(head[1] & 0x80), head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", stream.read(2))[0]
    elif size == 127:
        size = struct.unpack("!Q", stream.read(8))[0]
    if not masked or size > MAX_MESSAGE:
        raise ValueError("unmasked or oversized frame")
    mask = stream.read(4)
    data = stream.read(size)
    if len(data) < size:
        raise ConnectionError("closed")
    return final, opcode, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


@dataclass
class Socket:
    id: str
    sock: socket.socket
    source_ip: str
    user_agent: str
    connected_at: float = field(default_factory=time.time)
    last_active: float = field(default_factory=time.time)
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: bool = True
    closed_with: tuple[int, str] | None = None  # the server closed it (DeleteConnection, a limit)
    silent: bool = False  # gone without $disconnect (LocalRealtime.vanish)

    def send(self, opcode: int, payload: bytes) -> bool:
        with self.lock:
            if not self.open:
                return False
            try:
                self.sock.sendall(frame(opcode, payload))
            except OSError:
                self.open = False
                return False
        return True

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = self.closed_with or (code, reason)
        if self.send(CLOSE, struct.pack("!H", code) + reason.encode()[:120]):
            with self.lock:
                self.open = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def connection_id() -> str:
    """An id shaped like API Gateway's (12 random bytes, base64: ``L0SM9cOFvHcCIhw=``)."""
    return base64.b64encode(secrets.token_bytes(10)).decode()


class LocalRealtime(BackgroundServer):
    """Binds now (a busy port fails first); ``attach`` the functions, then ``start``."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 3001, log: bool = True) -> None:
        api = template.socket_api(template.load())
        self.handler = type(
            "Handler",
            (_Handler,),
            {
                "containers": None,
                "api": api,
                "log": log,
                "sockets": {},
                "busy": threading.Condition(),
                "serving": [0, 0],
            },
        )
        super().__init__(self.handler, host=host, port=port, name="local-realtime")

    @property
    def stage(self) -> str:
        api = self.handler.api
        return api.stage if api is not None else "live"

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + f"/{self.stage}"

    @property
    def endpoint(self) -> str:
        """The management API's endpoint (REALTIME_ENDPOINT)."""
        return f"{self.url}/{self.stage}"

    def attach(self, containers: Any) -> LocalRealtime:
        self.handler.containers = containers
        return self

    def start(self) -> LocalRealtime:
        self.serve()
        return self

    def env(self) -> dict[str, str]:
        return {"REALTIME_URL": self.ws_url, "REALTIME_ENDPOINT": self.endpoint}

    def open_sockets(self) -> list[str]:
        return [s.id for s in list(self.handler.sockets.values()) if s.open]

    def wait_idle(self, timeout: float = 10) -> bool:
        """Until no socket is open and every $disconnect has run (tests, between worlds)."""
        with self.handler.busy:
            return self.handler.busy.wait_for(lambda: self.handler.serving[0] == 0, timeout)

    def ended(self) -> int:
        """How many sockets' lives (connect to the end of $disconnect) have ended so far."""
        return self.handler.serving[1]

    def wait_ended(self, count: int, timeout: float = 10) -> bool:
        """Until ``count`` sockets' lives have ended (their $disconnect done)."""
        with self.handler.busy:
            return self.handler.busy.wait_for(lambda: self.handler.serving[1] >= count, timeout)

    def vanish(self, socket_id: str) -> None:
        """The socket's TCP connection drops and ``$disconnect`` never comes, as API Gateway
        sometimes does: the management API answers GoneException for it from now on."""
        sock = self.handler.sockets[socket_id]
        sock.silent, sock.open = True, False
        try:
            sock.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close_all(self) -> None:
        for sock in list(self.handler.sockets.values()):
            sock.close(1001, "Going away")

    def stop(self) -> None:
        self.close_all()
        super().stop()


class _Handler(BaseHTTPRequestHandler):
    containers: Any
    api: template.SocketApi | None
    log: bool
    sockets: dict[str, Socket]
    busy: threading.Condition  # notified when a socket's life (connect to disconnect) ends
    serving: list[int]  # sockets between $connect and the end of $disconnect; sockets whose life ended
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - no access lines with queries
        pass

    def do_GET(self) -> None:  # noqa: N802
        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            self.upgrade()
        else:
            self.manage("GET")

    def do_POST(self) -> None:  # noqa: N802
        if self.path == LIMITS_PATH:
            return self.limits()
        self.manage("POST")

    def limits(self) -> None:
        """Tests shorten API Gateway's idle and 2-hour limits on a running stack (JSON only, never
        from a page: a browser cannot send it without a preflight, which this path never answers).
        The 2 hours count from each socket's connect: they apply to sockets opened after."""
        length = int(self.headers.get("Content-Length") or 0)
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            body = json.loads(self.rfile.read(length) or b"{}") if kind == "application/json" else None
            if self.headers.get("Origin") or not isinstance(body, dict):
                return self.answer(403, {"message": "Forbidden"})
            for name in ("idle_seconds", "max_seconds"):
                if name in body:
                    LIMITS[name] = float(body[name])
        except (ValueError, TypeError):
            return self.answer(400, {"message": "idle_seconds, max_seconds: numbers of seconds (0: the default)"})
        return self.answer(200, {"idle_seconds": idle_seconds(), "max_seconds": max_seconds()})

    def do_DELETE(self) -> None:  # noqa: N802
        self.manage("DELETE")

    # -- the management API --------------------------------------------------------------------

    def manage(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        marker = "/@connections/"
        if marker not in path:
            return self.answer(404, {"message": "Not Found"})
        from devstack import sigv4

        if sigv4.verify(method=method, raw_path=path, raw_query=query, headers=dict(self.headers), body=body) is None:
            return self.answer(403, {"message": "Forbidden"})
        target = self.sockets.get(unquote(path.split(marker, 1)[1]))
        if target is None or not target.open:
            return self.answer(410, {"message": None}, {"x-amzn-ErrorType": "GoneException"})
        if method == "POST":
            if len(body) > MAX_MESSAGE:
                return self.answer(
                    413, {"message": "Message too long"}, {"x-amzn-ErrorType": "PayloadTooLargeException"}
                )
            ok = target.send(TEXT, body)
            return (
                self.answer(200, None)
                if ok
                else self.answer(410, {"message": None}, {"x-amzn-ErrorType": "GoneException"})
            )
        if method == "DELETE":
            target.close(1000, "")
            return self.answer(204, None)
        stamp = datetime.fromtimestamp(target.connected_at, UTC).isoformat().replace("+00:00", "Z")
        last = datetime.fromtimestamp(target.last_active, UTC).isoformat().replace("+00:00", "Z")
        info = {
            "ConnectedAt": stamp,
            "LastActiveAt": last,
            "Identity": {"SourceIp": target.source_ip, "UserAgent": target.user_agent},
        }
        return self.answer(200, info)

    def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if payload:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    # -- sockets --------------------------------------------------------------------------------

    def upgrade(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key")
        path, _, query = self.path.partition("?")
        if self.api is None or not key or path.rstrip("/") != f"/{self.api.stage}":
            return self.answer(404 if self.api is None or key else 400, {"message": "Not Found"})
        sock = Socket(connection_id(), self.connection, self.client_address[0], self.headers.get("User-Agent", ""))
        with self.busy:
            self.serving[0] += 1
        try:
            self.live(sock, key, query)
        finally:
            with self.busy:
                self.serving[0] -= 1
                self.serving[1] += 1
                self.busy.notify_all()

    def live(self, sock: Socket, key: str, query: str) -> None:
        """A socket's life: $connect, its messages, $disconnect."""
        result = self.invoke("$connect", self.event(sock, "CONNECT", "$connect", query=query))
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 500
        self.access("$connect", status)
        if not 200 <= status < 300:
            self.close_connection = True
            return self.answer(status, {"message": "Unauthorized" if status == 401 else "Forbidden"})
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()  # noqa: S324 - RFC 6455
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.sockets[sock.id] = sock
        self.close_connection = True
        try:
            code, reason = self.serve_socket(sock)
        finally:
            sock.open = False
            self.sockets.pop(sock.id, None)
        if sock.silent:  # gone without $disconnect
            return
        self.invoke(
            "$disconnect",
            {**self.event(sock, "DISCONNECT", "$disconnect"), "disconnectStatusCode": code, "disconnectReason": reason},
        )
        self.access("$disconnect", code)

    def serve_socket(self, sock: Socket) -> tuple[int, str]:
        """Messages until the socket closes; its close code and reason."""
        limit = sock.connected_at + max_seconds()
        parts: list[bytes] = []
        while True:
            left = min(idle_seconds(), limit - time.time())
            if left <= 0:
                sock.close(1001, "Going away")
                return 1001, "Going away"
            self.connection.settimeout(left)
            try:
                final, opcode, payload = read_frame(self.rfile)
            except TimeoutError:  # idle for WS_IDLE_SECONDS, or past WS_MAX_SECONDS
                sock.close(1001, "Going away")
                return 1001, "Going away"
            except ValueError:
                sock.close(1009, "Message too big")
                return 1009, "Message too big"
            except (ConnectionError, OSError, struct.error):
                return sock.closed_with or (1006, "Connection closed abnormally")
            sock.last_active = time.time()
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                sock.close(code, "")
                return code, payload[2:].decode(errors="replace")
            if opcode == PING:
                sock.send(PONG, payload)
                continue
            if opcode in (TEXT, BINARY, CONTINUATION):
                parts.append(payload)
                if final:
                    self.message(sock, b"".join(parts), binary=opcode == BINARY)
                    parts = []

    def message(self, sock: Socket, data: bytes, *, binary: bool) -> None:
        assert self.api is not None
        text = base64.b64encode(data).decode() if binary else data.decode(errors="replace")
        route = self.api.routes.get("$default")
        if not binary:
            try:
                action = json.loads(text).get("action")
            except (ValueError, AttributeError):
                action = None
            route = self.api.routes.get(str(action), route) if isinstance(action, str) else route
        if route is None:
            sock.send(TEXT, json.dumps({"message": "Forbidden", "connectionId": sock.id}).encode())
            return
        event = {**self.event(sock, "MESSAGE", route.key), "body": text, "isBase64Encoded": binary}
        event["requestContext"]["messageId"] = uuid.uuid4().hex[:16]
        result = self.invoke(route.key, event)
        self.access(route.key, int(result.get("statusCode", 200)) if isinstance(result, dict) else 500)
        if route.replies and isinstance(result, dict) and result.get("body"):
            sock.send(TEXT, str(result["body"]).encode())

    def event(self, sock: Socket, kind: str, route_key: str, *, query: str = "") -> dict[str, Any]:
        """API Gateway's WebSocket event (the parts a Lambda function reads)."""
        now = time.time()
        context = {
            "routeKey": route_key,
            "eventType": kind,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "messageDirection": "IN",
            "stage": self.api.stage if self.api else "live",
            "connectedAt": int(sock.connected_at * 1000),
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": sock.source_ip, "userAgent": sock.user_agent},
            "requestId": uuid.uuid4().hex[:16],
            "domainName": self.headers.get("Host", "127.0.0.1"),
            "connectionId": sock.id,
            "apiId": "local",
        }
        event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
        if kind == "CONNECT":
            headers = {k: v for k, v in self.headers.items()}
            event["headers"] = headers
            event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
            pairs = parse_qsl(query, keep_blank_values=True)
            if pairs:
                event["queryStringParameters"] = dict(pairs)
                event["multiValueQueryStringParameters"] = {k: [v for n, v in pairs if n == k] for k, _ in pairs}
        return event

    def invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        assert self.api is not None and self.containers is not None
        route = self.api.routes.get(route_key)
        if route is None:
            return {"statusCode": 200}
        try:
            return self.containers.invoke(self.containers.functions[route.function], event)
        except Exception as exc:  # the function could not run: API Gateway answers 500 (an "internal server error")
            print(f"[local-realtime] {route_key} failed: {type(exc).__name__}", file=sys.stderr)
            return {"statusCode": 500}

    def access(self, route_key: str, status: int) -> None:
        if self.log:
            print(f"[local-realtime] {route_key} -> {status}", file=sys.stderr, flush=True)
