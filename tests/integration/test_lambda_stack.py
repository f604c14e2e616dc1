"""The local stack runs each function as Lambda does: worker processes that serve one event
at a time with their own module state, a visible cold start, the template's Timeout, and
request headers joined as API Gateway joins them."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from devstack.figma_emulator import FigmaEmulator
from devstack.hooks import HOOKS, AwsCalls
from devstack.template import Function
from devstack.workers import TIMED_OUT, FunctionPool
from tests.support.browser import Browser, sign_in
from tests.support.stack import SESSION_COOKIE, Stack

SLOW = Function(
    "SlowFunction", Path(__file__).parent.parent / "support" / "functions" / "slow", "app.lambda_handler", 1
)


def wait_until(condition: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        threading.Event().wait(0.01)


def test_one_worker_serves_events_in_turn_and_keeps_its_module_state():
    pool = FunctionPool(SLOW, out=io.StringIO)
    try:
        first = pool.invoke({"id": "a"}, HOOKS)
        second = pool.invoke({"id": "b"}, HOOKS)
        assert second["pid"] == first["pid"] and second["served"] == ["a", "b"]
        assert pool.started == 1
    finally:
        pool.recycle()


def test_an_event_past_the_functions_timeout_gets_api_gateways_503_and_the_worker_is_replaced():
    pool = FunctionPool(SLOW, out=io.StringIO)
    try:
        started = time.monotonic()
        assert pool.invoke({"id": "slow", "stall": 30}, HOOKS) == TIMED_OUT
        assert time.monotonic() - started < 5  # Timeout is 1 s: the stall was cut short
        after = pool.invoke({"id": "next"}, HOOKS)
        assert after["served"] == ["next"] and pool.started == 2  # a new container, fresh state
        assert 0 < after["remaining_ms"] <= 1000
    finally:
        pool.recycle()


def test_two_concurrent_requests_to_one_function_run_in_two_workers_with_their_own_state(
    stack: Stack, emulator: FigmaEmulator
):
    user = Browser(origin=stack.api)
    sign_in(user, stack.api)
    stack.cold_start()
    counter = AwsCalls()
    before = emulator.state.calls["me"]  # the sign-in read /v1/me too
    stack.emulator.fault("me", "hang", times=2)  # both calls wait at Figma until released
    threads = [threading.Thread(target=user.get, args=(f"{stack.api}/figma/v1/me",)) for _ in range(2)]
    for thread in threads:
        thread.start()
    wait_until(lambda: emulator.state.calls["me"] == before + 2)
    emulator.state.release.set()
    for thread in threads:
        thread.join()

    pids = stack.containers.pools["FigmaProxyFunction"].workers()
    assert len(set(pids)) == 2
    assert counter.by_service("kms") == {"Decrypt": 2}  # each container decrypted the data key itself


def test_a_new_worker_logs_its_cold_start_once(stack: Stack):
    logs = io.StringIO()
    stack.containers.sinks.append(logs)
    try:
        stack.cold_start()
        httpx.get(f"{stack.api}/auth/session")
        httpx.get(f"{stack.api}/auth/session")
    finally:
        stack.containers.sinks.remove(logs)
    assert logs.getvalue().count("[worker session pid=") == 1
    assert "cold start: init" in logs.getvalue()


def test_a_repeated_origin_header_reaches_the_function_joined_and_fails_the_csrf_check(stack: Stack):
    user = Browser(origin=stack.api)
    sign_in(user, stack.api)
    cookie = user.jar(stack.api)[SESSION_COOKIE]

    response = httpx.post(
        f"{stack.api}/auth/logout",
        headers=[("Origin", "https://evil.example"), ("Origin", stack.api), ("Cookie", f"{SESSION_COOKIE}={cookie}")],
    )

    assert response.status_code == 403 and response.json()["error"] == "csrf_rejected"
    assert user.get(f"{stack.api}/auth/session").status_code == 200


def test_an_unreadable_content_length_gets_api_gateways_400_before_any_function_runs(stack: Stack):
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(stack.api)
    with socket.create_connection((address.hostname, address.port), timeout=10) as raw:
        raw.sendall(b"POST /auth/logout HTTP/1.1\r\nHost: x\r\nContent-Length: COz)fT@\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):  # the server closes the connection after answering
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 400") and answer.endswith(b'{"message":"Bad Request"}')
