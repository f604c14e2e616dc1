"""A live (shared) webhook's holder who can no longer hold it: their socket went without a
$disconnect (API Gateway does not always send one: the push forgets the socket, and the webhook
moves when another watcher leaves). Against the local stack and WebSocket API."""

from __future__ import annotations

from typing import Any

from devstack.figma_emulator import user_profile
from tests.support.browser import Browser, sign_in
from tests.support.realtime import WsClient, edit, open_socket, pushes_done, set_role, watch
from tests.support.stack import Stack

SCOPES = "current_user:read,file_metadata:read,webhooks:read,webhooks:write"


def watching(stack: Stack, user: str, file_key: str) -> WsClient:
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, user=user, scopes=SCOPES)
    client = open_socket(browser, stack.api)
    assert watch(client, file_key)["status"] == "active"
    return client


def holders(stack: Stack) -> set[str]:
    return {i["holder_user"]["S"] for i in stack.table.items() if i["pk"]["S"].startswith("LIVEHOOK#")}


def at_figma(stack: Stack) -> int:
    return int(stack.emulator.http.get(f"{stack.emulator.url}/_emulator/stats").json()["webhooks"])


def test_a_holders_socket_gone_without_disconnect_is_forgotten_and_its_webhook_moves_when_a_watcher_leaves(
    stack: Stack, realtime: Any
) -> None:
    set_role(stack.emulator.url, "HF3", "viola", "viewer")
    before = set(realtime.open_sockets())
    watching(stack, "ada", "HF3")
    (ada_id,) = set(realtime.open_sockets()) - before
    viola, grace = watching(stack, "viola", "HF3"), watching(stack, "grace", "HF3")
    ended = realtime.ended()

    realtime.vanish(ada_id)  # no $disconnect will come
    assert realtime.wait_ended(ended + 1)
    assert f"SOCKET#{ada_id}" in {i["pk"]["S"] for i in stack.table.items()}  # nothing knows yet
    edit(stack.emulator.url, "HF3")

    assert viola.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "HF3"  # still delivering
    assert pushes_done(stack.moto)
    left = {i["pk"]["S"] + "/" + i["sk"]["S"] for i in stack.table.items()}
    assert not [k for k in left if ada_id in k]  # the push met GoneException: the socket is forgotten
    assert holders(stack) == {user_profile("ada")["id"]}  # ada's connection still holds the webhook

    ended = realtime.ended()
    viola.close()  # a watcher leaves: the webhook of the vanished socket moves to the editor
    assert realtime.wait_ended(ended + 1)

    assert holders(stack) == {user_profile("grace")["id"]}
    assert at_figma(stack) == 2
    edit(stack.emulator.url, "HF3")
    assert grace.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "HF3"


def test_the_last_watcher_leaving_deletes_the_webhook_of_a_holder_socket_gone_without_disconnect(
    stack: Stack, realtime: Any
) -> None:
    before = set(realtime.open_sockets())
    watching(stack, "ada", "HF4")
    (ada_id,) = set(realtime.open_sockets()) - before
    grace = watching(stack, "grace", "HF4")
    ended = realtime.ended()
    realtime.vanish(ada_id)
    assert realtime.wait_ended(ended + 1)
    edit(stack.emulator.url, "HF4")
    assert grace.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "HF4"
    assert pushes_done(stack.moto)

    grace.close()
    assert realtime.wait_ended(ended + 2)

    assert holders(stack) == set() and at_figma(stack) == 0  # not left at Figma, using its quota
