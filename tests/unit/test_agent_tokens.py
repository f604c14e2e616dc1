"""The agents' token grants with a typed fake store and a fake signer: what each refusal is,
and the claims of the access token (aud = the resource, exp within the TTL and the family)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.errors import InvalidGrant, InvalidScope, InvalidTarget, NotFound
from figma_auth.models.tokens import AgentCodeRequest, AgentRefreshRequest
from figma_auth.oauth import pkce_challenge
from figma_auth.records import Session
from figma_auth.records.agents import AgentCode, AgentGrant, AgentRefresh
from figma_auth.tokens import hash_secret
from figma_auth.usecases.agent_tokens import AgentTokens

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
VERIFIER = "v" * 43
CODE = "c" * 43
GRANT = AgentGrant(
    "u1", "https://agent.example/c.json", "Agent", "https://mcp.example/mcp", ("current_user:read",), "f1"
)


class FakeStore:
    def __init__(self) -> None:
        self.codes: dict[str, AgentCode] = {}
        self.refreshes: dict[str, AgentRefresh] = {}
        self.sessions: dict[str, Session] = {}

    def take_agent_code(self, code_hash: str) -> AgentCode | None:
        code = self.codes.get(code_hash)
        if code is not None:
            self.codes[code_hash] = AgentCode(
                code.code_hash, code.grant, code.redirect_uri, code.code_challenge, code.expires_at, True
            )
        return code

    def agent_refresh(self, token_hash: str) -> AgentRefresh | None:
        return self.refreshes.get(token_hash)

    def start_agent_family(self, family: Session, refresh: AgentRefresh) -> None:
        self.sessions[family.id] = family
        self.refreshes[refresh.token_hash] = refresh

    def rotate_agent_refresh(self, old: AgentRefresh, new: AgentRefresh, *, now: datetime) -> bool:
        if self.refreshes[old.token_hash].used or old.grant.family_id not in self.sessions:
            return False
        self.refreshes[old.token_hash] = AgentRefresh(old.token_hash, old.grant, old.expires_at, True)
        self.refreshes[new.token_hash] = new
        return True

    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool:
        return self.sessions.pop(session_id, None) is not None


class FakeSigner:
    def __init__(self) -> None:
        self.signed: list[dict[str, Any]] = []

    def sign(self, body: Mapping[str, Any]) -> str:
        self.signed.append(dict(body))
        return "jwt"


def tokens(store: FakeStore, signer: FakeSigner | None, ended: list[str] | None = None) -> AgentTokens:
    return AgentTokens(
        store=store,
        signer=signer,
        clock=lambda: NOW,
        ttl_seconds=900,
        session_ttl_days=30,
        ended=lambda user, sid, reason: (ended if ended is not None else []).append(reason),
    )


def with_code(expires_at: datetime = NOW + timedelta(seconds=60)) -> FakeStore:
    store = FakeStore()
    store.codes[hash_secret(CODE)] = AgentCode(
        hash_secret(CODE), GRANT, "http://127.0.0.1:1/cb", pkce_challenge(VERIFIER), expires_at
    )
    return store


def code_request(**changes: str) -> AgentCodeRequest:
    fields = {
        "grant_type": "authorization_code",
        "code": CODE,
        "redirect_uri": "http://127.0.0.1:1/cb",
        "client_id": GRANT.client_id,
        "code_verifier": VERIFIER,
        **changes,
    }
    return AgentCodeRequest.model_validate(fields)


def test_the_access_token_is_for_the_resource_and_lives_at_most_the_ttl() -> None:
    signer = FakeSigner()
    answer = tokens(with_code(), signer).exchange(code_request(), issuer="https://auth.example")
    claims = signer.signed[0]
    assert (claims["aud"], claims["sub"], claims["client_id"], claims["sid"]) == (
        GRANT.resource,
        "u1",
        GRANT.client_id,
        "f1",
    )
    assert claims["exp"] - claims["iat"] == 900 == answer.expires_in and answer.scope == "current_user:read"


@pytest.mark.parametrize(
    ("store", "request_", "error"),
    [
        (with_code(NOW), code_request(), InvalidGrant),  # expired
        (with_code(), code_request(client_id="https://other.example/c.json"), InvalidGrant),
        (with_code(), code_request(redirect_uri="http://127.0.0.1:2/cb"), InvalidGrant),
        (with_code(), code_request(code_verifier="w" * 43), InvalidGrant),
        (with_code(), code_request(resource="https://other.example/mcp"), InvalidTarget),
        (FakeStore(), code_request(), InvalidGrant),  # unknown
    ],
)
def test_a_code_is_refused_unless_every_binding_holds(
    store: FakeStore, request_: AgentCodeRequest, error: type
) -> None:
    with pytest.raises(error):
        tokens(store, FakeSigner()).exchange(request_, issuer="https://auth.example")
    assert store.sessions == {}


def test_a_refresh_may_not_widen_the_scopes_nor_change_the_resource() -> None:
    store = with_code()
    first = tokens(store, FakeSigner()).exchange(code_request(), issuer="i")
    wider = {"grant_type": "refresh_token", "refresh_token": first.refresh_token, "scope": "file_content:read"}
    with pytest.raises(InvalidScope):
        tokens(store, FakeSigner()).refresh(AgentRefreshRequest.model_validate(wider), issuer="i")
    other = {"grant_type": "refresh_token", "refresh_token": first.refresh_token, "resource": "https://x.example/mcp"}
    with pytest.raises(InvalidTarget):
        tokens(store, FakeSigner()).refresh(AgentRefreshRequest.model_validate(other), issuer="i")


def test_a_reused_refresh_token_ends_the_family_and_says_so() -> None:
    store, ended = with_code(), list[str]()
    agent = tokens(store, FakeSigner(), ended)
    first = agent.exchange(code_request(), issuer="i")
    request = AgentRefreshRequest.model_validate({"grant_type": "refresh_token", "refresh_token": first.refresh_token})
    agent.refresh(request, issuer="i")

    with pytest.raises(InvalidGrant):
        agent.refresh(request, issuer="i")

    assert store.sessions == {} and ended == ["refresh_reused"]


def test_without_jwts_the_grants_are_not_found() -> None:
    with pytest.raises(NotFound):
        tokens(with_code(), None).exchange(code_request(), issuer="i")
