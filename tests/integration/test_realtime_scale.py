"""The realtime API at scale against the local stack: 200 sockets watching 20 files, 100 edits.

The guarantee tested: **exactly once** — each socket gets each event of its file once, and no
event of another file. That holds while nothing fails; under EventBridge's retries of a failed
push (at least once) a socket may see an event again, with the same ``id`` (docs/LIVE.md), and
the JS client drops the repeat. Here nothing fails, so one repeat is a bug.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack.figma_emulator import user_profile
from tests.support.browser import Browser, sign_in
from tests.support.realtime import WsClient, open_socket, pushes_done, watch
from tests.support.stack import Stack

SCOPES = "current_user:read,file_metadata:read,webhooks:read,webhooks:write"
USERS, FILES, SOCKETS_EACH, EDITS_EACH = 5, 20, 10, 5  # 5 users, 200 sockets (10 on each file), 100 edits
FILES_EACH = FILES // USERS
THREADS = 2  # two at a time (2 cores): each more is a Lambda worker of each function to cold-start (~1 s of CPU)


def test_200_sockets_on_20_files_get_each_of_their_files_edits_exactly_once(stack: Stack, realtime: Any) -> None:
    # Forty watches a user within a minute: their Figma calls (40 /meta, 8 webhook creates) fit
    # an Enterprise plan's Tier-2 minute (100), as for an organisation's app.
    files = {f"SCALE{f}": "enterprise" for f in range(FILES)}
    plans = {user_profile(f"scale{u}")["id"]: "enterprise" for u in range(USERS)}
    stack.emulator.http.post(
        f"{stack.emulator.url}/_emulator/limits", json={"user_plans": plans, "file_plans": files}
    ).raise_for_status()
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        people = [_person(stack, f"scale{u}") for u in range(USERS)]
        t1 = time.monotonic()
        # Each user has 40 sockets on 4 files (10 on each): a user's other sockets watch other files.
        plan = [
            (people[u], f"SCALE{u * FILES_EACH + f}")
            for k in range(SOCKETS_EACH)
            for u in range(USERS)
            for f in range(FILES_EACH)
        ]
        sockets = list(pool.map(lambda p: _watching(stack, *p), plan))
        t2 = time.monotonic()
        edits = [(f"SCALE{f}", n) for n in range(EDITS_EACH) for f in range(FILES)]
        list(pool.map(lambda e: _edit(stack, *e), edits))
        t3 = time.monotonic()

    assert pushes_done(stack.moto, timeout=30), "the push function did not finish the events"
    t4 = time.monotonic()
    got = {id(s): _events(s) for s, _ in sockets}
    print(f"\nsign-in {t1 - started:.1f} s, watch {t2 - t1:.1f} s, edits {t3 - t2:.1f} s, pushes {t4 - t3:.1f} s")

    ids_of_edit: dict[str, set[str]] = {}
    for client, file_key in sockets:
        every = got[id(client)]
        assert {e["detail"]["file_key"] for e in every} == {file_key}  # none of another file's (PINGs too)
        events = [e for e in every if e["detail_type"] == "Figma FILE_UPDATE"]
        names = sorted(e["detail"]["file_name"] for e in events)
        assert names == [f"{file_key} edit {n}" for n in range(EDITS_EACH)], (file_key, names)
        assert len({e["id"] for e in events}) == EDITS_EACH  # no repeat: once, not merely at least once
        for e in events:
            ids_of_edit.setdefault(e["detail"]["file_name"], set()).add(e["id"])
    assert len(ids_of_edit) == FILES * EDITS_EACH
    assert all(len(ids) == 1 for ids in ids_of_edit.values())  # one event (one id) per edit, to all its watchers


def _edit(stack: Stack, file_key: str, n: int) -> None:
    """Someone saves the file at Figma (tests.support.realtime.edit, on the emulator's pooled client)."""
    body = {"event_type": "FILE_UPDATE", "file_key": file_key, "file_name": f"{file_key} edit {n}"}
    stack.emulator.http.post(f"{stack.emulator.url}/_emulator/webhooks/trigger", json=body).raise_for_status()


def _person(stack: Stack, user: str) -> Browser:
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, user=user, scopes=SCOPES)
    return browser


def _watching(stack: Stack, browser: Browser, file_key: str) -> tuple[WsClient, str]:
    client = open_socket(browser, stack.api)
    answer = watch(client, file_key)
    assert answer["status"] == "active", answer
    return client, file_key


def _events(client: WsClient) -> list[dict[str, Any]]:
    """Every event the socket got, up to a pong asked for now (the pushes are done: all of
    them were written to the socket before the pong)."""
    client.send({"action": "ping"})
    events = []
    while (message := client.recv()) != {"type": "pong"}:
        if message["type"] == "event":
            events.append(message)
    return events
