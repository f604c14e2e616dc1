"""Agents' items on DynamoDB Local (the DynamoDB store alone: the unit tests' stand-in for it
lives beside them in test_agent_tokens.py): an authorization code taken once and kept an hour
past its expiry so a second use still finds it; a refresh token rotated once, only while its
family (a session of client agent) lives."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from figma_auth.records import Session
from figma_auth.records.agents import AgentCode, AgentGrant, AgentRefresh
from figma_auth.store.agents import AGENT_CODE, AGENT_REFRESH
from figma_auth.tokens import hash_secret
from tests.support.contract import NOW, Table

GRANT = AgentGrant(
    user_id="42",
    client_id="https://agent.example/client.json",
    client_name="An Agent",
    resource="https://mcp.example/mcp",
    scopes=("current_user:read", "file_content:read"),
    family_id=hash_secret("the-family"),
)
CODE = AgentCode(
    code_hash=hash_secret("the-code"),
    grant=GRANT,
    redirect_uri="http://127.0.0.1:8765/callback",
    code_challenge="the-challenge",
    expires_at=NOW + timedelta(seconds=60),
)
FAMILY = Session(GRANT.family_id, "42", NOW, NOW + timedelta(days=30), client="agent", client_name="An Agent")
FIRST = AgentRefresh(hash_secret("refresh-1"), GRANT, NOW + timedelta(days=30))
SECOND = AgentRefresh(hash_secret("refresh-2"), GRANT, NOW + timedelta(days=30))


def test_a_code_is_taken_once_and_then_found_used_for_an_hour_past_its_expiry(table: Table) -> None:
    table.store.put_agent_code(CODE)
    assert table.item(AGENT_CODE.key(CODE.code_hash))["ttl"] == int(CODE.expires_at.timestamp()) + 3600  # type: ignore[index]

    assert table.store.take_agent_code(CODE.code_hash) == CODE
    assert table.store.take_agent_code(CODE.code_hash) == replace(CODE, used=True)
    assert table.store.take_agent_code(hash_secret("another-code")) is None


def test_a_code_is_stored_once(table: Table) -> None:
    table.store.put_agent_code(CODE)
    with pytest.raises(table.client.exceptions.ConditionalCheckFailedException):
        table.store.put_agent_code(CODE)


def test_a_code_without_scopes_reads_back_without_scopes(table: Table) -> None:
    bare = replace(CODE, grant=replace(GRANT, scopes=()))
    table.store.put_agent_code(bare)
    assert table.store.take_agent_code(CODE.code_hash) == bare


def test_a_family_starts_with_its_session_and_first_refresh_token_expiring_with_it(table: Table) -> None:
    table.store.start_agent_family(FAMILY, FIRST)
    assert table.store.agent_refresh(FIRST.token_hash) == FIRST
    assert table.item(AGENT_REFRESH.key(FIRST.token_hash))["ttl"] == int(FIRST.expires_at.timestamp())  # type: ignore[index]
    assert [s.id for s in table.store.user_sessions("42")] == [FAMILY.id]
    assert table.store.agent_refresh(SECOND.token_hash) is None


def test_a_family_is_started_once(table: Table) -> None:
    table.store.start_agent_family(FAMILY, FIRST)
    with pytest.raises(table.client.exceptions.TransactionCanceledException):
        table.store.start_agent_family(FAMILY, SECOND)
    assert table.store.agent_refresh(SECOND.token_hash) is None


def test_a_refresh_token_is_rotated_once_into_the_next(table: Table) -> None:
    table.store.start_agent_family(FAMILY, FIRST)
    assert table.store.rotate_agent_refresh(FIRST, SECOND, now=NOW) is True
    assert table.store.agent_refresh(FIRST.token_hash) == replace(FIRST, used=True)
    assert table.store.agent_refresh(SECOND.token_hash) == SECOND

    third = AgentRefresh(hash_secret("refresh-3"), GRANT, NOW + timedelta(days=30))
    assert table.store.rotate_agent_refresh(FIRST, third, now=NOW) is False  # spent
    assert table.store.agent_refresh(third.token_hash) is None


def test_no_rotation_once_the_family_ended_or_expired_or_of_an_unknown_token(table: Table) -> None:
    table.store.start_agent_family(FAMILY, FIRST)
    assert table.store.rotate_agent_refresh(FIRST, SECOND, now=FAMILY.expires_at) is False  # expired
    assert table.store.agent_refresh(FIRST.token_hash) == FIRST  # nothing spent
    unknown = AgentRefresh(hash_secret("unknown"), GRANT, NOW + timedelta(days=30))
    assert table.store.rotate_agent_refresh(unknown, SECOND, now=NOW) is False
    assert table.store.delete_session(FAMILY.id) is True
    assert table.store.rotate_agent_refresh(FIRST, SECOND, now=NOW) is False  # ended
    assert table.store.agent_refresh(SECOND.token_hash) is None
