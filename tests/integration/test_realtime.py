"""The realtime API against the local stack: tickets, sockets, watches, the push path."""

from __future__ import annotations

import time
from typing import Any

import pytest

from devstack.figma_emulator import user_profile
from tests.support.browser import Browser, sign_in
from tests.support.realtime import Refused, WsClient, edit, open_socket, realtime_ticket, set_role, watch
from tests.support.stack import Stack

SCOPES = "current_user:read,file_metadata:read,webhooks:read,webhooks:write"


def person(stack: Stack, user: str = "ada") -> Browser:
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, user=user, scopes=SCOPES)
    return browser


def test_an_edit_at_figma_reaches_a_socket_watching_the_file(stack: Stack, realtime: Any) -> None:
    ada = open_socket(person(stack), stack.api)

    assert watch(ada, "FILE1") == {"type": "watching", "file_key": "FILE1", "status": "active"}
    edit(stack.emulator.url, "FILE1")

    event = ada.recv_until(lambda m: m["type"] == "event")
    assert event["detail_type"] == "Figma FILE_UPDATE"
    assert event["detail"]["file_key"] == "FILE1"
    assert "passcode" not in event["detail"]
    assert event["id"]


def test_a_ticket_opens_one_socket_once_and_never_a_second(stack: Stack, realtime: Any) -> None:
    url = realtime_ticket(person(stack), stack.api)["url"]
    first = WsClient(url)

    with pytest.raises(Refused) as again:
        WsClient(url)

    assert again.value.status == 401
    assert watch(first, "FILE1")["status"] == "active"  # the first socket is unaffected


def test_a_ticket_older_than_60_seconds_is_refused(stack: Stack, realtime: Any) -> None:
    from tests.support.stack import _update

    body = realtime_ticket(person(stack), stack.api)
    assert body["expires_in"] == 60
    (ticket,) = [i for i in stack.table.items() if i["pk"]["S"].startswith("RTTICKET#")]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))  # its 60 s are over
    _update(stack.table, ticket["pk"]["S"], ticket["sk"]["S"], "SET expires_at = :t", {":t": {"S": stamp}})

    with pytest.raises(Refused) as refused:
        WsClient(body["url"])

    assert refused.value.status == 401


def test_the_ticket_is_stored_only_as_its_hash_and_a_socket_without_one_is_refused(stack: Stack, realtime: Any) -> None:
    url = realtime_ticket(person(stack), stack.api)["url"]
    ticket = url.split("ticket=", 1)[1]

    assert ticket not in str(stack.table.items())
    for bad in (url.split("?")[0], url.split("?")[0] + "?ticket=" + "A" * 43, url.split("?")[0] + "?ticket=%00"):
        with pytest.raises(Refused) as refused:
            WsClient(bad)
        assert refused.value.status == 401


def test_a_ticket_needs_a_session_and_a_cookie_needs_an_allowed_origin(stack: Stack, realtime: Any) -> None:
    ada = person(stack)

    assert Browser(origin=stack.api).post(f"{stack.api}/auth/realtime").json()["error"] == "unauthorized"
    foreign = ada.post(f"{stack.api}/auth/realtime", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"] == "csrf_rejected"


def test_a_user_who_cannot_open_the_file_is_forbidden_and_gets_none_of_its_events(stack: Stack, realtime: Any) -> None:
    set_role(stack.emulator.url, "FILE1", "mallory", "none")
    ada, mallory = open_socket(person(stack), stack.api), open_socket(person(stack, "mallory"), stack.api)
    assert watch(ada, "FILE1")["status"] == "active"

    refused = watch(mallory, "FILE1")
    edit(stack.emulator.url, "FILE1")

    assert refused["status"] == "forbidden" and refused["reason"]
    assert ada.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "FILE1"
    mallory.send({"action": "watch", "file_key": "OTHER"})  # a marker: everything before it has arrived
    assert mallory.recv_until(lambda m: m.get("file_key") == "OTHER")["status"] == "active"
    assert not [m for m in mallory.pending() if m["type"] == "event"]


def test_bad_messages_get_an_invalid_request_error_and_the_socket_stays_open(stack: Stack, realtime: Any) -> None:
    ada = open_socket(person(stack), stack.api)

    for bad in ("not json", "[]", '{"action": "dance"}', '{"action": "watch", "file_key": "../x"}', "x" * 5000):
        ada.send(bad)
        answer = ada.recv()
        assert answer["type"] == "error" and answer["error"] == "invalid_request", answer

    assert watch(ada, "FILE1")["status"] == "active"


def test_logout_closes_the_sessions_socket(stack: Stack, realtime: Any) -> None:
    browser = person(stack)
    ada = open_socket(browser, stack.api)
    assert watch(ada, "FILE1")["status"] == "active"

    assert browser.post(f"{stack.api}/auth/logout").status_code == 204

    ended = ada.recv_until(lambda m: m["type"] == "event")
    assert ended["detail_type"] == "SessionEnded"
    assert ada.closed.wait(10), "the socket was not closed"
    assert realtime.wait_idle(10)
    left = [i["pk"]["S"] for i in stack.table.items() if i["pk"]["S"].startswith(("SOCKET#", "WATCH#", "LIVEHOOK#"))]
    assert left == []


def test_ten_users_watching_one_file_make_one_webhook_at_figma(stack: Stack, realtime: Any) -> None:
    sockets = [open_socket(person(stack, f"user{i}"), stack.api) for i in range(10)]

    statuses = [watch(s, "SHARED")["status"] for s in sockets]
    assert statuses == ["active"] * 10
    assert _webhooks_at_figma(stack) == 2  # one per LIVE_EVENTS type (FILE_UPDATE, FILE_DELETE), for all ten
    edit(stack.emulator.url, "SHARED")
    for s in sockets:
        assert s.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "SHARED"


def test_the_holder_leaving_moves_the_webhook_to_an_editor_and_edits_still_arrive(stack: Stack, realtime: Any) -> None:
    for viewer in ("viola", "victor"):
        set_role(stack.emulator.url, "F2", viewer, "viewer")
    holder = open_socket(person(stack, "ada"), stack.api)
    assert watch(holder, "F2")["status"] == "active"
    viola = open_socket(person(stack, "viola"), stack.api)
    assert watch(viola, "F2")["status"] == "active"  # rides on ada's webhook
    grace = open_socket(person(stack, "grace"), stack.api)
    assert watch(grace, "F2")["status"] == "active"

    ended = realtime.ended()

    holder.close()

    assert realtime.wait_ended(ended + 1), "ada's $disconnect did not finish"
    holders = {i["holder_user"]["S"] for i in stack.table.items() if i["pk"]["S"].startswith("LIVEHOOK#")}
    assert holders == {user_profile("grace")["id"]}  # the viewer could not hold it; the editor does
    assert _webhooks_at_figma(stack) == 2  # ada's went first: never two for one file and event
    edit(stack.emulator.url, "F2")
    assert viola.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "F2"
    assert grace.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "F2"


def _webhooks_at_figma(stack: Stack) -> int:
    return int(stack.emulator.http.get(f"{stack.emulator.url}/_emulator/stats").json()["webhooks"])
