"""A stock RFC 8628 client library nobody here wrote (panva's openid-client, as CLIs, VS Code
extensions and MCP servers use it) signs in from the issuer URL alone: RFC 8414 discovery,
device authorization, its own polling; and our refusals surface as that library's errors."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devstack.hooks import AwsCalls
from tests.support.browser import Browser, confirm_device
from tests.support.stack import Stack, _update
from tests.support.stock import DeviceLogin

SCOPE = "current_user:read file_content:read"


@pytest.fixture
def fast(reconfigure) -> None:  # noqa: ANN001
    reconfigure(DEVICE_POLL_INTERVAL_SECONDS="1")


@pytest.fixture
def login(stack: Stack) -> Iterator[list[DeviceLogin]]:
    started: list[DeviceLogin] = []
    yield started
    for client in started:
        client.close()


def device_login(login: list[DeviceLogin], stack: Stack, *extra: str) -> DeviceLogin:
    client = DeviceLogin(stack.api, SCOPE, *extra)
    login.append(client)
    return client


@pytest.mark.parametrize("discovery", ["oauth2", "oidc"], ids=["RFC 8414", "OpenID discovery"])
def test_the_library_signs_in_from_the_issuer_alone_and_its_access_token_is_a_bearer_session(
    stack: Stack, fast: None, login: list[DeviceLogin], discovery: str
) -> None:
    client = device_login(login, stack, "--discovery", discovery)
    started = client.next()
    assert started["event"] == "started" and started["issuer"] == stack.api  # RFC 8414 §3.3: exactly
    assert started["token_endpoint"] == f"{stack.api}/auth/token"

    done = confirm_device(Browser(), started["verification_uri_complete"])
    assert done.status_code == 303 and "result=done" in done.headers["location"]
    token = client.next()

    assert token["event"] == "token", token
    assert token["token_type"].lower() == "bearer" and set(token["scope"].split()) >= {"current_user:read"}
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    session = httpx.get(f"{stack.api}/auth/session", headers=bearer)
    assert session.status_code == 200 and session.json()["user"]["handle"] == "Ada Lovelace"
    assert httpx.get(f"{stack.api}/figma/v1/files/AbC123", headers=bearer).status_code == 200


def test_a_declined_consent_is_the_librarys_access_denied_error(
    stack: Stack, fast: None, login: list[DeviceLogin]
) -> None:
    client = device_login(login, stack)
    started = client.next()

    confirm_device(Browser(), started["verification_uri_complete"], decision="deny")

    failed = client.next()
    assert (failed["event"], failed["name"], failed["error"]) == ("error", "ResponseBodyError", "access_denied")


def test_an_expired_device_code_is_the_librarys_expired_token_error(
    stack: Stack, fast: None, login: list[DeviceLogin]
) -> None:
    client = device_login(login, stack)
    client.next()
    (device,) = [i for i in stack.table.items() if i["pk"]["S"].startswith("DEVICE#")]

    _update(stack.table, device["pk"]["S"], "DEVICE", "SET expires_at = :e", {":e": {"S": "2020-01-01T00:00:00Z"}})

    failed = client.next()
    assert (failed["event"], failed["name"], failed["error"]) == ("error", "ResponseBodyError", "expired_token")


def test_a_library_polling_too_fast_gets_slow_down_and_backs_off_by_five_seconds(
    stack: Stack, fast: None, login: list[DeviceLogin]
) -> None:
    calls = AwsCalls()
    client = device_login(login, stack, "--interval", "0", "--abort-after", "3")  # it polls at once, twice
    client.next()

    stopped = client.next()

    # pending (1 poll write), then slow_down (the refused poll + the grown interval), then the
    # library waits 5 s more, as RFC 8628 §3.5 says: nothing else until our 3 s abort.
    assert (stopped["event"], stopped["code"]) == ("error", "OAUTH_TIMEOUT"), stopped  # our abort, not an error of ours
    assert calls.by_service("dynamodb").get("UpdateItem") == 3
    (device,) = [i for i in stack.table.items() if i["pk"]["S"].startswith("DEVICE#")]
    assert device["interval_ms"]["N"] == "6000"  # 1 s + 5 s
