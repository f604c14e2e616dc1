"""Figma's webhooks per connection, relayed to EventBridge: the emulator plays Webhooks V2 (create,
quotas, PING, deliveries, the requests log), our receiver verifies, deduplicates and publishes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from devstack.figma_emulator import USERS, FigmaEmulator
from devstack.hooks import AwsCalls
from tests.support.backend_client import FigmaAuthError, backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, delete_item, published
from tests.support.webhooks import SCOPES, WATCH, create, edit

ADA = USERS["ada"]["id"]


@pytest.fixture
def ada(stack: Stack) -> Browser:
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=SCOPES).status_code == 303
    return browser


def delivered(emulator: FigmaEmulator, webhook_id: str, event_type: str) -> dict[str, Any]:
    """The payload of the webhook's first delivery of ``event_type`` as Figma sent it, once Figma
    has recorded it (the receiver has answered): Figma sends the creation's PING from a thread of
    its own, so it may be recorded before or after an edit's delivery."""
    state = emulator.state

    def found() -> dict[str, Any] | None:
        for request in state.webhooks.requests.get(webhook_id, []):
            payload: dict[str, Any] = request["request_info"]["payload"]
            if payload["event_type"] == event_type:
                return payload
        return None

    with state.arrived:  # notified at every delivery
        assert state.arrived.wait_for(lambda: found() is not None, timeout=10), f"no {event_type} delivered"
        payload = found()
    assert payload is not None
    return payload


def a_delivery(stack: Stack, emulator: FigmaEmulator, browser: Browser) -> dict[str, Any]:
    """A webhook, one edit delivered: that edit's payload as Figma sent it (its PING delivered and
    published before the edit)."""
    view = create(browser, stack).json()
    delivered(emulator, view["id"], "PING")
    edit(stack, emulator, 1)
    return delivered(emulator, view["id"], "FILE_UPDATE")


def test_create_answers_our_view_and_figmas_ping_is_published(stack: Stack, emulator: FigmaEmulator, ada):
    created = create(ada, stack, description="the demo file")

    assert created.status_code == 201, created.text
    view = created.json()
    assert set(view) == {"id", "event_type", "context", "context_id", "status", "created_at", "description"}
    assert (view["event_type"], view["context"], view["context_id"], view["status"]) == (
        "FILE_UPDATE",
        "file",
        "WatchedFile1",
        "active",
    )
    assert emulator.state.wait_for_deliveries(1)  # the PING Figma sends on creation
    pings = published(stack, "Figma PING")
    assert len(pings) == 1 and pings[0]["detail"]["user_id"] == ADA and pings[0]["detail"]["webhook_id"] == view["id"]
    assert "passcode" not in pings[0]["detail"]
    hook = emulator.state.webhooks.hooks[view["id"]]
    assert hook["endpoint"] == f"{stack.api}/webhooks/figma" and len(hook["passcode"]) >= 43  # 32 random bytes
    assert hook["passcode"] not in str(stack.table.items())  # only what verifies it is stored
    assert ada.get(f"{stack.api}/auth/webhooks").json()["webhooks"] == [view]


def test_three_edits_are_three_events_in_order_each_with_the_user(stack: Stack, emulator: FigmaEmulator, ada):
    create(ada, stack)
    emulator.state.wait_for_deliveries(1)

    for i in range(3):
        edit(stack, emulator, 1, file_name=f"edit {i}")

    updates = published(stack, "Figma FILE_UPDATE")
    assert [e["detail"]["file_name"] for e in updates] == ["edit 0", "edit 1", "edit 2"]
    assert all(e["source"] == "figma-auth" and e["detail"]["user_id"] == ADA for e in updates)
    assert all("passcode" not in e["detail"] for e in updates)


def test_the_same_delivery_twice_is_one_event_and_a_wrong_passcode_is_none(stack: Stack, emulator: FigmaEmulator, ada):
    delivered = a_delivery(stack, emulator, ada)
    httpx.delete(f"{stack.api}/_devstack/events")

    again = httpx.post(f"{stack.api}/webhooks/figma", json=delivered)
    forged = httpx.post(f"{stack.api}/webhooks/figma", json={**delivered, "passcode": "x" * 43, "timestamp": "t2"})
    unknown = httpx.post(f"{stack.api}/webhooks/figma", json={**delivered, "webhook_id": "999"})

    assert [r.status_code for r in (again, forged, unknown)] == [200, 200, 200]
    assert again.json() == forged.json() == unknown.json() == {"ok": True}  # the answers tell nothing
    assert published(stack) == []
    bad = httpx.post(f"{stack.api}/webhooks/figma", content=b"not json", headers={"Content-Type": "application/json"})
    assert (bad.status_code, bad.json()) == (200, {"ok": True})  # never 400: Figma stops a webhook answered 400
    assert published(stack) == []


def test_the_receivers_path_is_one_read_one_conditional_write_one_put_events_no_kms_no_figma(
    stack: Stack, emulator: FigmaEmulator, ada
):
    payload = {**a_delivery(stack, emulator, ada), "timestamp": "new"}
    httpx.post(f"{stack.api}/webhooks/figma", json=payload)  # a warm receiver
    counter = AwsCalls()
    before = stack.emulator.calls()

    httpx.post(f"{stack.api}/webhooks/figma", json={**payload, "timestamp": "newer"})

    assert dict(counter.by_function["WebhookReceiverFunction"]) == {
        "dynamodb:GetItem": 1,
        "dynamodb:TransactWriteItems": 1,
        "events:PutEvents": 1,
    }
    assert stack.emulator.calls() == before


def test_a_receiver_outage_is_caught_up_by_the_reconciliation_exactly_once(stack: Stack, emulator: FigmaEmulator, ada):
    create(ada, stack)
    emulator.state.wait_for_deliveries(1)
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/fail", json={"on": True}).raise_for_status()
    edit(stack, emulator, 1, file_name="missed 1")
    edit(stack, emulator, 1, file_name="missed 2")
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/fail", json={"on": False}).raise_for_status()
    assert [e["detail"]["file_name"] for e in published(stack, "Figma FILE_UPDATE")] == []

    reconciler = stack.containers.by_name("webhook_reconciler")
    first = stack.containers.invoke(reconciler, {"source": "aws.events", "detail": {}})
    second = stack.containers.invoke(reconciler, {"source": "aws.events", "detail": {}})

    assert first["published"] == 2 and second["published"] == 0
    names = sorted(e["detail"]["file_name"] for e in published(stack, "Figma FILE_UPDATE"))
    assert names == ["missed 1", "missed 2"]
    assert len(published(stack, "Figma PING")) == 1  # delivered before the outage: not again


def test_disconnect_deletes_the_webhooks_at_figma_and_here(stack: Stack, emulator: FigmaEmulator, ada):
    create(ada, stack)
    create(ada, stack, context_id="OtherFile")
    assert len(emulator.state.webhooks.hooks) == 2

    ada.post(f"{stack.api}/auth/logout", json={"all": True, "disconnect": True})

    assert emulator.state.webhooks.hooks == {}
    assert not [i for i in stack.table.items() if "WEBHOOK" in i["pk"]["S"] or "WEBHOOK" in i["sk"]["S"]]


def test_figmas_refusals_each_have_their_code(stack: Stack, ada):
    for event in ("FILE_UPDATE", "FILE_DELETE", "FILE_COMMENT"):  # Figma's quota: three per file
        assert create(ada, stack, context_id="Crowded", event_type=event).status_code == 201
    quota = create(ada, stack, context_id="Crowded", event_type="FILE_VERSION_UPDATE")
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/forbid", json={"context_id": "team-1"}).raise_for_status()
    forbidden = create(ada, stack, context="team", context_id="team-1")

    assert (quota.status_code, quota.json()["error"]) == (400, "webhook_quota")
    assert (forbidden.status_code, forbidden.json()["error"]) == (403, "webhook_forbidden")
    reader = Browser(origin=stack.api)
    sign_in(reader, stack.api, user="grace", scopes="current_user:read")
    calls = stack.emulator.calls().get("files", 0)
    lacking = create(reader, stack)
    assert (lacking.status_code, lacking.json()["error"]) == (403, "insufficient_scope")
    assert "webhooks:write" in lacking.json()["message"]
    assert stack.emulator.calls().get("files", 0) == calls  # refused before Figma
    bad = ada.post(f"{stack.api}/auth/webhooks", json={**WATCH, "event_type": "PING"})
    assert (bad.status_code, bad.json().get("error")) == (400, "invalid_request"), bad.text


def test_a_dead_grant_shows_its_webhooks_paused(stack: Stack, ada):
    create(ada, stack)
    stack.emulator.revoke()
    ada.post(f"{stack.api}/auth/refresh")  # the refresh finds the grant dead

    assert [w["status"] for w in ada.get(f"{stack.api}/auth/webhooks").json()["webhooks"]] == ["paused"]


def test_the_backend_helper_creates_lists_and_deletes_a_users_webhooks(stack: Stack, emulator: FigmaEmulator, ada):
    helper = backend(stack)

    made = helper.create_webhook(ADA, "FILE_COMMENT", "file", "BackendFile")
    assert [w["id"] for w in helper.webhooks(ADA)] == [made["id"]]
    helper.delete_webhook(ADA, made["id"])

    assert helper.webhooks(ADA) == [] and made["id"] not in emulator.state.webhooks.hooks
    with pytest.raises(FigmaAuthError) as missing:
        helper.delete_webhook(ADA, made["id"])
    assert missing.value.error == "not_found"


def test_writes_from_another_site_are_csrf_rejected(stack: Stack, ada):
    answer = ada.http.post(
        f"{stack.api}/auth/webhooks", json=WATCH, headers={"Origin": "https://evil.example"}, cookies=ada.jar(stack.api)
    )

    assert answer.status_code == 403 and answer.json()["error"] == "csrf_rejected"


def test_a_failed_publish_answers_503_keeps_no_mark_and_the_next_delivery_publishes(
    stack: Stack, emulator: FigmaEmulator, ada
):
    from devstack.hooks import AwsFaults

    payload = {**a_delivery(stack, emulator, ada), "timestamp": "later"}
    httpx.delete(f"{stack.api}/_devstack/events")
    faults = AwsFaults()
    faults.fail("events", "PutEvents", "InternalException", status=500)

    failed = httpx.post(f"{stack.api}/webhooks/figma", json=payload)
    again = httpx.post(f"{stack.api}/webhooks/figma", json=payload)  # Figma's retry, or the reconciliation's

    assert faults.fired == ["events:PutEvents:InternalException"]
    assert (failed.status_code, failed.json()["error"]) == (503, "temporarily_unavailable")
    assert again.status_code == 200 and len(published(stack, "Figma FILE_UPDATE")) == 1


def test_deliveries_for_a_connection_that_is_gone_are_acknowledged_and_dropped(
    stack: Stack, emulator: FigmaEmulator, ada
):
    create(ada, stack)
    emulator.state.wait_for_deliveries(1)
    delete_item(stack.table, f"CONN#{ADA}", "CONN")  # as DynamoDB's TTL takes it
    httpx.delete(f"{stack.api}/_devstack/events")

    edit(stack, emulator, 1)

    log = emulator.state.webhooks.requests
    assert [r["response_info"]["status"] for hook in log.values() for r in hook][-1] == "200"  # acknowledged
    assert published(stack) == []  # and dropped
