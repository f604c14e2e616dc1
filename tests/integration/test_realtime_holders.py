"""A live (shared) webhook's holder who can no longer hold it: they lost the file mid-watch (the
scheduled reconciliation moves the webhook on), or their socket went without a $disconnect
(API Gateway does not always send one: the push forgets the socket, and the webhook moves when
another watcher leaves, or at the reconciliation). Any other watcher who lost the file is found
by the same reconciliation: one ``/meta`` per user and file, their own token. Against the local
stack and WebSocket API."""

from __future__ import annotations

from typing import Any

from devstack.figma_emulator import user_profile
from tests.support.browser import Browser, sign_in
from tests.support.realtime import WsClient, edit, open_socket, pushes_done, set_role, watch
from tests.support.stack import Stack, delete_item

SCOPES = "current_user:read,file_metadata:read,webhooks:read,webhooks:write"


META = "GET /v1/files/{file_key}/meta"


def signed_in(stack: Stack, user: str) -> Browser:
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, user=user, scopes=SCOPES)
    return browser


def watching(stack: Stack, user: str, file_key: str, browser: Browser | None = None) -> WsClient:
    client = open_socket(browser or signed_in(stack, user), stack.api)
    assert watch(client, file_key)["status"] == "active"
    return client


def first_holder(stack: Stack, realtime: Any, user: str, file_key: str) -> str:
    """``user`` watches the file first (so holds its webhook): their socket's id."""
    before = set(realtime.open_sockets())
    watching(stack, user, file_key)
    (socket_id,) = set(realtime.open_sockets()) - before
    return str(socket_id)


def holders(stack: Stack) -> set[str]:
    return {i["holder_user"]["S"] for i in stack.table.items() if i["pk"]["S"].startswith("LIVEHOOK#")}


def at_figma(stack: Stack) -> int:
    return int(stack.emulator.http.get(f"{stack.emulator.url}/_emulator/stats").json()["webhooks"])


def reconcile(stack: Stack) -> dict[str, int]:
    report: dict[str, int] = stack.containers.invoke(
        stack.containers.by_name("webhook_reconciler"), {"source": "aws.events", "detail": {}}
    )
    return report


def no_event_but(client: WsClient, file_key: str) -> list[dict[str, Any]]:
    """The events the socket got: everything pushed so far has arrived once a reply to a ping has."""
    client.send({"action": "ping"})
    got = []
    while (message := client.recv()) != {"type": "pong"}:
        got.append(message)
    return [m for m in got if m["type"] == "event" and m["detail"].get("file_key") == file_key]


def test_a_holder_who_loses_the_file_mid_watch_is_forbidden_and_the_reconciliation_moves_the_webhook(
    stack: Stack, realtime: Any
) -> None:
    set_role(stack.emulator.url, "HF1", "viola", "viewer")
    ada, viola, grace = (watching(stack, user, "HF1") for user in ("ada", "viola", "grace"))
    assert holders(stack) == {user_profile("ada")["id"]}

    set_role(stack.emulator.url, "HF1", "ada", "none")  # ada loses the file while watching it
    report = reconcile(stack)

    assert report["live_moved"] == 2  # FILE_UPDATE's and FILE_DELETE's
    assert report["watchers_forbidden"] == 1  # ada's socket
    told = ada.recv_until(lambda m: m["type"] == "watching")
    assert (told["file_key"], told["status"]) == ("HF1", "forbidden") and told["reason"]
    assert holders(stack) == {user_profile("grace")["id"]}  # the viewer cannot hold it; the editor does
    assert at_figma(stack) == 2  # ada's went first: never two for one file and event
    edit(stack.emulator.url, "HF1")
    assert viola.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "HF1"
    assert grace.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "HF1"
    assert pushes_done(stack.moto)
    assert no_event_but(ada, "HF1") == []  # ada no longer gets the file's events
    assert reconcile(stack)["live_moved"] == 0  # grace may open it: kept


def test_a_holder_who_loses_the_file_with_only_viewers_left_makes_the_watch_unavailable_to_everyone(
    stack: Stack, realtime: Any
) -> None:
    for viewer in ("viola", "victor"):
        set_role(stack.emulator.url, "HF2", viewer, "viewer")
    ada, viola, victor = (watching(stack, user, "HF2") for user in ("ada", "viola", "victor"))

    set_role(stack.emulator.url, "HF2", "ada", "none")
    assert reconcile(stack)["live_moved"] == 2

    assert ada.recv_until(lambda m: m["type"] == "watching")["status"] == "forbidden"
    for viewer in (viola, victor):
        told = viewer.recv_until(lambda m: m["type"] == "watching")
        assert (told["file_key"], told["status"]) == ("HF2", "unavailable") and told["reason"]
    assert holders(stack) == set() and at_figma(stack) == 0  # nobody holds one; none left at Figma


def test_a_holders_socket_gone_without_disconnect_is_forgotten_and_its_webhook_moves_when_a_watcher_leaves(
    stack: Stack, realtime: Any
) -> None:
    set_role(stack.emulator.url, "HF3", "viola", "viewer")
    ada_id = first_holder(stack, realtime, "ada", "HF3")
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
    ada_id = first_holder(stack, realtime, "ada", "HF4")
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


def test_the_reconciliation_moves_the_webhook_of_a_holder_socket_gone_without_disconnect_or_push(
    stack: Stack, realtime: Any
) -> None:
    ada_id = first_holder(stack, realtime, "ada", "HF5")
    grace = watching(stack, "grace", "HF5")
    ended = realtime.ended()
    realtime.vanish(ada_id)
    assert realtime.wait_ended(ended + 1)
    # No event met the socket; its items are still there (DynamoDB's TTL removes them after 2 hours).
    socket_item = next(i for i in stack.table.items() if i["pk"]["S"] == f"SOCKET#{ada_id}")
    delete_item(stack.table, socket_item["pk"]["S"], socket_item["sk"]["S"])  # ... as its TTL does

    assert reconcile(stack)["live_moved"] == 2

    assert holders(stack) == {user_profile("grace")["id"]} and at_figma(stack) == 2
    edit(stack.emulator.url, "HF5")
    assert grace.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "HF5"


def test_a_viewer_who_loses_the_file_mid_watch_is_forbidden_by_the_reconciliation_and_gets_no_more_events(
    stack: Stack, realtime: Any
) -> None:
    set_role(stack.emulator.url, "WF1", "viola", "viewer")
    ada, viola, grace = (watching(stack, user, "WF1") for user in ("ada", "viola", "grace"))
    assert holders(stack) == {user_profile("ada")["id"]}

    set_role(stack.emulator.url, "WF1", "viola", "none")  # viola, who holds nothing, loses the file
    report = reconcile(stack)

    told = viola.recv_until(lambda m: m["type"] == "watching")
    assert (told["file_key"], told["status"]) == ("WF1", "forbidden") and told["reason"]
    assert (report["watchers_forbidden"], report["live_moved"]) == (1, 0)
    assert holders(stack) == {user_profile("ada")["id"]}  # the webhook stays where it was
    edit(stack.emulator.url, "WF1")
    assert ada.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "WF1"
    assert grace.recv_until(lambda m: m["type"] == "event")["detail"]["file_key"] == "WF1"
    assert pushes_done(stack.moto)
    assert no_event_but(viola, "WF1") == []  # viola no longer gets the file's events
    assert reconcile(stack)["watchers_forbidden"] == 0  # her watch ended: not told twice


def test_the_reconciliation_asks_figma_once_per_watching_user_and_file_however_many_sockets(
    stack: Stack, realtime: Any
) -> None:
    set_role(stack.emulator.url, "WF2", "viola", "viewer")
    ada = signed_in(stack, "ada")
    on_one = [watching(stack, "ada", "WF2", ada) for _ in range(3)]  # ada: three sockets on WF2 ...
    assert watch(on_one[0], "WF3")["status"] == "active"  # ... one of them on WF3 too
    watching(stack, "viola", "WF2")
    grace = signed_in(stack, "grace")
    watching(stack, "grace", "WF2", grace)
    watching(stack, "grace", "WF3", grace)
    before = stack.emulator.calls().get(META, 0)

    report = reconcile(stack)

    assert stack.emulator.calls().get(META, 0) - before == 5  # WF2: ada, viola, grace; WF3: ada, grace
    assert (report["watchers_forbidden"], report["live_moved"]) == (0, 0)


def test_a_user_watching_three_files_is_asked_about_two_of_them_a_run(stack: Stack, realtime: Any) -> None:
    ada = watching(stack, "ada", "WF5")  # Tier 2 is five a minute on a View seat: the app keeps the rest
    for file_key in ("WF6", "WF7"):
        assert watch(ada, file_key)["status"] == "active"
    before = stack.emulator.calls().get(META, 0)

    reconcile(stack)

    assert stack.emulator.calls().get(META, 0) - before == 2


def test_a_watcher_whose_access_cannot_be_proven_now_is_not_forbidden_but_asked_again_at_the_next_run(
    stack: Stack, realtime: Any
) -> None:
    stack.emulator.limits(seats={"viola": "view"})  # Tier 2: five a minute
    set_role(stack.emulator.url, "WF4", "viola", "viewer")
    ada = watching(stack, "ada", "WF4")
    viola_browser = signed_in(stack, "viola")
    viola = watching(stack, "viola", "WF4", viola_browser)  # her first /meta of the minute
    metas = [viola_browser.get(f"{stack.api}/figma/v1/files/WF4/meta").status_code for _ in range(5)]
    assert metas == [200] * 4 + [429]  # Figma's 429, now in the ledger
    set_role(stack.emulator.url, "WF4", "viola", "none")
    before = stack.emulator.calls().get(META, 0)

    report = reconcile(stack)  # rate limited: skipped, without asking Figma

    assert report["watchers_forbidden"] == 0 and stack.emulator.calls().get(META, 0) - before == 1  # ada's
    edit(stack.emulator.url, "WF4")
    assert viola.recv_until(lambda m: m["type"] in ("event", "watching"))["type"] == "event"  # until the next run

    assert viola_browser.delete(f"{stack.api}/auth/rate_limits").status_code == 204
    stack.emulator.limits(advance_seconds=61)  # and Figma's minute is over
    stack.emulator.fault("files", "503", times=4)  # Figma down: ada's two webhooks, then both /meta
    report = reconcile(stack)
    assert (report["failed"], report["watchers_forbidden"]) == (2, 0)  # unavailable is not forbidden

    report = reconcile(stack)  # Figma answers again: viola is refused
    told = viola.recv_until(lambda m: m["type"] == "watching")
    assert (told["file_key"], told["status"]) == ("WF4", "forbidden") and report["watchers_forbidden"] == 1
    assert not [m for m in ada.pending() if m["type"] == "watching"]  # ada, who kept the file, was told nothing
