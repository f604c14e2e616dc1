"""What the functions print (the lines CloudWatch would keep), flow by flow, holds no secret:
no Figma access or refresh token (every one the emulator issued), code, state, verifier, ticket,
session token, cookie, device or user code, confirmation value, webhook passcode, nor the client
secret. One test per flow, each capturing only its own flow, so a secret logged anywhere in a
flow fails that flow's test (e2e/test_local_stack.py scans the running `make run` stack)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.figma_emulator import EMULATOR_CLIENT, USERS, FigmaEmulator
from figma_auth import oauth, tokens
from tests.support.backend_client import FigmaAuthError, RateLimited, backend
from tests.support.browser import (
    Browser,
    decide_at_figma,
    hidden_fields,
    look_up_code,
    query_of,
    sign_in,
    start_login,
    ticket_of,
)
from tests.support.stack import Stack

ADA = USERS["ada"]["id"]
WEBHOOK_SCOPES = "current_user:read,file_content:read,webhooks:read,webhooks:write"
WATCH = {"event_type": "FILE_UPDATE", "context": "file", "context_id": "WatchedFile1"}


class LogScan:
    """The functions' output from ``start()`` on, and every secret the test saw or Figma issued."""

    def __init__(self, stack: Stack, emulator: FigmaEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
        self.stack, self.emulator = stack, emulator
        self.captured = io.StringIO()
        self.secrets: set[str] = {EMULATOR_CLIENT["FIGMA_CLIENT_SECRET"]}
        issue = emulator.state.new_access_token

        def recorded(*args: Any) -> str:  # Figma forgets a token it replaced: keep each one it issues
            token = issue(*args)
            self.secrets.add(token)
            return token

        monkeypatch.setattr(emulator.state, "new_access_token", recorded)

    def start(self) -> None:
        self.stack.containers.sinks.append(self.captured)

    def stop(self) -> None:
        if self.captured in self.stack.containers.sinks:
            self.stack.containers.sinks.remove(self.captured)

    def keep(self, *values: str) -> None:
        self.secrets.update(v for v in values if v)

    def keep_cookies(self, browser: Browser) -> None:
        self.keep(*(value for jar in browser.jars.values() for value in jar.values()))

    def keep_figmas(self) -> None:
        """Every refresh token and webhook passcode Figma holds now (a deleted webhook's passcode
        is gone from it: call this while it exists)."""
        state = self.emulator.state
        with state.lock:
            self.keep(*state.refresh_tokens, *(hook["passcode"] for hook in state.webhooks.hooks.values()))

    def leaked(self, *, routes: tuple[str, ...] = (), functions: tuple[str, ...] = ()) -> list[str]:
        """The secrets in the captured lines (their first characters), after checking that each
        of ``routes`` logged its request line and each of ``functions`` printed (so a capture
        that missed the flow cannot pass)."""
        self.keep_figmas()
        self.stop()
        logs = self.captured.getvalue()
        for route in routes:
            assert f'"route":"{route}"' in logs, f"no request line of {route}"
        for function in functions:
            assert f'"function_name":"{function}"' in logs, f"{function} printed nothing"
        return sorted(secret[:6] + "…" for secret in self.secrets if secret in logs)


@pytest.fixture
def scan(stack: Stack, emulator: FigmaEmulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[LogScan]:
    watching = LogScan(stack, emulator, monkeypatch)
    yield watching
    watching.stop()


def signed_in(stack: Stack, scan: LogScan, scopes: str = "current_user:read") -> Browser:
    browser = Browser(origin=stack.api)
    attempt = start_login(browser, stack.api, scopes=scopes)
    scan.keep(attempt.callback_query["code"], attempt.callback_query["state"])
    assert browser.get(attempt.callback_url).status_code == 303
    scan.keep_cookies(browser)
    return browser


# -- sign-in: cookie and token mode, refresh, proxy, logout, and their failures ------------------


def test_logs_of_signing_in_hold_no_secret(stack: Stack, scan: LogScan):
    scan.start()
    browser = Browser(origin=stack.api)
    attempt = start_login(browser, stack.api)
    scan.keep(attempt.callback_query["code"], attempt.callback_query["state"])
    scan.keep_cookies(browser)
    browser.get(attempt.callback_url)
    scan.keep_cookies(browser)
    browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
    browser.get(f"{stack.api}/figma/v1/files/AbC")
    verifier = tokens.random_token(48)
    token_mode = start_login(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    scan.keep(token_mode.callback_query["code"], token_mode.callback_query["state"])
    scan.keep_cookies(browser)
    ticket = ticket_of(browser.get(token_mode.callback_url).headers["location"])
    token = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier}).json()[
        "session_token"
    ]
    scan.keep(ticket, verifier, token)
    # failures log too: forged state, consent denied, Figma down, throttled refresh
    browser.get(attempt.callback_url.replace(attempt.callback_query["state"], "C" * 43))
    sign_in(Browser(origin=stack.api), stack.api, decision="deny")
    failing = start_login(Browser(origin=stack.api), stack.api)
    scan.keep(failing.callback_query["code"], failing.callback_query["state"])
    stack.emulator.fault("token", "500")
    Browser().get(failing.callback_url)
    stack.emulator.fault("refresh", "500", times=2)
    browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
    browser.post(f"{stack.api}/auth/logout", json={"all": True})

    assert scan.leaked(
        routes=(
            "GET /auth/figma/authorize", "GET /auth/figma/callback", "POST /auth/refresh", "ANY /figma/{proxy+}",
            "POST /auth/token", "POST /auth/logout",
        )
    ) == []  # fmt: skip


# -- device sign-in (RFC 8628) -----------------------------------------------------------------


def test_logs_of_a_device_sign_in_hold_no_secret(stack: Stack, scan: LogScan):
    scan.start()
    device = httpx.post(f"{stack.api}/auth/device", json={}, headers={"Origin": "null"}).json()
    waiting = httpx.post(f"{stack.api}/auth/device", json={}, headers={"Origin": "null"}).json()
    for started in (device, waiting):
        scan.keep(started["device_code"], started["user_code"], started["user_code"].replace("-", ""))
    poll = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code"}
    assert (
        httpx.post(f"{stack.api}/auth/token", json={**poll, "device_code": waiting["device_code"]}).status_code == 400
    )
    httpx.post(f"{stack.api}/auth/token", json={**poll, "device_code": waiting["device_code"]})  # slow_down
    httpx.post(f"{stack.api}/auth/token", json={**poll, "device_code": "A" * 43})  # unknown
    look_up_code(Browser(), f"{stack.api}/auth/device/verify", typed="BBBB-BBBB")  # a wrong code
    person = Browser()
    page = look_up_code(person, device["verification_uri_complete"])
    fields = hidden_fields(page)
    scan.keep(fields["confirm"])
    to_figma = person.get(f"{stack.api}/auth/device/verify", params=fields)
    callback = decide_at_figma(person, to_figma.headers["location"])
    scan.keep(query_of(callback)["code"], query_of(callback)["state"])
    scan.keep_cookies(person)
    assert "result=done" in person.get(callback).headers["location"]
    scan.keep_cookies(person)
    granted = httpx.post(f"{stack.api}/auth/token", json={**poll, "device_code": device["device_code"]})
    assert granted.status_code == 200, granted.text
    session_token = granted.json()["session_token"]
    scan.keep(session_token)
    httpx.get(f"{stack.api}/auth/session", headers={"Authorization": f"Bearer {session_token}"})

    assert scan.leaked(
        routes=(
            "POST /auth/device", "POST /auth/token", "GET /auth/device/verify", "POST /auth/device/verify",
            "GET /auth/figma/callback", "GET /auth/session",
        )
    ) == []  # fmt: skip


# -- backend access (/connections/..., SigV4) --------------------------------------------------


def test_logs_of_backend_access_hold_no_secret(stack: Stack, scan: LogScan):
    user = signed_in(stack, scan)
    helper = backend(stack)
    scan.start()

    token = helper.get_token(ADA)
    scan.keep(token)
    assert helper.figma(ADA, "GET", "/v1/me").status_code == 200
    stack.emulator.fault("me", "401")  # Figma refuses the token once: a forced refresh, then the call again
    helper.figma(ADA, "GET", "/v1/me")
    helper.disconnect(ADA)
    with pytest.raises(FigmaAuthError):
        helper.connection(ADA)
    user.get(f"{stack.api}/auth/session")

    assert (
        scan.leaked(
            routes=(
                "GET /connections/{user_id}",
                "ANY /connections/{user_id}/figma/{proxy+}",
                "DELETE /connections/{user_id}",
            )
        )
        == []
    )


# -- rate limits: Figma's 429 recorded, then answered from the ledger ----------------------------


def test_logs_of_a_rate_limited_connection_hold_no_secret(stack: Stack, scan: LogScan):
    stack.emulator.limits(seats={"ada": "view"}, file_plans={"STARTER1": "starter"})
    viewer = signed_in(stack, scan, scopes="current_user:read,file_content:read")
    scan.start()

    answers = [viewer.get(f"{stack.api}/figma/v1/files/STARTER1") for _ in range(8)]
    with pytest.raises(RateLimited):
        backend(stack).figma(ADA, "GET", "/v1/files/STARTER1")
    viewer.get(f"{stack.api}/auth/session")

    assert [a.status_code for a in answers] == [200] * 6 + [429] * 2  # Figma's 429, then the ledger's
    assert answers[-1].json()["error"] == "rate_limited"
    assert (
        scan.leaked(routes=("ANY /figma/{proxy+}", "ANY /connections/{user_id}/figma/{proxy+}", "GET /auth/session"))
        == []
    )


# -- webhooks: create, a delivery received, the reconciliation, delete --------------------------


def create(browser: Browser, stack: Stack, **body: Any) -> dict[str, Any]:
    created = browser.post(f"{stack.api}/auth/webhooks", json={**WATCH, **body})
    assert created.status_code == 201, created.text
    return dict(created.json())


def pinged(emulator: FigmaEmulator, webhook_id: str) -> bool:
    """Figma's PING for the webhook has been delivered (it goes out from a thread of its own)."""
    state = emulator.state
    with state.arrived:
        return state.arrived.wait_for(
            lambda: any(
                r["request_info"]["payload"]["event_type"] == "PING"
                for r in state.webhooks.requests.get(webhook_id, [])
            ),
            timeout=10,
        )


def edit(stack: Stack, emulator: FigmaEmulator, file_name: str) -> None:
    """A person edits the watched file: Figma delivers a FILE_UPDATE to its webhooks."""
    before = emulator.state.webhooks.delivered
    body = {"event_type": "FILE_UPDATE", "file_key": WATCH["context_id"], "file_name": file_name}
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/trigger", json=body).raise_for_status()
    assert emulator.state.wait_for_deliveries(before + 1)


def test_logs_of_creating_webhooks_hold_no_secret(stack: Stack, emulator: FigmaEmulator, scan: LogScan):
    user = signed_in(stack, scan, scopes=WEBHOOK_SCOPES)
    scan.start()

    mine = create(user, stack)
    theirs = backend(stack).create_webhook(ADA, "FILE_COMMENT", "file", "BackendFile")
    scan.keep_figmas()  # the passcodes Figma was sent
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/forbid", json={"context_id": "team-1"}).raise_for_status()
    refused = user.post(f"{stack.api}/auth/webhooks", json={**WATCH, "context": "team", "context_id": "team-1"})
    user.get(f"{stack.api}/auth/webhooks")
    assert pinged(emulator, mine["id"]) and pinged(emulator, theirs["id"])

    assert refused.status_code == 403
    assert (
        scan.leaked(
            routes=(
                "POST /auth/webhooks",
                "POST /connections/{user_id}/webhooks",
                "GET /auth/webhooks",
                "POST /webhooks/figma",
            )
        )
        == []
    )


def test_logs_of_receiving_webhook_deliveries_hold_no_secret(stack: Stack, emulator: FigmaEmulator, scan: LogScan):
    user = signed_in(stack, scan, scopes=WEBHOOK_SCOPES)
    webhook = create(user, stack)
    assert pinged(emulator, webhook["id"])
    scan.keep_figmas()
    scan.start()

    edit(stack, emulator, "an edit")
    delivered = next(
        r["request_info"]["payload"]
        for r in emulator.state.webhooks.requests[webhook["id"]]
        if r["request_info"]["payload"]["event_type"] == "FILE_UPDATE"
    )
    for payload in (delivered, {**delivered, "passcode": "x" * 43}, {**delivered, "webhook_id": "999"}):
        assert httpx.post(f"{stack.api}/webhooks/figma", json=payload).json() == {"ok": True}

    assert scan.leaked(routes=("POST /webhooks/figma",)) == []


def test_logs_of_the_webhook_reconciliation_hold_no_secret(stack: Stack, emulator: FigmaEmulator, scan: LogScan):
    user = signed_in(stack, scan, scopes=WEBHOOK_SCOPES)
    webhook = create(user, stack)
    assert pinged(emulator, webhook["id"])
    scan.keep_figmas()
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/fail", json={"on": True}).raise_for_status()
    edit(stack, emulator, "missed")  # the receiver was down: Figma's requests log keeps it
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/fail", json={"on": False}).raise_for_status()
    scan.start()

    reconciler = stack.containers.by_name("webhook_reconciler")
    caught_up = stack.containers.invoke(reconciler, {"source": "aws.events", "detail": {}})

    assert caught_up["published"] == 1
    assert scan.leaked(functions=("WebhookReconcilerFunction",)) == []


def test_logs_of_deleting_webhooks_hold_no_secret(stack: Stack, emulator: FigmaEmulator, scan: LogScan):
    user = signed_in(stack, scan, scopes=WEBHOOK_SCOPES)
    first, second = create(user, stack), create(user, stack, context_id="OtherFile")
    third = backend(stack).create_webhook(ADA, "FILE_COMMENT", "file", "BackendFile")
    scan.keep_figmas()
    assert all(pinged(emulator, w["id"]) for w in (first, second, third))
    scan.start()

    assert user.delete(f"{stack.api}/auth/webhooks/{first['id']}").status_code == 204
    backend(stack).delete_webhook(ADA, third["id"])
    user.post(f"{stack.api}/auth/logout", json={"all": True, "disconnect": True})  # the last one goes with it

    assert emulator.state.webhooks.hooks == {}
    assert (
        scan.leaked(
            routes=("DELETE /auth/webhooks/{id}", "DELETE /connections/{user_id}/webhooks/{id}", "POST /auth/logout")
        )
        == []
    )


# -- realtime: a ticket, a socket, a watch, an event pushed, the session's end ---------------------


def test_logs_of_the_realtime_api_hold_no_secret(stack: Stack, emulator: FigmaEmulator, scan: LogScan, realtime: Any):
    from urllib.parse import parse_qs, urlsplit

    from tests.support.realtime import WsClient, realtime_ticket, watch
    from tests.support.realtime import edit as edit_at_figma

    user = signed_in(stack, scan, scopes=f"{WEBHOOK_SCOPES},file_metadata:read")
    scan.start()
    url = realtime_ticket(user, stack.api)["url"]
    scan.keep(parse_qs(urlsplit(url).query)["ticket"][0])
    socket = WsClient(url)
    assert watch(socket, "LiveFile1")["status"] == "active"
    scan.keep_figmas()  # the shared webhook's passcode

    edit_at_figma(stack.emulator.url, "LiveFile1")
    assert socket.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "LiveFile1"
    user.post(f"{stack.api}/auth/logout")  # closes the socket

    assert scan.leaked(routes=("POST /auth/realtime",), functions=("RealtimeFunction", "PushFunction")) == []
