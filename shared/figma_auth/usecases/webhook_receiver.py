"""POST /webhooks/figma: Figma's deliveries, verified, matched, deduplicated and relayed to EventBridge.

Warm path: 1 GetItem (who owns the webhook, the hash of its passcode, what it was made for), 1
TransactWriteItems (the user's connection still exists; this delivery not seen before: a mark
with a TTL), 1 PutEvents. No KMS, no Figma.

Figma stops a webhook that is answered 400 ("webhooks security"), so nothing here makes one: a
good delivery, a duplicate, a wrong passcode, an unknown webhook, a delivery that is not what
its webhook was made for and a body that is no delivery at all are all answered 200, and only
the first is published; a transient failure (EventBridge, DynamoDB) is answered 503, which
Figma retries. A delivery is published only when it matches its webhook: its ``event_type`` (or
``PING``) and, for a file webhook, its ``file_key``; a passcode alone (its owner can learn it)
cannot make a webhook speak for another file or event.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from figma_auth.errors import TemporarilyUnavailable
from figma_auth.observability import logger, metrics_count
from figma_auth.records.webhooks import WebhookRegistration
from figma_auth.store.webhooks import Claim
from figma_auth.tokens import constant_time_equal, hash_secret

SEEN_TTL = timedelta(days=8)  # longer than the week Figma keeps a webhook's requests
MAX_FIELD = 1024
RETRY_FIELDS = ("passcode", "retries")  # what differs between two sends of one event (Figma's `retries`)
EVENT_BYTES = 256 * 1024 - 2048  # EventBridge's 256 KB an entry, less its source, detail-type and time
_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_\-:]{1,128}$")
_EVENT_TYPE = re.compile(r"^[A-Z_]{1,64}$")

Outcome = Literal["published", "duplicate", "unknown", "rejected", "mismatched", "gone", "malformed"]


class DeliveryStore(Protocol):
    def webhook_registration(self, webhook_id: str) -> WebhookRegistration | None: ...
    def pending_passcode(self, passcode_hash: str, *, now: datetime) -> str | None: ...
    def claim_delivery(self, key: str, user_id: str, expires_at: datetime) -> Claim: ...
    def forget_delivery(self, key: str) -> None: ...


class Relay:
    """Deduplicate and publish one delivery of a user's webhook (the receiver's, and the
    reconciliation's for deliveries the receiver missed)."""

    def __init__(
        self,
        *,
        store: DeliveryStore,
        publish: Callable[[str, dict[str, Any]], None],
        clock: Callable[[], datetime],
        forget_file: Callable[[str], object] | None = None,
    ) -> None:
        self.store, self.publish, self.clock = store, publish, clock
        self.forget_file = forget_file  # the read-once cache's, for a FILE_DELETE

    def __call__(self, user_id: str, payload: dict[str, Any]) -> Outcome:
        key = idempotency_key(payload)
        claim = self.store.claim_delivery(key, user_id, self.clock() + SEEN_TTL)
        if claim == "seen":
            metrics_count("WebhookDuplicate")
            return "duplicate"
        if claim == "no_connection":
            metrics_count("WebhookForGoneConnection")
            return "gone"
        detail = fitted({**{k: v for k, v in payload.items() if k != "passcode"}, "user_id": user_id})
        try:
            self.publish(f"Figma {payload['event_type']}", detail)
        except Exception:
            self.store.forget_delivery(key)  # unpublished: the next delivery (or the reconciliation) may try
            # pragma: no mutate start (log wording: docs/TESTING.md)
            logger.warning("could not publish a webhook event", extra={"webhook_id": payload.get("webhook_id")})
            # pragma: no mutate end
            raise TemporarilyUnavailable(retry_after=5) from None
        metrics_count("WebhookRelayed")
        if payload["event_type"] == "FILE_DELETE" and isinstance(payload.get("file_key"), str):
            self._forget(payload["file_key"])
        return "published"

    def _forget(self, file_key: str) -> None:
        """The deleted file's cached reads go (best effort: one left behind is never shown, since
        Figma's /meta answers 404 for a deleted file, and expires with FILE_CACHE_DAYS)."""
        if self.forget_file is None:
            return
        try:
            self.forget_file(file_key)
        except Exception:  # noqa: BLE001 - the delivery is published; the cache cleans itself up
            logger.warning("could not forget a deleted file's cached reads", extra={"file_key": file_key[:64]})


class ReceiveDelivery:
    def __init__(self, *, store: DeliveryStore, relay: Relay, clock: Callable[[], datetime]) -> None:
        self.store, self.relay, self.clock = store, relay, clock

    def __call__(self, raw: bytes | None) -> Outcome:
        payload = delivery(raw)
        if payload is None:
            metrics_count("WebhookMalformed")
            return "malformed"
        passcode_hash = hash_secret(payload["passcode"])
        registered = self.store.webhook_registration(payload["webhook_id"])
        if registered is None:
            # A create's PING can arrive before its create stored Figma's answer: the pending
            # create's passcode (unguessable, 32 random bytes) names the user then.
            user = (
                self.store.pending_passcode(passcode_hash, now=self.clock())
                if payload["event_type"] == "PING"
                else None
            )
            if user is None:
                metrics_count("WebhookUnknown")
                return "unknown"
            return self.relay(user, payload)
        if not constant_time_equal(passcode_hash, registered.passcode_hash):
            metrics_count("WebhookBadPasscode")
            return "rejected"
        if not matches(registered, payload):
            metrics_count("WebhookMismatched")
            return "mismatched"
        return self.relay(registered.user_id, payload)


def delivery(raw: bytes | None) -> dict[str, Any] | None:
    """The delivery in ``raw``, its ``webhook_id`` as a string (Figma's type table says Number,
    its examples a string), or None when it is none: not JSON, nested past Python's limit, not an
    object, or without a webhook id, an ASCII passcode, an event type and a timestamp."""
    try:
        payload = json.loads(raw or b"")
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    if not isinstance(payload, dict):
        return None
    webhook_id = payload.get("webhook_id")
    if isinstance(webhook_id, int) and not isinstance(webhook_id, bool):
        webhook_id = str(webhook_id)
    if not isinstance(webhook_id, str) or not _WEBHOOK_ID.fullmatch(webhook_id):
        return None
    passcode, event_type, timestamp = payload.get("passcode"), payload.get("event_type"), payload.get("timestamp")
    if not isinstance(passcode, str) or not 0 < len(passcode) <= MAX_FIELD or not passcode.isascii():
        return None  # ours are ASCII (and a lone surrogate could not even be hashed)
    if not isinstance(event_type, str) or not _EVENT_TYPE.fullmatch(event_type):
        return None
    if not isinstance(timestamp, str) or not 0 < len(timestamp) <= MAX_FIELD:
        return None
    return {**payload, "webhook_id": webhook_id}


def matches(registered: WebhookRegistration, payload: dict[str, Any]) -> bool:
    """Whether a delivery is what its webhook was made for: its event type (or Figma's PING) and,
    for a file webhook, that file. Project and team deliveries name no project or team to check.
    Figma also sends a FILE_UPDATE webhook its file's FILE_DELETE; it is not published: whoever
    learnt the webhook's passcode could forge it (Hardening 3), so deletions come from a FILE_DELETE
    webhook."""
    event_type = payload["event_type"]
    if event_type == "PING":
        return True
    if registered.event_type and event_type != registered.event_type:
        return False
    if registered.context == "file":
        return str(payload.get("file_key")) == registered.context_id
    return True


def idempotency_key(payload: dict[str, Any]) -> str:
    """One key per event, however often it is delivered (or read back from Figma's requests
    log): the whole payload but what a retry changes (the passcode, which a rotation changes, and
    Figma's ``retries``). Figma gives no event id; two events that differ in anything else (a
    node id, a list of assets) are two events."""
    event = {k: v for k, v in payload.items() if k not in RETRY_FIELDS}
    event["webhook_id"] = str(event.get("webhook_id"))
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fitted(detail: dict[str, Any], limit: int = EVENT_BYTES) -> dict[str, Any]:
    """``detail`` as EventBridge can take it (an entry is 256 KB at most). A larger one (a library
    publish listing thousands of components) keeps its fields and as much of each list as fits,
    longest list cut first; ``truncated`` names each list cut and its full length (a field too
    large that is no list is left out whole, and named there with its length). The whole
    delivery stays in Figma's requests log for a week (``GET /v2/webhooks/{id}/requests``)."""
    if _size(detail) <= limit:
        return detail
    out, cut = dict(detail), dict[str, int]()
    lists = sorted((k for k, v in out.items() if isinstance(v, list)), key=lambda k: -_size(out[k]))
    for name in lists:
        over = _size({**out, "truncated": {**cut, name: len(detail[name])}}) - limit
        if over <= 0:
            break
        entries, keep, freed = out[name], len(out[name]), 0
        while keep > 0 and freed < over:
            keep -= 1
            freed += _size(entries[keep]) + 1
        out[name], cut[name] = entries[:keep], len(detail[name])
    if cut:
        out["truncated"] = cut
    if _size(out) > limit:  # not lists: a huge text. Keep what names the event.
        names = ("event_type", "webhook_id", "timestamp", "file_key", "file_name", "user_id")
        out = {k: detail[k] for k in names if k in detail and _size(detail[k]) <= MAX_FIELD}
        out["truncated"] = {
            k: len(v) if isinstance(v, (str, list, dict)) else 1 for k, v in detail.items() if k not in out
        }
    return out


def _size(value: Any) -> int:
    """Bytes as the publisher sends it (``json.dumps``' defaults)."""
    return len(json.dumps(value).encode())
