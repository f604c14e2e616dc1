"""Client ID Metadata Documents as the AWS configuration fetches them: public addresses only
(resolved once, connected to as resolved), small, fast, no redirects, cached as told, and
checked (its client_id is its URL; redirect URIs; loopback ports may vary)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from figma_auth.client_documents import ClientDocument, ClientDocuments, InvalidClient, cache_seconds

URL = "https://agent.example.com/oauth/client.json"
DOC = {"client_id": URL, "client_name": "Agent", "redirect_uris": ["http://127.0.0.1:3000/cb", "https://a.example/cb"]}


def documents(
    *, answers: list[httpx.Response] | None = None, addresses: list[str] | None = None, seen: list[Any] | None = None
) -> ClientDocuments:
    queue = list(answers or [httpx.Response(200, json=DOC)])

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    now = [0.0]
    return ClientDocuments(
        allow_loopback=False,
        resolver=lambda host, port: addresses if addresses is not None else ["93.184.215.14"],
        transport=httpx.MockTransport(handle),
        clock=lambda: now[0],
    )


@pytest.mark.parametrize(
    "address", ["10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "::1", "fe80::1", "fd00::1"]
)
def test_a_document_url_resolving_to_a_private_loopback_or_link_local_address_is_never_fetched(address: str) -> None:
    seen: list[Any] = []
    with pytest.raises(InvalidClient, match="private, loopback or link-local"):
        documents(addresses=["93.184.215.14", address], seen=seen).get(URL)
    assert seen == []


def test_the_request_goes_to_the_checked_address_with_the_documents_host_name() -> None:
    seen: list[httpx.Request] = []
    doc = documents(seen=seen).get(URL)
    assert doc.client_name == "Agent" and doc.redirect_uris == tuple(DOC["redirect_uris"])
    assert seen[0].url.host == "93.184.215.14" and seen[0].headers["host"] == "agent.example.com"
    assert seen[0].extensions["sni_hostname"] == "agent.example.com"


@pytest.mark.parametrize(
    "client_id",
    [
        "http://agent.example.com/c.json",
        "https://agent.example.com",
        "https://agent.example.com/",
        "https://u:p@a.example/c",
        "https://agent.example.com/c\x00.json",
        "https://agent.example.com/a b.json",
    ],
)
def test_only_https_urls_with_a_path_are_client_ids_in_aws(client_id: str) -> None:
    with pytest.raises(InvalidClient):
        documents().get(client_id)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(302, headers={"Location": "https://elsewhere.example/c.json"}),
        httpx.Response(404),
        httpx.Response(200, content=b"x" * 6000),
        httpx.Response(200, content=b"not json"),
        httpx.Response(200, json={**DOC, "client_id": "https://someone.else/c.json"}),
        httpx.Response(200, json={**DOC, "redirect_uris": []}),
        httpx.Response(200, json={**DOC, "token_endpoint_auth_method": "client_secret_basic"}),
    ],
)
def test_a_redirect_an_error_a_large_or_a_wrong_document_is_refused(answer: httpx.Response) -> None:
    with pytest.raises(InvalidClient):
        documents(answers=[answer]).get(URL)


def test_a_slow_document_is_refused() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    slow = ClientDocuments(
        allow_loopback=False, resolver=lambda h, p: ["93.184.215.14"], transport=httpx.MockTransport(hang)
    )
    with pytest.raises(InvalidClient, match="too slow"):
        slow.get(URL)


def test_the_document_is_cached_for_its_max_age_and_not_when_no_store() -> None:
    seen: list[Any] = []
    cached = httpx.Response(200, json=DOC, headers={"Cache-Control": "public, max-age=60"})
    docs = documents(answers=[cached], seen=seen)
    docs.get(URL)
    docs.get(URL)
    assert len(seen) == 1
    assert (cache_seconds("no-store, max-age=60"), cache_seconds(""), cache_seconds("max-age=999999")) == (0, 0, 86400)


def test_a_loopback_redirect_uri_may_use_another_port_but_nothing_else_may_differ() -> None:
    doc = ClientDocument(URL, "Agent", tuple(DOC["redirect_uris"]))
    assert doc.accepts("http://127.0.0.1:49152/cb") and doc.accepts("https://a.example/cb")
    assert not doc.accepts("http://127.0.0.1:49152/other") and not doc.accepts("https://a.example:444/cb")
    assert not doc.accepts("http://localhost:3000/cb") and not doc.accepts(json.dumps(DOC))
