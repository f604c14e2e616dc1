"""Sign-in's items, the fakes (Transactions, Tickets) against the DynamoDB store: a login
transaction taken once, only by its browser's binding, only in time; a ticket redeemed once;
a deleted session never activated."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

import pytest

from figma_auth.records import Connection, Session
from figma_auth.records.completion import SignInWrite, Ticket
from figma_auth.records.signin import LoginTransaction
from figma_auth.tokens import hash_secret
from figma_auth.usecases.signin import TicketStore
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, real
from tests.support.fakes import Tickets, Transactions


class LoginTransactions(Protocol):
    def put_transaction(self, tx: LoginTransaction) -> None: ...
    def take_transaction(self, state_hash: str, binding: str, now: datetime) -> LoginTransaction | None: ...


TX = LoginTransaction(
    state_hash=hash_secret("the-state"),
    binding="this-browsers-binding",
    success_url="https://app.example.com/ok",
    failure_url="https://app.example.com/failed",
    redirect_uri="https://api.example.com/auth/figma/callback",
    scopes=("current_user:read", "file_content:read"),
    mode="cookie",
    pkce=True,
    app_challenge=None,
    expires_at=NOW + timedelta(minutes=10),
    urls_hash=hash_secret("the-carried-urls"),
)


@pytest.fixture
def transactions(backend: str, request: pytest.FixtureRequest) -> LoginTransactions:
    store: LoginTransactions = Transactions() if backend == "fake" else real(request).store
    store.put_transaction(TX)
    return store


def test_a_transaction_is_taken_once_by_its_binding_and_keeps_no_return_url(transactions: LoginTransactions) -> None:
    assert transactions.take_transaction(TX.state_hash, TX.binding, NOW) == replace(TX, success_url="", failure_url="")
    assert transactions.take_transaction(TX.state_hash, TX.binding, NOW) is None


def test_another_binding_takes_nothing_and_leaves_the_transaction_to_its_browser(
    transactions: LoginTransactions,
) -> None:
    assert transactions.take_transaction(TX.state_hash, "an-attackers-binding", NOW) is None
    assert transactions.take_transaction(TX.state_hash, TX.binding, NOW) is not None


def test_an_expired_transaction_is_none_and_spent_by_its_own_browsers_attempt(transactions: LoginTransactions) -> None:
    assert transactions.take_transaction(TX.state_hash, TX.binding, TX.expires_at) is None
    assert transactions.take_transaction(TX.state_hash, TX.binding, NOW) is None


def test_an_unknown_state_is_none(transactions: LoginTransactions) -> None:
    assert transactions.take_transaction(hash_secret("another-state"), TX.binding, NOW) is None


# -- token mode's ticket and the session it activates ----------------------------------------------

SESSION = Session(
    hash_secret("the-session-token"), "42", NOW, NOW + timedelta(days=30), client="token", activated=False
)
TICKET = Ticket(hash_secret("the-ticket"), SESSION.id, "the-apps-challenge", b"sealed", NOW + timedelta(seconds=60))


@pytest.fixture
def tickets(backend: str, request: pytest.FixtureRequest) -> TicketStore:
    if backend == "fake":
        return Tickets({TICKET.ticket_hash: TICKET})
    table = real(request)
    conn = Connection("42", ADA, ("current_user:read",), grant_box=SealedBox(b"k", b"n", b"c"), grant_expires_at=NOW)
    assert table.store.sign_in(SignInWrite(SESSION, ticket=TICKET), conn)
    return table.store


def test_a_ticket_is_redeemed_once(tickets: TicketStore) -> None:
    assert tickets.redeem_ticket(TICKET.ticket_hash) == TICKET
    assert tickets.redeem_ticket(TICKET.ticket_hash) is None
    assert tickets.redeem_ticket(hash_secret("another-ticket")) is None


def test_a_session_is_activated_until_it_is_deleted_and_never_after(tickets: TicketStore) -> None:
    assert tickets.activate_session(SESSION.id) is True
    assert tickets.delete_session(SESSION.id) is True
    assert tickets.activate_session(SESSION.id) is False
