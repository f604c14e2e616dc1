"""Agents (MCP clients) sign in with Figma: /oauth/authorize with a Client ID Metadata Document,
the person's consent on our page, and the token endpoint's authorization_code and refresh_token
grants, whose ES256 JWTs a third party's verifier (PyJWT, keys through discovery) accepts."""

from __future__ import annotations

from typing import Any

import httpx
import jwt as pyjwt
import pytest
from jwt import PyJWKClient

from devstack.hooks import AwsCalls
from tests.support.agents import (
    REDIRECT,
    RESOURCE,
    DocumentServer,
    authorize_query,
    code_of,
    decide,
    exchange,
    open_consent,
    pkce,
    refresh,
)
from tests.support.backend_client import backend
from tests.support.browser import Browser, decide_at_figma, query_of
from tests.support.stack import Stack


@pytest.fixture
def agents(stack: Stack, reconfigure: Any) -> Stack:
    reconfigure(OAUTH_LOOPBACK_CLIENTS="true", OAUTH_RESOURCES=f"{RESOURCE},https://other.example.com/mcp")
    return stack


def verify(stack: Stack, token: str, audience: str = RESOURCE) -> dict[str, Any]:
    metadata = httpx.get(f"{stack.api}/.well-known/oauth-authorization-server").json()
    key = PyJWKClient(metadata["jwks_uri"], cache_keys=False).get_signing_key_from_jwt(token)
    claims: dict[str, Any] = pyjwt.decode(
        token, key.key, algorithms=["ES256"], audience=audience, issuer=metadata["issuer"]
    )
    return claims


def granted(stack: Stack, documents: DocumentServer, browser: Browser | None = None) -> tuple[str, dict[str, Any]]:
    """A person allows the agent; the agent's token response (and its client_id)."""
    client_id = documents.client()
    pair = pkce()
    query = authorize_query(client_id, pair.challenge)
    person = browser or Browser(origin=stack.api)
    code = code_of(decide(person, stack.api, open_consent(person, stack.api, query)), query["state"])
    answer = exchange(stack.api, client_id, code, pair.verifier)
    assert answer.status_code == 200, answer.text
    return client_id, answer.json()


def sessions_of(browser: Browser, stack: Stack) -> list[dict[str, Any]]:
    answer = browser.get(f"{stack.api}/auth/sessions")
    assert answer.status_code == 200, answer.text
    return list(answer.json()["sessions"])


def test_a_person_signs_in_consents_and_the_agent_gets_a_jwt_for_the_resource(agents: Stack, documents):
    client_id = documents.client(logo_uri="https://cdn.example.com/logo.png")
    pair = pkce()
    query = authorize_query(client_id, pair.challenge)
    person = Browser(origin=agents.api)

    page = open_consent(person, agents.api, query)  # no session yet: through the Figma sign-in first

    assert page.status_code == 200
    assert "Claude Code" in page.text and "not verified by figma-auth" in page.text
    assert "127.0.0.1:33418" in page.text and RESOURCE in page.text and "file_content:read" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    back = decide(person, agents.api, page)
    code = code_of(back, query["state"])
    assert query_of(back.headers["location"])["iss"] == agents.api
    answer = exchange(agents.api, client_id, code, pair.verifier)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600 and body["refresh_token"]
    assert answer.headers["cache-control"] == "no-store"
    claims = verify(agents, body["access_token"])
    assert claims["client_id"] == client_id and claims["exp"] - claims["iat"] <= 3600
    assert set(claims["scope"].split()) >= {"current_user:read", "file_content:read"}
    me = httpx.get(
        f"{agents.api}/figma/v1/me",
        headers={"Cookie": "; ".join(f"{k}={v}" for k, v in person.jar(agents.api).items())},
    )
    assert claims["sub"] == me.json()["id"]
    stored = str(agents.table.items())
    assert code not in stored and body["refresh_token"] not in stored
    listed = [s for s in sessions_of(person, agents) if s["client"] == "agent"]
    assert [s["client_name"] for s in listed] == ["Claude Code"]


def test_a_browser_already_signed_in_goes_straight_to_the_consent_page(agents: Stack, documents):
    person = Browser(origin=agents.api)
    granted(agents, documents, person)
    query = authorize_query(documents.client(), pkce().challenge)

    page = person.get(f"{agents.api}/oauth/authorize", params=query)

    assert page.status_code == 200 and 'name="decision" value="deny"' in page.text


def test_the_refresh_token_rotates_and_the_new_one_works(agents: Stack, documents):
    client_id, first = granted(agents, documents)

    second = refresh(agents.api, client_id, first["refresh_token"])

    assert second.status_code == 200, second.text
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert verify(agents, second.json()["access_token"])["sub"]
    assert refresh(agents.api, client_id, second.json()["refresh_token"]).status_code == 200


def test_a_reused_refresh_token_ends_the_whole_family(agents: Stack, documents):
    person = Browser(origin=agents.api)
    client_id, first = granted(agents, documents, person)
    second = refresh(agents.api, client_id, first["refresh_token"]).json()

    reused = refresh(agents.api, client_id, first["refresh_token"])

    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    latest = refresh(agents.api, client_id, second["refresh_token"])
    assert (latest.status_code, latest.json()["error"]) == (400, "invalid_grant")
    assert [s["client"] for s in sessions_of(person, agents)] == ["web"]


def test_a_code_used_twice_is_refused_and_revokes_what_it_gave(agents: Stack, documents):
    client_id = documents.client()
    pair = pkce()
    query = authorize_query(client_id, pair.challenge)
    person = Browser(origin=agents.api)
    code = code_of(decide(person, agents.api, open_consent(person, agents.api, query)), query["state"])
    first = exchange(agents.api, client_id, code, pair.verifier).json()

    again = exchange(agents.api, client_id, code, pair.verifier)

    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")
    assert refresh(agents.api, client_id, first["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_wrong_verifier_is_refused(agents: Stack, documents):
    client_id = documents.client()
    pair = pkce()
    query = authorize_query(client_id, pair.challenge)
    person = Browser(origin=agents.api)
    code = code_of(decide(person, agents.api, open_consent(person, agents.api, query)), query["state"])

    wrong = exchange(agents.api, client_id, code, pkce().verifier)

    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert "error_description" in wrong.json()


def test_a_code_for_another_resource_or_client_is_refused(agents: Stack, documents):
    client_id = documents.client()
    pair = pkce()
    query = authorize_query(client_id, pair.challenge)
    person = Browser(origin=agents.api)
    code = code_of(decide(person, agents.api, open_consent(person, agents.api, query)), query["state"])

    other = exchange(agents.api, client_id, code, pair.verifier, resource="https://other.example.com/mcp")

    assert (other.status_code, other.json()["error"]) == (400, "invalid_target")


def test_a_redirect_uri_not_in_the_document_is_shown_on_our_page_never_followed(agents: Stack, documents):
    query = authorize_query(documents.client(), pkce().challenge, redirect_uri="https://evil.example/cb")

    answer = httpx.get(f"{agents.api}/oauth/authorize", params=query)

    assert answer.status_code == 400 and "location" not in answer.headers
    assert "redirect_uris" in answer.text


def test_a_loopback_redirect_may_use_another_port(agents: Stack, documents):
    person = Browser(origin=agents.api)
    query = authorize_query(documents.client(), pkce().challenge, redirect_uri="http://127.0.0.1:50123/callback")

    page = open_consent(person, agents.api, query)

    assert page.status_code == 200 and "127.0.0.1:50123" in page.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"resource": "https://unknown.example.com/mcp"}, "invalid_target"),
        ({"resource": None}, "invalid_target"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "files:write"}, "invalid_scope"),
    ],
)
def test_a_bad_request_goes_back_to_the_validated_redirect_uri(agents: Stack, documents, overrides, error):
    query = authorize_query(documents.client(), pkce().challenge, **overrides)

    answer = httpx.get(f"{agents.api}/oauth/authorize", params=query)

    assert answer.status_code == 302, answer.text
    assert answer.headers["location"].startswith(REDIRECT + "?")
    back = query_of(answer.headers["location"])
    assert (back["error"], back["state"], back["iss"]) == (error, query["state"], agents.api)


def test_deny_sends_access_denied_back(agents: Stack, documents):
    query = authorize_query(documents.client(), pkce().challenge)
    person = Browser(origin=agents.api)

    back = decide(person, agents.api, open_consent(person, agents.api, query), decision="deny")

    assert back.status_code == 303
    assert query_of(back.headers["location"])["error"] == "access_denied"


def test_a_consent_not_from_our_page_in_this_browser_gives_no_code(agents: Stack, documents):
    query = authorize_query(documents.client(), pkce().challenge)
    person = Browser(origin=agents.api)
    open_consent(person, agents.api, query)
    person.jar(agents.api).pop("__Host-figma_auth_consent")  # another site's form: no consent cookie

    forged = person.post(f"{agents.api}/oauth/authorize", data={**query, "csrf": "x" * 43, "decision": "allow"})

    assert forged.status_code == 400 and "location" not in forged.headers


def test_the_person_ends_the_agent_from_their_sessions(agents: Stack, documents):
    person = Browser(origin=agents.api)
    client_id, tokens = granted(agents, documents, person)
    agent = next(s for s in sessions_of(person, agents) if s["client"] == "agent")

    ended = person.post(f"{agents.api}/auth/logout", json={"session_id": agent["id"]})

    assert ended.status_code == 204
    assert refresh(agents.api, client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_logout_all_ends_agents_too(agents: Stack, documents):
    person = Browser(origin=agents.api)
    client_id, tokens = granted(agents, documents, person)

    assert person.post(f"{agents.api}/auth/logout", json={"all": True}).status_code == 204

    assert refresh(agents.api, client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_the_document_is_cached_as_its_cache_control_says(agents: Stack, documents):
    cached = documents.client("/cached.json", headers={"Cache-Control": "max-age=300"})
    fresh = documents.client("/fresh.json", headers={"Cache-Control": "no-store"})
    for client_id in (cached, fresh, cached, fresh):
        answer = httpx.get(f"{agents.api}/oauth/authorize", params=authorize_query(client_id, None))
        assert answer.status_code == 302  # no PKCE: back to the client, after the document was read

    assert (documents.hits["/cached.json"], documents.hits["/fresh.json"]) == (1, 2)


@pytest.mark.parametrize("client_id", ["http://127.0.0.1:9/client.json", "https://localhost/client.json"])
def test_in_the_aws_configuration_a_document_on_a_loopback_address_is_never_fetched(
    stack: Stack, reconfigure, client_id
):
    reconfigure(OAUTH_RESOURCES=RESOURCE)  # OAUTH_LOOPBACK_CLIENTS unset, as in AWS

    answer = httpx.get(f"{stack.api}/oauth/authorize", params=authorize_query(client_id, pkce().challenge))

    assert answer.status_code == 400 and "location" not in answer.headers
    assert "could not be identified" in answer.text


def test_a_disconnect_ends_agents_and_the_backend_reads_figma_as_the_tokens_sub(agents: Stack, documents):
    client_id, tokens = granted(agents, documents)
    sub = verify(agents, tokens["access_token"])["sub"]
    app_backend = backend(agents)
    assert app_backend.figma(sub, "GET", "/v1/me").json()["id"] == sub  # what an MCP server does with sub

    app_backend.disconnect(sub)

    assert refresh(agents.api, client_id, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_each_grant_costs_two_dynamodb_calls_and_one_kms_sign_warm(agents: Stack, documents):
    client_id = documents.client()
    pair = pkce()
    query = authorize_query(client_id, pair.challenge)
    person = Browser(origin=agents.api)
    code = code_of(decide(person, agents.api, open_consent(person, agents.api, query)), query["state"])
    httpx.get(f"{agents.api}/.well-known/jwks.json")  # warm: the signer's public key is known
    counter = AwsCalls()

    first = exchange(agents.api, client_id, code, pair.verifier).json()
    code_grant = dict(counter.calls)
    counter.reset()
    assert refresh(agents.api, client_id, first["refresh_token"]).status_code == 200

    assert code_grant == {"dynamodb:UpdateItem": 1, "dynamodb:TransactWriteItems": 1, "kms:Sign": 1}
    assert dict(counter.calls) == {"dynamodb:GetItem": 1, "dynamodb:TransactWriteItems": 1, "kms:Sign": 1}


def test_declining_at_figma_sends_access_denied_back_to_the_client(agents: Stack, documents):
    query = authorize_query(documents.client(), pkce().challenge)
    person = Browser(origin=agents.api)
    to_figma = person.get(f"{agents.api}/oauth/authorize", params=query)
    assert to_figma.status_code == 302

    back_here = person.get(decide_at_figma(person, to_figma.headers["location"], decision="deny"))
    to_client = person.get(back_here.headers["location"])

    assert to_client.status_code == 302 and to_client.headers["location"].startswith(REDIRECT + "?")
    back = query_of(to_client.headers["location"])
    assert (back["error"], back["state"], back["iss"]) == ("access_denied", query["state"], agents.api)
    assert "code" not in back
