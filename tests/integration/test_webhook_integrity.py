"""A webhook cannot be turned against the app, and nothing is left at Figma with nobody to manage it
(the third outside attack, docs/SECURITY.md): the owner who learns a passcode by pointing their
webhook elsewhere cannot make it speak for another file or event, and loses the passcode at the
next reconciliation; the proxy does not change webhooks; a delivery of any size is taken; one
webhook per user, event and context; a connection's end takes its webhooks at Figma."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from devstack.figma_emulator import USERS, FigmaEmulator
from tests.support.backend_client import FigmaAuthError, backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, published, update_session
from tests.support.webhooks import SCOPES, WATCH, create, edit

ADA = USERS["ada"]["id"]


@pytest.fixture
def ada(stack: Stack) -> Browser:
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=SCOPES).status_code == 303
    return browser


class Elsewhere:
    """The webhook owner's own server: what Figma delivers to it once the webhook points there."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/steal"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    server = Elsewhere()
    yield server
    server.close()


def figma_token(browser: Browser, stack: Stack) -> str:
    """The user's own Figma token (EXPOSE_PROVIDER_TOKEN: the default), to call Figma directly."""
    return str(browser.get(f"{stack.api}/auth/session").json()["provider"]["access_token"])


def point(stack: Stack, token: str, webhook_id: str, endpoint: str) -> None:
    """At Figma itself, with the user's token: what the proxy no longer lets a user do."""
    answer = httpx.put(
        f"{stack.emulator.url}/v2/webhooks/{webhook_id}",
        json={"endpoint": endpoint},
        headers={"Authorization": f"Bearer {token}"},
    )
    answer.raise_for_status()


def reconcile(stack: Stack) -> dict[str, int]:
    reconciler = stack.containers.by_name("webhook_reconciler")
    report: dict[str, int] = stack.containers.invoke(reconciler, {"source": "aws.events", "detail": {}})
    return report


def deliver(stack: Stack, payload: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{stack.api}/webhooks/figma", json=payload)


def test_a_passcode_learned_by_pointing_the_webhook_away_forges_no_other_file_or_event_and_is_replaced(
    stack: Stack, emulator: FigmaEmulator, ada: Browser, elsewhere: Elsewhere
):
    hook = create(ada, stack).json()
    assert emulator.state.wait_for_deliveries(1)  # the PING, to our receiver
    token = figma_token(ada, stack)
    point(stack, token, hook["id"], elsewhere.url)
    edit(stack, emulator, 1)
    (stolen,) = elsewhere.received  # the passcode, in the owner's hands
    point(stack, token, hook["id"], f"{stack.api}/webhooks/figma")  # and back, as if nothing happened
    httpx.delete(f"{stack.api}/_devstack/events")

    forged = [
        {**stolen, "file_key": "SomeoneElsesFile", "timestamp": "2026-12-07T00:00:01Z"},
        {**stolen, "event_type": "FILE_DELETE", "timestamp": "2026-12-07T00:00:02Z"},
        {**stolen, "event_type": "LIBRARY_PUBLISH", "timestamp": "2026-12-07T00:00:03Z"},
    ]
    answers = [deliver(stack, payload) for payload in forged]
    assert [a.status_code for a in answers] == [200, 200, 200] and published(stack) == []

    report = reconcile(stack)

    assert report["tampered"] == 1
    assert [e["detail"] for e in published(stack, "WebhookTampered")] == [{"user_id": ADA, "webhook_id": hook["id"]}]
    assert emulator.state.webhooks.hooks[hook["id"]]["passcode"] != stolen["passcode"]
    assert emulator.state.webhooks.hooks[hook["id"]]["endpoint"] == f"{stack.api}/webhooks/figma"
    replay = deliver(stack, {**stolen, "timestamp": "2026-12-07T00:00:04Z"})  # the old passcode: nothing now
    assert replay.status_code == 200
    assert "2026-12-07T00:00:04Z" not in [e["detail"]["timestamp"] for e in published(stack, "Figma FILE_UPDATE")]
    edit(stack, emulator, 1, file_name="after the repair")
    assert "after the repair" in [e["detail"]["file_name"] for e in published(stack, "Figma FILE_UPDATE")]
    assert reconcile(stack)["tampered"] == 0  # the old log entry predates the new passcode


def test_a_webhook_left_pointing_elsewhere_gets_our_endpoint_back(
    stack: Stack, emulator: FigmaEmulator, ada: Browser, elsewhere: Elsewhere
):
    hook = create(ada, stack).json()
    point(stack, figma_token(ada, stack), hook["id"], elsewhere.url)

    assert reconcile(stack)["tampered"] == 1

    assert emulator.state.webhooks.hooks[hook["id"]]["endpoint"] == f"{stack.api}/webhooks/figma"
    httpx.delete(f"{stack.api}/_devstack/events")
    edit(stack, emulator, 1, file_name="home again")
    assert [e["detail"]["file_name"] for e in published(stack, "Figma FILE_UPDATE")] == ["home again"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_the_proxy_changes_no_webhook_for_a_browser_or_a_backend(
    stack: Stack, emulator: FigmaEmulator, ada: Browser, method: str
):
    hook = create(ada, stack).json()
    mine = ada.request(method, f"{stack.api}/figma/v2/webhooks/{hook['id']}", json={"endpoint": "https://x.example"})
    created = ada.request(method, f"{stack.api}/figma/v2/webhooks", json={**WATCH, "endpoint": "https://x.example"})
    with pytest.raises(FigmaAuthError) as theirs:
        backend(stack).figma(ADA, method, f"v2/webhooks/{hook['id']}", json={"endpoint": "https://x.example"})

    for answer in (mine, created):
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_path"), answer.text
        assert "/auth/webhooks" in answer.json()["message"]
    assert (theirs.value.status, theirs.value.error) == (400, "invalid_path")
    assert emulator.state.webhooks.hooks[hook["id"]]["endpoint"] == f"{stack.api}/webhooks/figma"
    read = ada.get(f"{stack.api}/figma/v2/webhooks/{hook['id']}")
    assert read.status_code == 200 and read.json()["passcode"] == ""  # reading is fine; Figma redacts it


def test_a_library_publish_of_320_kb_is_answered_200_and_published_once(
    stack: Stack, emulator: FigmaEmulator, ada: Browser
):
    library = {"event_type": "LIBRARY_PUBLISH", "context": "file", "context_id": "DesignSystem"}
    hook = create(ada, stack, **library).json()
    assert emulator.state.wait_for_deliveries(1)
    httpx.delete(f"{stack.api}/_devstack/events")
    components = [{"key": f"{i:040x}", "name": f"Icon / {i}"} for i in range(4400)]
    before = emulator.state.webhooks.delivered
    body = {"event_type": "LIBRARY_PUBLISH", "file_key": "DesignSystem", "modified_components": components}
    assert len(json.dumps(body)) > 320 * 1024
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/trigger", json=body).raise_for_status()
    assert emulator.state.wait_for_deliveries(before + 1)

    logged = emulator.state.webhooks.requests[hook["id"]][-1]
    assert logged["request_info"]["payload"]["event_type"] == "LIBRARY_PUBLISH"
    assert logged["response_info"]["status"] == "200"
    (event,) = published(stack, "Figma LIBRARY_PUBLISH")
    assert event["detail"]["truncated"] == {"modified_components": 4400}
    assert event["detail"]["modified_components"] == components[: len(event["detail"]["modified_components"])]
    assert deliver(stack, logged["request_info"]["payload"]).status_code == 200  # Figma's retry: one event
    assert len(published(stack, "Figma LIBRARY_PUBLISH")) == 1


def test_watching_a_file_twice_holds_one_webhook_at_figma(stack: Stack, emulator: FigmaEmulator, ada: Browser):
    first, second = create(ada, stack), create(ada, stack)

    assert (first.status_code, second.status_code) == (201, 200) and first.json() == second.json()
    assert (
        len(emulator.state.webhooks.hooks) == 1 and len(ada.get(f"{stack.api}/auth/webhooks").json()["webhooks"]) == 1
    )
    assert not [i for i in stack.table.items() if i["pk"]["S"].startswith("WHPASS#")]  # the pending passcode went


def test_after_logging_out_everywhere_nothing_of_the_users_is_left_at_figma(
    stack: Stack, emulator: FigmaEmulator, ada: Browser
):
    create(ada, stack)
    create(ada, stack, context_id="OtherFile", event_type="FILE_COMMENT")
    other_device = Browser(origin=stack.api)
    sign_in(other_device, stack.api, scopes=SCOPES)
    ada.post(f"{stack.api}/auth/logout")  # one session of two: the webhooks stay
    assert len(emulator.state.webhooks.hooks) == 2

    other_device.post(f"{stack.api}/auth/logout")  # the last one

    assert emulator.state.webhooks.hooks == {}
    assert not [i for i in stack.table.items() if "WEBHOOK" in i["pk"]["S"] or "WEBHOOK" in i["sk"]["S"]]
    assert not [i for i in stack.table.items() if i["pk"]["S"] == f"CONN#{ADA}"]


def test_a_logout_while_figma_is_down_keeps_the_connection_until_the_reconciliation_deletes_its_webhooks(
    stack: Stack, emulator: FigmaEmulator, ada: Browser
):
    create(ada, stack)
    stack.emulator.fault("files", "503", times=1)
    ada.post(f"{stack.api}/auth/logout", json={"all": True})
    assert len(emulator.state.webhooks.hooks) == 1 and stack.table.kinds()["CONN"] >= 1

    report = reconcile(stack)

    assert (report["removed"], report["connections_ended"]) == (1, 1)
    assert emulator.state.webhooks.hooks == {} and stack.table.kinds()["CONN"] == 0
    assert [e["detail"]["reason"] for e in published(stack, "ConnectionDeleted")] == ["expired"]


def test_when_every_session_expired_the_reconciliation_deletes_the_webhooks_at_figma_then_the_connection(
    stack: Stack, emulator: FigmaEmulator, ada: Browser
):
    create(ada, stack)
    (session_id,) = [i["pk"]["S"].removeprefix("SESSION#") for i in stack.table.items() if i["sk"]["S"] == "SESSION"]
    update_session(stack.table, session_id, "SET expires_at = :e", {":e": {"S": "2026-01-01T00:00:00Z"}})

    report = reconcile(stack)

    assert (report["removed"], report["connections_ended"]) == (1, 1)
    assert emulator.state.webhooks.hooks == {} and stack.table.kinds()["CONN"] == 0
