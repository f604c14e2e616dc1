"""The realtime API's items on DynamoDB Local (the DynamoDB store alone): a ticket redeemed
once; a socket, its user's entry and its watches written and forgotten together and kept past
API Gateway's two hours; the app's one webhook per file and event type held by one claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from figma_auth.records.realtime import LiveHook, LiveSocket, RealtimeTicket, Watcher
from figma_auth.store.realtime import REALTIME_TICKET, user_socket_key, watch_key
from figma_auth.store.realtime import SOCKET as SOCKETS
from figma_auth.tokens import hash_secret
from tests.support.contract import NOW, Table

TICKET = RealtimeTicket(hash_secret("the-ticket"), "the-session", "42", NOW + timedelta(seconds=30))
SOCKET = LiveSocket("socket-1", "42", "the-session", NOW)
OTHER = LiveSocket("socket-2", "43", "another-session", NOW)
HOOK = LiveHook("FILEKEY", "FILE_UPDATE", "hook-1", "42", "socket-1", owned=True)
TWO_HOURS_TEN = int((NOW + timedelta(hours=2, minutes=10)).timestamp())


def ttl(table: Table, key: dict[str, Any]) -> int:
    found = table.item(key)
    assert found is not None
    return int(found["ttl"])


def test_a_ticket_is_redeemed_once_and_expires_from_the_table_a_second_after_it_ends(table: Table) -> None:
    table.store.put_realtime_ticket(TICKET)
    assert ttl(table, REALTIME_TICKET.key(TICKET.ticket_hash)) == int(TICKET.expires_at.timestamp()) + 1
    assert table.store.redeem_realtime_ticket(TICKET.ticket_hash) == TICKET
    assert table.store.redeem_realtime_ticket(TICKET.ticket_hash) is None
    assert table.store.redeem_realtime_ticket(hash_secret("another")) is None


def test_a_socket_is_read_and_listed_for_its_user_only_and_kept_past_two_hours(table: Table) -> None:
    table.store.open_socket(SOCKET)
    table.store.open_socket(OTHER)
    assert table.store.socket(SOCKET.id) == SOCKET
    assert table.store.socket("unknown") is None
    assert table.store.user_sockets("42") == [("socket-1", "the-session")]
    assert table.store.user_sockets("44") == []
    assert ttl(table, SOCKETS.key(SOCKET.id)) == TWO_HOURS_TEN
    assert ttl(table, user_socket_key("42", SOCKET.id)) == TWO_HOURS_TEN


def test_a_watch_names_the_file_on_the_socket_and_the_socket_on_the_file(table: Table) -> None:
    table.store.open_socket(SOCKET)
    table.store.open_socket(OTHER)
    table.store.add_watch(SOCKET, "FILEKEY")
    table.store.add_watch(SOCKET, "ANOTHER")
    table.store.add_watch(OTHER, "FILEKEY")
    assert table.store.socket(SOCKET.id).files == {"FILEKEY", "ANOTHER"}  # type: ignore[union-attr]
    assert sorted(table.store.watchers("FILEKEY"), key=lambda w: w.socket_id) == [
        Watcher("socket-1", "42"),
        Watcher("socket-2", "43"),
    ]
    assert ttl(table, watch_key("FILEKEY", SOCKET.id)) == TWO_HOURS_TEN

    table.store.remove_watch(SOCKET, "FILEKEY")
    assert table.store.socket(SOCKET.id).files == {"ANOTHER"}  # type: ignore[union-attr]
    assert table.store.watchers("FILEKEY") == [Watcher("socket-2", "43")]
    table.store.drop_watcher("FILEKEY", OTHER.id)
    assert table.store.watchers("FILEKEY") == []
    assert table.store.socket(OTHER.id).files == {"FILEKEY"}  # type: ignore[union-attr]  # the socket's list stays


def test_a_gone_socket_watches_nothing(table: Table) -> None:
    with pytest.raises(table.client.exceptions.TransactionCanceledException):
        table.store.add_watch(SOCKET, "FILEKEY")
    assert table.store.watchers("FILEKEY") == []
    table.store.remove_watch(SOCKET, "FILEKEY")  # nothing to remove: no error
    assert table.store.socket(SOCKET.id) is None


def test_a_forgotten_socket_leaves_no_entry_and_no_watch(table: Table) -> None:
    table.store.open_socket(SOCKET)
    table.store.open_socket(OTHER)
    table.store.add_watch(SOCKET, "FILEKEY")
    table.store.add_watch(OTHER, "FILEKEY")
    table.store.forget_socket(table.store.socket(SOCKET.id))  # type: ignore[arg-type]
    assert table.store.socket(SOCKET.id) is None
    assert table.store.user_sockets("42") == []
    assert table.store.watchers("FILEKEY") == [Watcher("socket-2", "43")]
    assert table.store.socket(OTHER.id) is not None
    table.store.forget_socket(SOCKET)  # again: each item may be gone already


def test_a_live_hook_is_claimed_once_and_replaced_only_in_place_of_the_one_named(table: Table) -> None:
    assert table.store.live_hook("FILEKEY", "FILE_UPDATE") is None
    assert table.store.claim_live_hook(HOOK) is True
    assert table.store.live_hook("FILEKEY", "FILE_UPDATE") == HOOK
    assert table.store.live_hook("FILEKEY", "FILE_DELETE") is None

    theirs = LiveHook("FILEKEY", "FILE_UPDATE", "hook-2", "43", "socket-2", owned=False)
    assert table.store.claim_live_hook(theirs) is False
    assert table.store.claim_live_hook(theirs, replacing="hook-9") is False
    assert table.store.live_hook("FILEKEY", "FILE_UPDATE") == HOOK
    assert table.store.claim_live_hook(theirs, replacing="hook-1") is True
    assert table.store.live_hook("FILEKEY", "FILE_UPDATE") == theirs


def test_a_live_hook_is_released_only_while_it_names_that_webhook(table: Table) -> None:
    table.store.claim_live_hook(HOOK)
    assert table.store.release_live_hook(LiveHook("FILEKEY", "FILE_UPDATE", "hook-2", "42", "socket-1", True)) is False
    assert table.store.live_hook("FILEKEY", "FILE_UPDATE") == HOOK
    assert table.store.release_live_hook(HOOK) is True
    assert table.store.live_hook("FILEKEY", "FILE_UPDATE") is None
    assert table.store.release_live_hook(HOOK) is False
