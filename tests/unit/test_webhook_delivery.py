"""The webhook receiver's decisions, without a stack: which deliveries are relayed, under
which user, once; what a malformed, unknown or wrong-passcode delivery gets; a failed publish
undone so a later delivery can try (integration/test_webhooks.py covers them end to end)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.errors import TemporarilyUnavailable
from figma_auth.tokens import hash_secret
from figma_auth.usecases import webhook_receiver as receiver
from tests.support.fakes import Deliveries

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def payload(**fields: Any) -> dict[str, Any]:
    return {
        "webhook_id": "7",
        "passcode": "secret-passcode",
        "event_type": "FILE_UPDATE",
        "timestamp": "2026-12-01T12:00:00Z",
        "file_key": "KEY",
        "file_name": "Design",
        **fields,
    }


def world(publish: Any = None) -> tuple[receiver.ReceiveDelivery, Deliveries, list[tuple[str, dict[str, Any]]]]:
    store, events = Deliveries(connected={"u1"}), []
    store.owners["7"] = ("u1", hash_secret("secret-passcode"))
    relay = receiver.Relay(store=store, publish=publish or (lambda t, d: events.append((t, d))), clock=lambda: NOW)
    return receiver.ReceiveDelivery(store=store, relay=relay), store, events


def test_a_delivery_is_published_once_without_its_passcode_and_with_its_user() -> None:
    receive, store, events = world()
    assert receive(payload()) == "published"
    assert receive(payload()) == "duplicate"
    assert events == [
        ("Figma FILE_UPDATE", {k: v for k, v in payload().items() if k != "passcode"} | {"user_id": "u1"})
    ]
    assert list(store.seen.values()) == [NOW + timedelta(days=8)]
    assert receive(payload(timestamp="2026-12-01T12:00:01Z")) == "published"  # another event: another key


@pytest.mark.parametrize(
    "bad",
    [
        "not an object",
        {k: v for k, v in payload().items() if k != "passcode"},
        payload(webhook_id=7),
        payload(event_type=""),
        payload(event_type="FILE UPDATE"),
        payload(event_type="FILE-UPDATE"),
        payload(timestamp="t" * 1025),
    ],
)
def test_a_malformed_delivery_is_dropped(bad: Any) -> None:
    receive, store, events = world()
    assert receive(bad) == "malformed"
    assert events == [] and store.seen == {}


def test_wrong_passcodes_and_unknown_webhooks_publish_nothing() -> None:
    receive, store, events = world()
    assert receive(payload(passcode="guess")) == "rejected"
    assert receive(payload(webhook_id="8")) == "unknown"
    assert receive(payload(webhook_id="8", event_type="PING")) == "unknown"  # no pending create with that passcode
    assert events == [] and store.seen == {}
    assert receive(payload(timestamp="t" * 1024)) == "published"  # the longest field accepted


def test_a_ping_before_its_create_was_stored_is_matched_by_the_pending_passcode() -> None:
    receive, store, events = world()
    store.pending[hash_secret("new-passcode")] = "u1"
    assert receive(payload(webhook_id="9", passcode="new-passcode", event_type="PING")) == "published"
    assert receive(payload(webhook_id="9", passcode="new-passcode", event_type="FILE_UPDATE")) == "unknown"  # only PING
    assert [e[0] for e in events] == ["Figma PING"]


def test_a_delivery_for_a_gone_connection_is_acknowledged_and_dropped() -> None:
    receive, store, events = world()
    store.connected.clear()
    assert receive(payload()) == "gone"
    assert events == []


def test_a_failed_publish_is_undone_so_the_next_delivery_may_publish() -> None:
    def failing(detail_type: str, detail: dict[str, Any]) -> None:
        raise RuntimeError("EventBridge is down")

    receive, store, _ = world(publish=failing)
    with pytest.raises(TemporarilyUnavailable) as refused:
        receive(payload())
    assert refused.value.retry_after == 5 and store.seen == {}


def test_the_idempotency_key_names_the_event_not_the_delivery() -> None:
    key = receiver.idempotency_key(payload())
    assert key == receiver.idempotency_key(payload(passcode="other", file_name="Renamed"))  # not the event's ids
    for changed in (
        "webhook_id",
        "event_type",
        "timestamp",
        "file_key",
        "version_id",
        "comment_id",
        "triggered_by",
        "created_at",
    ):
        assert receiver.idempotency_key(payload(**{changed: "x"})) != key, changed
    assert len(key) == 64


def test_each_outcome_is_counted_under_its_own_metric(emitted: list[str]) -> None:
    receive, store, _ = world()
    outcomes = [
        receive(payload()),
        receive(payload()),
        receive("not an object"),
        receive(payload(passcode="guess")),
        receive(payload(webhook_id="8")),
    ]
    store.connected.clear()
    outcomes.append(receive(payload(timestamp="2026-12-01T12:00:02Z")))
    assert outcomes == ["published", "duplicate", "malformed", "rejected", "unknown", "gone"]
    assert emitted == [
        "WebhookRelayed",
        "WebhookDuplicate",
        "WebhookMalformed",
        "WebhookBadPasscode",
        "WebhookUnknown",
        "WebhookForGoneConnection",
    ]
