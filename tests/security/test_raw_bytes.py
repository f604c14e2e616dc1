"""Raw bytes over a socket, as no HTTP library would send them (schemathesis sends only valid
HTTP strings): whatever the path, query, a header or the body holds, the local stack answers
with a status below 500 — a 4xx for what it cannot take, never a crash."""

from __future__ import annotations

import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.browser import Browser, sign_in
from tests.support.stack import SESSION_COOKIE, Stack

ROUTES = [
    ("GET", "/figma/v1/me"),
    ("POST", "/figma/v1/files/AbC/comments"),
    ("GET", "/auth/session"),
    ("POST", "/auth/token"),
    ("POST", "/auth/device"),
    ("GET", "/auth/figma/authorize"),
    ("GET", "/auth/device/verify"),
    ("POST", "/auth/logout"),
    ("GET", "/connections/1"),
]
raw = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))  # framing stays HTTP
header_names = st.sampled_from([b"Content-Type", b"Origin", b"Authorization", b"Cookie", b"X-Anything"])


def send(stack: Stack, request: bytes) -> int:
    host, port = stack.api.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        head = b""
        while b"\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                break
            head += chunk
    return int(head.split(b" ", 2)[1])


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(ROUTES), raw, raw, header_names, raw, raw)
def test_no_raw_byte_sequence_makes_the_stack_fail(stack: Stack, route, path_tail, query, header, value, body):  # type: ignore[no-untyped-def]
    method, path = route
    browser = _signed_in(stack)
    cookie = f"{SESSION_COOKIE}={browser}".encode()
    request = (
        method.encode()
        + b" "
        + path.encode()
        + path_tail.replace(b" ", b"")
        + b"?"
        + query.replace(b" ", b"")
        + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: "
        + cookie
        + b"\r\n"
        + header
        + b": "
        + value
        + b"\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + body
    )

    status = send(stack, request)

    assert 200 <= status < 500, (status, request[:300])


_SESSIONS: dict[str, str] = {}


def _signed_in(stack: Stack) -> str:
    """One session per stack (hypothesis reuses the test's stack across examples)."""
    if stack.api + stack.table.name not in _SESSIONS or not stack.table.items():
        browser = Browser(origin=stack.api)
        sign_in(browser, stack.api)
        _SESSIONS[stack.api + stack.table.name] = browser.jar(stack.api)[SESSION_COOKIE]
    return _SESSIONS[stack.api + stack.table.name]
