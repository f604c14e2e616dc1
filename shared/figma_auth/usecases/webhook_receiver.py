"""POST /webhooks/figma: Figma's deliveries, verified, deduplicated and relayed to EventBridge.

Warm path: 1 GetItem (who owns the webhook, the hash of its passcode), 1 TransactWriteItems
(the user's connection still exists; this delivery not seen before: a mark with a TTL), 1
PutEvents. No KMS, no Figma. Figma gives no event id, so the mark's key is derived from the
webhook id, the event type, the event's timestamp and its own ids. A wrong passcode or an
unknown webhook publishes nothing and learns nothing from the answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from figma_auth.errors import TemporarilyUnavailable
from figma_auth.observability import logger, metrics_count
from figma_auth.store.webhooks import Claim
from figma_auth.tokens import constant_time_equal, hash_secret

SEEN_TTL = timedelta(days=8)  # longer than the week Figma keeps a webhook's requests
EVENT_IDS = ("file_key", "version_id", "comment_id", "triggered_by", "created_at")  # the event's own ids
MAX_FIELD = 1024

Outcome = Literal["published", "duplicate", "unknown", "rejected", "gone", "malformed"]


class DeliveryStore(Protocol):
    def webhook_owner(self, webhook_id: str) -> tuple[str, str] | None: ...
    def pending_passcode(self, passcode_hash: str) -> str | None: ...
    def claim_delivery(self, key: str, user_id: str, expires_at: datetime) -> Claim: ...
    def forget_delivery(self, key: str) -> None: ...


class Relay:
    """Deduplicate and publish one delivery of a user's webhook (the receiver's, and the
    reconciliation's for deliveries the receiver missed)."""

    def __init__(
        self, *, store: DeliveryStore, publish: Callable[[str, dict[str, Any]], None], clock: Callable[[], datetime]
    ) -> None:
        self.store, self.publish, self.clock = store, publish, clock

    def __call__(self, user_id: str, payload: dict[str, Any]) -> Outcome:
        key = idempotency_key(payload)
        claim = self.store.claim_delivery(key, user_id, self.clock() + SEEN_TTL)
        if claim == "seen":
            metrics_count("WebhookDuplicate")
            return "duplicate"
        if claim == "no_connection":
            metrics_count("WebhookForGoneConnection")
            return "gone"
        detail = {k: v for k, v in payload.items() if k != "passcode"}
        try:
            self.publish(f"Figma {payload['event_type']}", {**detail, "user_id": user_id})
        except Exception:
            self.store.forget_delivery(key)  # unpublished: the next delivery (or the reconciliation) may try
            # pragma: no mutate start (log wording: docs/TESTING.md)
            logger.warning("could not publish a webhook event", extra={"webhook_id": payload.get("webhook_id")})
            # pragma: no mutate end
            raise TemporarilyUnavailable(retry_after=5) from None
        metrics_count("WebhookRelayed")
        return "published"


class ReceiveDelivery:
    def __init__(self, *, store: DeliveryStore, relay: Relay) -> None:
        self.store, self.relay = store, relay

    def __call__(self, payload: Any) -> Outcome:
        if not _well_formed(payload):
            metrics_count("WebhookMalformed")
            return "malformed"
        passcode_hash = hash_secret(payload["passcode"])
        owner = self.store.webhook_owner(payload["webhook_id"])
        if owner is None:
            # A create's PING can arrive before its create stored Figma's answer: the pending
            # create's passcode (unguessable, 32 random bytes) names the user then.
            user = self.store.pending_passcode(passcode_hash) if payload["event_type"] == "PING" else None
            if user is None:
                metrics_count("WebhookUnknown")
                return "unknown"
            return self.relay(user, payload)
        user_id, expected = owner
        if not constant_time_equal(passcode_hash, expected):
            metrics_count("WebhookBadPasscode")
            return "rejected"
        return self.relay(user_id, payload)


def idempotency_key(payload: dict[str, Any]) -> str:
    """The same event delivered twice (or read back from Figma's requests log) has one key."""
    parts = [payload.get("webhook_id"), payload.get("event_type"), payload.get("timestamp")]
    parts += [json.dumps(payload.get(name), sort_keys=True) for name in EVENT_IDS]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _well_formed(payload: Any) -> bool:
    if not isinstance(payload, dict):
        return False
    for name in ("webhook_id", "passcode", "event_type", "timestamp"):
        value = payload.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= MAX_FIELD:
            return False
    return str(payload["event_type"]).replace("_", "").isalpha()
