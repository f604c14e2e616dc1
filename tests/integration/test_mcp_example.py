"""examples/mcp-figma, the MCP server on the official MCP Python SDK with figma-auth as its
authorization server: its RFC 9728 metadata names us, a request without a token is 401 with the
header the specification asks for, a token for another resource is refused, and the SDK's own
client calls a tool that reads the emulator file's name as the person who consented."""

from __future__ import annotations

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

from tests.support.agents import (
    RESOURCE,
    DocumentServer,
    authorize_query,
    code_of,
    decide,
    exchange,
    open_consent,
    pkce,
)
from tests.support.backend_client import backend
from tests.support.browser import Browser
from tests.support.mcp_example import load_example
from tests.support.stack import Stack


@pytest.fixture(scope="module")
def documents() -> Iterator[DocumentServer]:
    server = DocumentServer().start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mcp_server(stack: Stack, reconfigure: Any) -> Iterator[str]:
    """The example server on a free port, trusting this test's stack; its URL (the resource)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    reconfigure(OAUTH_LOOPBACK_CLIENTS="true", OAUTH_RESOURCES=f"{url},{RESOURCE}")
    _, app = load_example().build(stack.api, url, backend(stack))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the MCP server did not start"
        time.sleep(0.02)
    yield url
    server.should_exit = True
    thread.join(10)


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


def _sub(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sub"])
