"""The real Figma client (its own httpx client, no injected transport) against the Figma emulator
(devstack/figma_emulator.py) over real HTTP on 127.0.0.1: what only a socket shows — a Figma that
never answers, an answer that arrives a byte at a time — and what a refusal of our credentials
is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from devstack.figma_emulator import EMULATOR_CLIENT, Fault, FigmaEmulator
from figma_auth import deadline
from figma_auth.errors import FigmaError, FigmaUnavailable, ReauthRequired
from figma_auth.figma import READ_TIMEOUT, FigmaClient, RetryPolicy
from figma_auth.oauth import FigmaGrant

NOW = datetime(2026, 11, 28, tzinfo=UTC)
ADA = {"id": "1143925780461227139", "handle": "Ada Lovelace", "email": "ada@example.com"}  # devstack/figma_users.py


@pytest.fixture
def figma(emulator: FigmaEmulator) -> Iterator[FigmaEmulator]:
    """The session's emulator, reset; a request still hanging on a fault is freed after the test."""
    hang = emulator.state.hang_seconds
    emulator.state.reset()
    yield emulator
    emulator.state.hang_seconds = hang
    emulator.state.reset()


def real_client(
    figma: FigmaEmulator, *, read_timeout: float = READ_TIMEOUT, secret: str = EMULATOR_CLIENT["FIGMA_CLIENT_SECRET"]
) -> FigmaClient:
    """One try per call: what a single try does is what these tests read."""
    return FigmaClient(
        api_url=figma.url, client_id=EMULATOR_CLIENT["FIGMA_CLIENT_ID"], client_secret=lambda: secret,
        retry=RetryPolicy(attempts=1), read_timeout=read_timeout,
    )  # fmt: skip


def grant_of(figma: FigmaEmulator, user: str = "ada") -> FigmaGrant:
    """A grant the emulator issued, as a code exchange would have."""
    with figma.state.lock:
        issued = figma.state.issue(user, ["current_user:read"], "grant-1")
    return FigmaGrant(issued["access"], issued["refresh"], NOW, ("current_user:read",))


def test_a_figma_that_never_answers_is_given_up_on_when_the_read_timeout_ends(figma: FigmaEmulator) -> None:
    figma.state.hang_seconds = 8  # then the emulator closes the connection without an answer
    figma.state.faults.append(Fault("refresh", "hang"))

    with pytest.raises(FigmaUnavailable) as gave_up:
        real_client(figma, read_timeout=deadline.MIN_ATTEMPT_SECONDS).refresh(grant_of(figma), now=lambda: NOW)

    # the client's own read timeout ended the wait, not the emulator closing the connection
    assert isinstance(gave_up.value.__cause__, httpx.ReadTimeout)
    assert figma.state.calls["refresh"] == 1


def test_an_answer_sent_a_byte_at_a_time_for_longer_than_the_read_timeout_is_given_up_on(
    figma: FigmaEmulator,
) -> None:
    grant = grant_of(figma)
    figma.state.slow_body_ms = 20  # /v1/me's ~145 bytes: about 3 s, each byte well within a read timeout

    with pytest.raises(FigmaUnavailable):
        real_client(figma, read_timeout=deadline.MIN_ATTEMPT_SECONDS).me(grant.access_token)

    assert figma.state.calls["me"] == 1


def test_an_answer_that_arrives_in_pieces_within_the_read_timeout_is_read_whole(figma: FigmaEmulator) -> None:
    grant = grant_of(figma)
    figma.state.slow_body_ms = 1  # a byte at a time, all of it well within 5 s

    user = real_client(figma).me(grant.access_token)

    assert (user.id, user.handle, user.email) == (ADA["id"], ADA["handle"], ADA["email"])


def test_a_caller_that_takes_gzip_gets_an_answer_figma_sent_uncompressed_as_it_came(figma: FigmaEmulator) -> None:
    grant = grant_of(figma)

    answer = real_client(figma).forward(
        "/v1/me", method="GET", token=grant.access_token, body=None, content_type=None, gzip=True
    )

    received = {name.lower(): value for name, value in figma.state.last_rest_request["headers"].items()}
    assert received["accept-encoding"] == "gzip"  # asked for gzip,
    assert answer.encoding is None  # answered without it: nothing to keep compressed
    assert (answer.status, json.loads(answer.body)["handle"]) == (200, ADA["handle"])


def test_a_refresh_figma_refuses_for_our_client_credentials_keeps_the_grant_and_counts_nothing_unrecognised(
    figma: FigmaEmulator, emitted: list[str]
) -> None:
    with pytest.raises(FigmaError) as refused:
        real_client(figma, secret="not-the-secret").refresh(grant_of(figma), now=lambda: NOW)

    assert not isinstance(refused.value, ReauthRequired) and refused.value.code == "figma_error"
    assert emitted == []  # Figma said why (invalid_client): no RefreshAnswerUnrecognised
    assert "not-the-secret" not in str(refused.value)
