"""examples/mcp-figma, the MCP server on the official MCP Python SDK with figma-auth as its
authorization server: its RFC 9728 metadata names us, a request without a token is 401 with the
header the specification asks for, a token for another resource is refused, and the SDK's own
client, given only the server's URL, discovers everything, has a person sign in with Figma and
consent in real Chromium (Debian's, through Playwright), and calls a tool that reads the emulator
file's name as that person."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support import httpclient
from tests.support.agents import (
    REDIRECT,
    RESOURCE,
    DocumentServer,
    authorize_query,
    code_of,
    decide,
    exchange,
    https_documents,
    open_consent,
    pkce,
)
from tests.support.backend_client import backend
from tests.support.browser import Browser, query_of
from tests.support.mcp_example import load_example
from tests.support.stack import Stack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_example(stack: Stack, url: str, port: int, *, stateless: bool = False) -> Iterator[None]:
    """The example server for resource ``url`` on 127.0.0.1:``port``, trusting this test's stack."""
    _, app = load_example().build(stack.api, url, backend(stack), stateless=stateless)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # uvicorn's own flag: listening
        assert time.monotonic() < deadline, "the MCP server did not start"
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def mcp_server(stack: Stack, reconfigure: Any) -> Iterator[str]:
    """The example server on a free port; its URL (the resource)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    reconfigure(OAUTH_LOOPBACK_CLIENTS="true", OAUTH_RESOURCES=f"{url},{RESOURCE}")
    with running_example(stack, url, port):
        yield url


def token_for(stack: Stack, documents: DocumentServer, resource: str) -> str:
    client_id = documents.client()
    pair = pkce()
    query = authorize_query(client_id, pair.challenge, resource=resource)
    person = Browser(origin=stack.api)
    code = code_of(decide(person, stack.api, open_consent(person, stack.api, query)), query["state"])
    answer = exchange(stack.api, client_id, code, pair.verifier, resource=resource)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_without_a_token_the_server_answers_401_pointing_at_its_metadata_which_names_figma_auth(stack, mcp_server):
    answer = httpx.post(mcp_server, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})

    assert answer.status_code == 401
    challenge = answer.headers["www-authenticate"]
    metadata_url = mcp_server.replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    assert challenge.startswith("Bearer ") and f'resource_metadata="{metadata_url}"' in challenge
    metadata = httpx.get(metadata_url).json()
    assert metadata["resource"] == mcp_server and metadata["authorization_servers"] == [stack.api]


def test_a_token_for_another_resource_is_refused_at_the_mcp_server(stack, mcp_server, documents):
    token = token_for(stack, documents, RESOURCE)

    answer = httpx.post(
        mcp_server,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
    )

    assert answer.status_code == 401


def test_the_sdks_client_calls_a_tool_that_reads_the_files_name_as_the_person(stack, mcp_server, documents):
    token = token_for(stack, documents, mcp_server)
    expected = backend(stack).figma(_sub(token), "GET", "/v1/files/Agent1", params={"depth": "1"})

    async def call() -> Any:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
        async with Client(streamable_http_client(mcp_server, http_client=http)) as client:
            return await client.call_tool("file_name", {"file_key": "Agent1"})

    result = anyio.run(call)

    assert not result.is_error, result
    assert result.structured_content["name"] == expected.json()["name"]


def test_as_deployed_stateless_behind_a_proxy_it_answers_json_for_its_own_host_only(stack, reconfigure, documents):
    """examples/mcp-figma/template.yaml's configuration: a public https resource, the server on
    loopback behind Lambda Web Adapter (which passes API Gateway's Host on), no MCP sessions
    (any instance answers), whole JSON answers. The SDK's client reads the file; a request
    naming another host is refused (DNS-rebinding protection)."""
    reconfigure(OAUTH_LOOPBACK_CLIENTS="true", OAUTH_RESOURCES=RESOURCE)
    token = token_for(stack, documents, RESOURCE)
    port = free_port()
    local = f"http://127.0.0.1:{port}/mcp"
    headers = {"Authorization": f"Bearer {token}", "Host": "mcp.example.com"}  # RESOURCE's host
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    call["params"] = {"name": "file_name", "arguments": {"file_key": "Agent1"}}
    accept = {"Accept": "application/json, text/event-stream"}

    async def through_the_sdk() -> Any:
        http = httpx2.AsyncClient(headers=headers)
        async with Client(streamable_http_client(local, http_client=http)) as client:
            return await client.call_tool("file_name", {"file_key": "Agent1"})

    with running_example(stack, RESOURCE, port, stateless=True):
        result = anyio.run(through_the_sdk)
        raw = httpx.post(local, json=call, headers={**headers, **accept})  # no initialize: no session
        elsewhere = httpx.post(local, json=call, headers={**headers, **accept, "Host": f"127.0.0.1:{port}"})

    assert not result.is_error, result
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/json"), raw.text
    assert "mcp-session-id" not in raw.headers
    assert raw.json()["result"]["structuredContent"]["name"] == result.structured_content["name"]
    assert elsewhere.status_code == 421


def _sub(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


class MemoryTokens:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: Any = None
        self.client: Any = None

    async def get_tokens(self) -> Any:
        return self.tokens

    async def set_tokens(self, tokens: Any) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> Any:
        return self.client

    async def set_client_info(self, client_info: Any) -> None:
        self.client = client_info


def consent_in_chromium(url: str) -> str:
    """A person in real Chromium: the Figma sign-in (emulator), then our consent page; returns
    the URL the browser was sent back to (the agent's loopback redirect, answered here)."""
    from playwright.sync_api import sync_playwright

    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    landed: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        page = browser.new_context().new_page()
        page.set_default_timeout(20_000)
        page.route(
            REDIRECT.rsplit("/", 1)[0] + "/**",
            lambda route: (landed.append(route.request.url), route.fulfill(status=200, body="done")),
        )
        page.goto(url)
        page.wait_for_url("**/oauth?**")  # Figma's consent (the emulator)
        page.click("#allow")
        page.wait_for_selector('button[name="decision"][value="allow"]')  # ours
        assert "not verified by figma-auth" in page.content()
        page.click('button[name="decision"][value="allow"]')
        page.wait_for_url(REDIRECT + "?**")
        browser.close()
    return landed[0]


def test_a_stock_mcp_client_given_only_the_servers_url_gets_a_persons_consent_and_reads_the_file(
    stack: Stack, reconfigure: Any, tmp_path: Any, monkeypatch: Any
):
    from mcp.client.auth import OAuthClientProvider
    from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

    documents, ca_file = https_documents(tmp_path)
    httpclient.tls()  # this process's shared test context is made (and kept) before the CA is named
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the stack trusts the test CA (new workers)
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    reconfigure(OAUTH_LOOPBACK_CLIENTS="true", OAUTH_RESOURCES=url)
    client_id = documents.client("/mcp-client.json", client_name="Stock MCP client")
    landed: list[str] = []

    async def open_browser(authorization_url: str) -> None:
        landed.append(await anyio.to_thread.run_sync(consent_in_chromium, authorization_url))

    async def come_back() -> AuthorizationCodeResult:
        back = query_of(landed[-1])
        return AuthorizationCodeResult(code=back["code"], state=back.get("state"), iss=back.get("iss"))

    storage = MemoryTokens()
    oauth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(redirect_uris=[REDIRECT], client_name="Stock MCP client"),  # type: ignore[list-item]
        storage=storage,
        redirect_handler=open_browser,
        callback_handler=come_back,
        client_metadata_url=client_id,
    )

    async def call() -> Any:
        http = httpx2.AsyncClient(auth=oauth, timeout=60)
        async with Client(streamable_http_client(url, http_client=http)) as client:
            return await client.call_tool("file_name", {"file_key": "Agent1"})

    with running_example(stack, url, port):
        result = anyio.run(call)
    documents.stop()

    assert not result.is_error, result
    sub = _sub(storage.tokens.access_token)
    expected = backend(stack).figma(sub, "GET", "/v1/files/Agent1", params={"depth": "1"}).json()["name"]
    assert result.structured_content["name"] == expected
    assert query_of(landed[0])["iss"] == stack.api and documents.hits["/mcp-client.json"] >= 1
