"""The webhook receiver's decisions, without a stack: which deliveries are relayed, under
which user, once; what a malformed, unknown, wrong-passcode or mismatched delivery gets; a
failed publish undone so a later delivery can try; an event too large for EventBridge cut to
fit (integration/test_webhooks.py covers them end to end)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.errors import TemporarilyUnavailable
from figma_auth.records.webhooks import WebhookRegistration
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


def registration(
    event_type: str = "FILE_UPDATE", context: str = "file", context_id: str = "KEY"
) -> WebhookRegistration:
    return WebhookRegistration("u1", hash_secret("secret-passcode"), event_type, context, context_id)


Receive = Any  # a delivery (any JSON value, or raw bytes) -> the outcome


def world(publish: Any = None) -> tuple[Receive, Deliveries, list[tuple[str, dict[str, Any]]]]:
    store, events = Deliveries(connected={"u1"}), []
    store.owners["7"] = registration()
    relay = receiver.Relay(store=store, publish=publish or (lambda t, d: events.append((t, d))), clock=lambda: NOW)
    receive = receiver.ReceiveDelivery(store=store, relay=relay, clock=lambda: NOW)

    def deliver(body: Any) -> receiver.Outcome:
        return receive(body if isinstance(body, bytes) else json.dumps(body).encode())

    return deliver, store, events


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
        payload(webhook_id=True),
        payload(webhook_id="é" * 1024),  # over DynamoDB's 2,048-byte key: refused before the table
        payload(webhook_id="7/../8"),
        payload(passcode="\ud800"),  # a lone surrogate: no hash can be made of it
        payload(passcode="pässcode"),  # ours are ASCII
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


@pytest.mark.parametrize(
    "raw",
    [b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, b"\xff\xfe", b"", b"null", b"[]"],
    ids=["deep list", "deep object", "not utf-8", "empty", "null", "a list"],
)
def test_a_body_that_is_no_delivery_is_malformed_not_an_error(raw: bytes) -> None:
    receive, store, events = world()
    assert receive(raw) == "malformed"
    assert events == [] and store.seen == {}


def test_a_numeric_webhook_id_is_the_same_webhook_as_its_string() -> None:
    receive, store, events = world()
    assert receive(payload(webhook_id=7)) == "published"
    assert receive(payload(webhook_id="7")) == "duplicate"  # one event, compared as a string
    assert events[0][1]["webhook_id"] == "7"


@pytest.mark.parametrize(
    ("registered", "delivered", "outcome"),
    [
        (registration(), payload(), "published"),
        (registration(), payload(event_type="FILE_COMMENT"), "mismatched"),  # another event type
        (registration(), payload(file_key="OTHER"), "mismatched"),  # another file
        (registration(), payload(file_key=None), "mismatched"),
        (registration(), {k: v for k, v in payload().items() if k != "file_key"}, "mismatched"),
        (registration(), payload(event_type="PING", file_key=None), "published"),  # Figma's PING names no file
        (
            registration(context="project", context_id="P1"),
            payload(file_key="ANY"),
            "published",
        ),  # no project id to check
        (registration(context="team", context_id="T1"), payload(event_type="FILE_COMMENT"), "mismatched"),
        (registration("LIBRARY_PUBLISH", "team", "T1"), payload(event_type="LIBRARY_PUBLISH"), "published"),
    ],
)
def test_a_delivery_is_published_only_when_it_is_what_its_webhook_was_made_for(
    registered: WebhookRegistration, delivered: dict[str, Any], outcome: str
) -> None:
    receive, store, events = world()
    store.owners["7"] = registered
    assert receive(delivered) == outcome
    assert len(events) == (outcome == "published")


def test_a_mismatched_delivery_is_counted_and_leaves_no_mark(emitted: list[str]) -> None:
    receive, store, events = world()
    assert receive(payload(file_key="OTHER")) == "mismatched"
    assert emitted == ["WebhookMismatched"] and store.seen == {} and events == []


def test_wrong_passcodes_and_unknown_webhooks_publish_nothing() -> None:
    receive, store, events = world()
    assert receive(payload(passcode="guess")) == "rejected"
    assert receive(payload(webhook_id="8")) == "unknown"
    assert receive(payload(webhook_id="8", event_type="PING")) == "unknown"  # no pending create with that passcode
    assert events == [] and store.seen == {}
    assert receive(payload(timestamp="t" * 1024)) == "published"  # the longest field accepted


def test_a_ping_before_its_create_was_stored_is_matched_by_the_pending_passcode() -> None:
    receive, store, events = world()
    store.pending[hash_secret("new-passcode")] = ("u1", NOW + timedelta(minutes=15))
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


def test_a_pending_passcode_past_its_expiry_names_nobody() -> None:
    receive, store, events = world()
    store.pending[hash_secret("new-passcode")] = ("u1", NOW)  # expired now (DynamoDB deletes it days late)
    assert receive(payload(webhook_id="9", passcode="new-passcode", event_type="PING")) == "unknown"
    assert events == []


def test_the_idempotency_key_names_the_event_not_the_delivery() -> None:
    key = receiver.idempotency_key(payload())
    assert key == receiver.idempotency_key(payload(passcode="other"))  # a rotated passcode: the same event
    assert key == receiver.idempotency_key(payload(retries=2))  # Figma's retry of it
    assert key == receiver.idempotency_key(payload(webhook_id=7)) != receiver.idempotency_key(payload(webhook_id=8))
    for changed in (
        "webhook_id",
        "event_type",
        "timestamp",
        "file_key",
        "file_name",
        "version_id",
        "comment_id",
        "triggered_by",
        "created_at",
        "node_id",
        "modified_components",
    ):
        assert receiver.idempotency_key(payload(**{changed: "x"})) != key, changed
    assert len(key) == 64


def test_two_events_differing_only_in_a_node_or_an_asset_list_are_both_published() -> None:
    receive, store, events = world()
    store.owners["7"] = registration("DEV_MODE_STATUS_UPDATE")
    dev = payload(event_type="DEV_MODE_STATUS_UPDATE", status="READY_FOR_DEV")
    assert [receive({**dev, "node_id": "1:2"}), receive({**dev, "node_id": "3:4"})] == ["published", "published"]
    store.owners["7"] = registration("LIBRARY_PUBLISH")
    lib = payload(event_type="LIBRARY_PUBLISH")
    first = receive({**lib, "modified_components": [{"key": "a", "name": "Button"}]})
    second = receive({**lib, "modified_components": [{"key": "b", "name": "Card"}]})
    assert [first, second] == ["published", "published"] and len(events) == 4


def test_an_event_too_large_for_eventbridge_keeps_its_fields_and_as_much_of_each_list_as_fits() -> None:
    receive, store, events = world()
    store.owners["7"] = registration("LIBRARY_PUBLISH")
    components = [{"key": f"{i:040d}", "name": f"Component {i}", "description": "d" * 40} for i in range(3000)]
    big = payload(event_type="LIBRARY_PUBLISH", modified_components=components, created_styles=[{"key": "s"}])
    assert len(json.dumps(big)) > 320 * 1024
    assert receive(big) == "published"
    [(detail_type, detail)] = events
    assert len(json.dumps(detail).encode()) <= receiver.EVENT_BYTES
    assert detail_type == "Figma LIBRARY_PUBLISH" and detail["created_styles"] == [{"key": "s"}]
    assert detail["truncated"] == {"modified_components": 3000}
    kept = detail["modified_components"]
    assert 0 < len(kept) < 3000 and kept == components[: len(kept)]  # a prefix, in Figma's order
    assert {k: detail[k] for k in ("file_key", "timestamp", "webhook_id", "user_id")} == {
        "file_key": "KEY",
        "timestamp": big["timestamp"],
        "webhook_id": "7",
        "user_id": "u1",
    }
    assert receive(big) == "duplicate"  # the whole delivery's key: Figma's retry is one event


def test_an_event_that_fits_is_published_whole_and_unmarked() -> None:
    detail = {"event_type": "FILE_UPDATE", "modified_components": [{"key": "k"}] * 10}
    assert receiver.fitted(detail) is detail


def test_an_event_whose_size_is_no_list_keeps_what_names_it() -> None:
    detail = {"event_type": "FILE_VERSION_UPDATE", "webhook_id": "7", "description": "d" * 300_000}
    fitted = receiver.fitted(detail)
    assert fitted == {"event_type": "FILE_VERSION_UPDATE", "webhook_id": "7", "truncated": {"description": 300_000}}


def test_the_idempotency_key_reads_an_objects_members_in_any_order() -> None:
    """The same event read back from Figma's requests log (the reconciliation) may list the
    members of ``triggered_by`` in another order than its delivery did: the same key."""
    delivered = payload(triggered_by={"id": "1143925780461227139", "handle": "Ada Lovelace"})
    read_back = payload(triggered_by={"handle": "Ada Lovelace", "id": "1143925780461227139"})
    assert receiver.idempotency_key(delivered) == receiver.idempotency_key(read_back)


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


@pytest.mark.parametrize("field", ["webhook_id", "passcode", "event_type", "timestamp"])
def test_an_empty_delivery_field_is_malformed(field: str) -> None:
    receive, _, events = world()
    assert receive(payload(**{field: ""})) == "malformed" and events == []


def test_a_file_update_webhook_does_not_publish_the_file_delete_figma_also_sends_it() -> None:
    # A passcode holder could forge it (Hardening 3): deletions come from a FILE_DELETE webhook.
    from figma_auth.records.webhooks import WebhookRegistration

    hook = WebhookRegistration("u1", "h", "FILE_UPDATE", "file", "F1")
    assert not receiver.matches(hook, {"event_type": "FILE_DELETE", "file_key": "F1"})
    deletions = WebhookRegistration("u1", "h", "FILE_DELETE", "file", "F1")
    assert receiver.matches(deletions, {"event_type": "FILE_DELETE", "file_key": "F1"})
