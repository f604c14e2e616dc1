"""Sign-in's one transaction on DynamoDB Local (the DynamoDB store alone): the session, its
ticket and the connection's new grant written together; a sign-in that finished earlier than
the one whose grant the connection holds joins it and leaves that grant; a login transaction
keeps everything the callback reads back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from figma_auth.errors import DeviceNotPending
from figma_auth.records import Connection, Session
from figma_auth.records.completion import DeviceApproval, SignInWrite, Ticket
from figma_auth.records.devices import DeviceCode
from figma_auth.records.signin import LoginTransaction
from figma_auth.store.connections import CONNECTION, CONNECTION_GRACE
from figma_auth.store.signin import TICKET, TRANSACTION
from figma_auth.tokens import hash_secret
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, Table

LATER_BOX = SealedBox(b"key", b"nonce-later!", b"the-later-grant")
EARLIER_BOX = SealedBox(b"key", b"nonce-early!", b"the-earlier-grant")
SIGNED_IN_MS = int(NOW.timestamp() * 1000)


def connection(box: SealedBox, signed_in_ms: int) -> Connection:
    return Connection(
        "42", ADA, ("current_user:read",), grant_box=box, grant_expires_at=NOW + timedelta(days=90),
        signed_in_ms=signed_in_ms,
    )  # fmt: skip


def session(name: str, days: int = 30) -> Session:
    return Session(hash_secret(name), "42", NOW, NOW + timedelta(days=days))


def test_a_sign_in_writes_its_session_its_ticket_and_the_grant_together(table: Table) -> None:
    token = replace(session("token-session"), client="token", activated=False)
    ticket = Ticket(hash_secret("the-ticket"), token.id, "challenge", b"sealed", NOW + timedelta(seconds=60))
    assert table.store.sign_in(SignInWrite(token, ticket=ticket), connection(LATER_BOX, SIGNED_IN_MS)) is True

    found, conn = table.store.session_with_connection(token.id, "42")
    assert found == token and conn is not None
    assert conn.grant_box == LATER_BOX and conn.signed_in_ms == SIGNED_IN_MS and conn.version == 1
    assert table.store.redeem_ticket(ticket.ticket_hash) == ticket
    stored = table.item(CONNECTION.key("42"))
    assert stored is not None and stored["touched"] == token.id
    assert stored["ttl"] == int((token.expires_at + CONNECTION_GRACE).timestamp())


def test_an_earlier_sign_in_joins_the_connection_and_leaves_the_later_ones_grant(table: Table) -> None:
    later, earlier = session("later"), session("earlier", days=60)
    assert table.store.sign_in(SignInWrite(later), connection(LATER_BOX, SIGNED_IN_MS)) is True
    assert table.store.sign_in(SignInWrite(earlier), connection(EARLIER_BOX, SIGNED_IN_MS - 1)) is False

    found, conn = table.store.session_with_connection(earlier.id, "42")
    assert found == earlier and conn is not None  # joined all the same
    assert conn.grant_box == LATER_BOX and conn.signed_in_ms == SIGNED_IN_MS and conn.version == 1
    stored = table.item(CONNECTION.key("42"))
    assert stored is not None and stored["touched"] == earlier.id
    assert stored["ttl"] == int((earlier.expires_at + CONNECTION_GRACE).timestamp())

    newest = session("newest")
    assert table.store.sign_in(SignInWrite(newest), connection(EARLIER_BOX, SIGNED_IN_MS + 1)) is True
    _, conn = table.store.session_with_connection(newest.id, "42")
    assert conn is not None and conn.grant_box == EARLIER_BOX and conn.version == 2


def test_an_offline_sign_in_leaves_a_connection_that_outlives_its_sessions(table: Table) -> None:
    first = session("first")
    assert table.store.sign_in(SignInWrite(first, offline=True), connection(LATER_BOX, SIGNED_IN_MS))
    stored = table.item(CONNECTION.key("42"))
    assert stored is not None and "ttl" not in stored
    assert table.store.sign_in(SignInWrite(session("online")), connection(LATER_BOX, SIGNED_IN_MS - 1)) is False
    assert "ttl" in (table.item(CONNECTION.key("42")) or {})  # an online join bounds it again
    assert table.store.sign_in(SignInWrite(session("again"), offline=True), connection(LATER_BOX, 0)) is False
    assert "ttl" not in (table.item(CONNECTION.key("42")) or {})


def test_joining_a_user_without_a_connection_creates_nothing(table: Table) -> None:
    lone = session("lone")
    assert table.store.join_connection("42", SignInWrite(lone)) is False
    assert table.store.session_with_connection(lone.id, "42") == (None, None)


def test_a_login_transaction_keeps_what_the_callback_reads_back_and_expires_with_it(table: Table) -> None:
    tx = LoginTransaction(
        state_hash=hash_secret("the-state"), binding="binding", success_url="https://app/ok",
        failure_url="https://app/failed", redirect_uri="https://api/cb", scopes=("current_user:read",),
        mode="token", pkce=False, app_challenge="the-apps-challenge", expires_at=NOW + timedelta(minutes=10),
        urls_hash=hash_secret("urls"), device_hash=hash_secret("device"), widened=True,
    )  # fmt: skip
    table.store.put_transaction(tx)
    stored = table.item(TRANSACTION.key(tx.state_hash))
    assert stored is not None and stored["ttl"] == int(tx.expires_at.timestamp())
    assert "success_url" not in stored and "failure_url" not in stored
    assert table.store.take_transaction(tx.state_hash, "binding", NOW) == replace(tx, success_url="", failure_url="")


def test_a_state_is_stored_once_and_a_ticket_expires_from_the_table_with_it(table: Table) -> None:
    tx = LoginTransaction(
        state_hash=hash_secret("the-state"), binding="binding", success_url="", failure_url="",
        redirect_uri="https://api/cb", scopes=(), mode="cookie", pkce=True, app_challenge=None,
        expires_at=NOW + timedelta(minutes=10),
    )  # fmt: skip
    table.store.put_transaction(tx)
    with pytest.raises(table.client.exceptions.ConditionalCheckFailedException):
        table.store.put_transaction(replace(tx, binding="another-binding"))
    assert table.store.take_transaction(tx.state_hash, "binding", NOW) is not None

    token = replace(session("token-session"), client="token", activated=False)
    ticket = Ticket(hash_secret("the-ticket"), token.id, "challenge", b"sealed", NOW + timedelta(seconds=60))
    table.store.sign_in(SignInWrite(token, ticket=ticket), connection(LATER_BOX, SIGNED_IN_MS))
    stored = table.item(TICKET.key(ticket.ticket_hash))
    assert stored is not None and stored["ttl"] == int(ticket.expires_at.timestamp())


def test_approving_a_device_sign_in_no_longer_pending_is_device_not_pending_on_either_path(table: Table) -> None:
    device = DeviceCode(hash_secret("device"), hash_secret("user-code"), (), NOW + timedelta(minutes=15), 5000)
    assert table.store.put_device(device)
    assert table.store.deny_device(device.device_hash)
    approval = DeviceApproval(device.device_hash, "42", NOW, NOW + timedelta(days=30))
    with pytest.raises(DeviceNotPending):
        table.store.sign_in(SignInWrite(None, device=approval), connection(LATER_BOX, SIGNED_IN_MS))
    assert table.store.get_connection("42") is None  # nothing of it written

    assert table.store.sign_in(SignInWrite(session("web")), connection(LATER_BOX, SIGNED_IN_MS))
    with pytest.raises(DeviceNotPending):  # onto a connection holding a later grant: refused all the same
        table.store.sign_in(SignInWrite(None, device=approval), connection(EARLIER_BOX, SIGNED_IN_MS - 1))


def test_approving_a_device_sign_in_keeps_the_connection_until_the_devices_session_could_end(table: Table) -> None:
    device = DeviceCode(hash_secret("device"), hash_secret("user-code"), (), NOW + timedelta(minutes=15), 5000)
    assert table.store.put_device(device)
    approval = DeviceApproval(device.device_hash, "42", NOW, NOW + timedelta(days=30))

    assert table.store.sign_in(SignInWrite(None, device=approval), connection(LATER_BOX, SIGNED_IN_MS))

    stored = table.item(CONNECTION.key("42"))
    assert stored is not None and stored["touched"] == f"device:{device.device_hash}"
    assert stored["ttl"] == int((approval.lives_until + CONNECTION_GRACE).timestamp())


@pytest.mark.parametrize("offline", [False, True])
def test_a_sign_in_drops_the_refresh_in_flight_and_what_refreshes_left_on_the_grant_it_replaces(
    table: Table, offline: bool
) -> None:
    first = connection(EARLIER_BOX, SIGNED_IN_MS - 1)
    assert table.store.sign_in(SignInWrite(session("first")), first)
    assert table.store.acquire_lease("42", version=1, owner="refresher", now_ms=SIGNED_IN_MS, lease_ms=20_000)
    refreshed = table.store.get_connection("42")
    assert refreshed is not None and table.store.save_refreshed_grant(
        refreshed, owner="refresher", box=EARLIER_BOX, expires_at=NOW + timedelta(hours=1), obtained_at=NOW,
        narrowed_to=(),
    )  # fmt: skip
    assert table.store.acquire_lease("42", version=2, owner="refresher", now_ms=SIGNED_IN_MS, lease_ms=20_000)

    assert table.store.sign_in(SignInWrite(session("second"), offline=offline), connection(LATER_BOX, SIGNED_IN_MS))

    conn = table.store.get_connection("42")
    assert conn is not None and conn.grant_box == LATER_BOX and conn.version == 3
    assert (conn.lease_until_ms, conn.grant_obtained_at, conn.revoked_scopes) == (0, None, ())
    assert conn.scopes == ("current_user:read",)  # the sign-in's own, not the narrowed grant's
    assert ("ttl" in (table.item(CONNECTION.key("42")) or {})) is not offline
    late = table.store.save_refreshed_grant(
        refreshed, owner="refresher", box=EARLIER_BOX, expires_at=NOW + timedelta(hours=2), obtained_at=NOW
    )
    assert late is False and table.store.get_connection("42") == conn  # the refresh in flight stores nothing


def test_a_sign_in_that_brings_no_grant_is_refused_and_writes_nothing(table: Table) -> None:
    grantless = replace(connection(LATER_BOX, SIGNED_IN_MS), grant_box=None)
    with pytest.raises(ValueError):
        table.store.sign_in(SignInWrite(session("web")), grantless)
    assert table.store.session_with_connection(session("web").id, "42") == (None, None)
