"""Webhooks: the user's views, the receiver's verifier, the pending creates' passcodes, and the
deliveries seen (deduplication): their keys, shapes and writes.

Two items per webhook, written together: the user's (CONN#<user> / WEBHOOK#<id>: the view, listed
with the connection's partition) and the receiver's (WEBHOOK#<id>: who owns it, the hash that
verifies its passcode and what it was made for, one GetItem per delivery; in the by_user index
under "WEBHOOKS", which the reconciliation walks). A third, CONN#<user> / WEBHOOKFOR#<event>#
<context>#<id>, names the one webhook a user holds for that event and context (no duplicate at
Figma). A pending create leaves WHPASS#<hash of the passcode> for the PING that may arrive
before Figma's answer (deleted when the create is saved); a delivery seen leaves WHSEEN#<key>.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from figma_auth.store.codec import cancellation_reasons, key, marshal, unmarshal, values
from figma_auth.store.connections import CONNECTION
from figma_auth.store.table import BY_USER, Kind, Table
from figma_auth.times import iso, iso_precise, parse_iso

if TYPE_CHECKING:  # built in the functions below, which import them: see figma_auth.store
    from figma_auth.records.webhooks import Webhook, WebhookRegistration

Claim = Literal["new", "seen", "no_connection"]
MAX_WEBHOOK_ID = 128  # Figma's ids are a few digits; anything longer is no webhook of ours (and no key)
WEBHOOKS_KEY = "WEBHOOKS"  # by_user partition of every webhook (the reconciliation's walk)
WEBHOOK = Kind("WEBHOOK")  # the receiver's item by webhook id; WEBHOOK#<id> also sorts the user's view
SLOT = Kind("WEBHOOKFOR")  # sorts the user's slot for "<event type>#<context>#<context id>"
PENDING_PASSCODE = Kind("WHPASS")  # by the SHA-256 of a pending create's passcode
SEEN = Kind("WHSEEN")  # by a delivery's dedupe key


def view_key(user_id: str, webhook_id: str) -> dict[str, Any]:
    """The user's view of a webhook, in the connection's partition."""
    return key(CONNECTION.pk(user_id), WEBHOOK.pk(webhook_id))


def slot_key(user_id: str, event_type: str, context: str, context_id: str) -> dict[str, Any]:
    """The item naming a user's one webhook for an event type and context."""
    return key(CONNECTION.pk(user_id), SLOT.pk(f"{event_type}#{context}#{context_id}"))


def webhook_items(w: Webhook, passcode_hash: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The user's view, the receiver's item and the user's slot for this event and context."""
    view = {
        **view_key(w.user_id, w.id),
        **marshal(
            event_type=w.event_type,
            context=w.context,
            context_id=w.context_id,
            description=w.description,
            status=w.status,
            created_at=iso(w.created_at),
            endpoint=w.endpoint,
            passcode_set_at=iso_precise(w.passcode_set_at) if w.passcode_set_at else None,
        ),
    }
    receiver = WEBHOOK.item(
        w.id,
        user_id=w.user_id,
        passcode_hash=passcode_hash,
        event_type=w.event_type,
        context=w.context,
        context_id=w.context_id,
        user_key=WEBHOOKS_KEY,
        created_at=iso(w.created_at),
    )
    slot = {**slot_key(w.user_id, w.event_type, w.context, w.context_id), **marshal(webhook_id=w.id)}
    return view, receiver, slot


def webhook_keys(user_id: str, w: Webhook) -> list[dict[str, Any]]:
    """Every item a webhook has (view, receiver, slot): what deleting it deletes."""
    return [view_key(user_id, w.id), WEBHOOK.key(w.id), slot_key(user_id, w.event_type, w.context, w.context_id)]


def webhook_from(item: dict[str, Any]) -> Webhook:
    from figma_auth.records.webhooks import Webhook

    return Webhook(
        id=WEBHOOK.ident(item["sk"]),
        user_id=CONNECTION.ident(item["pk"]),
        event_type=item["event_type"],
        context=item["context"],
        context_id=item["context_id"],
        created_at=parse_iso(item["created_at"]),
        description=item.get("description"),
        status=item.get("status", "active"),
        endpoint=item.get("endpoint"),
        passcode_set_at=parse_iso(item["passcode_set_at"]) if "passcode_set_at" in item else None,
    )


def pending_passcode_item(passcode_hash: str, user_id: str, expires_at: datetime) -> dict[str, Any]:
    return PENDING_PASSCODE.item(passcode_hash, user_id=user_id, ttl=int(expires_at.timestamp()))


def seen_item(delivery: str, expires_at: datetime) -> dict[str, Any]:
    return SEEN.item(delivery, ttl=int(expires_at.timestamp()))


def passcode_update(table: str, webhook_id: str, passcode_hash: str) -> dict[str, Any]:
    """A transaction's Update of the receiver's passcode hash, while the webhook exists."""
    return {
        "Update": {
            "TableName": table,
            "Key": WEBHOOK.key(webhook_id),
            "UpdateExpression": "SET passcode_hash = :h",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values({"h": passcode_hash}),
        }
    }


def endpoint_update(table: str, user_id: str, webhook_id: str, endpoint: str, now: datetime) -> dict[str, Any]:
    """A transaction's Update of the view's endpoint and when its passcode was set, while the webhook exists."""
    return {
        "Update": {
            "TableName": table,
            "Key": view_key(user_id, webhook_id),
            "UpdateExpression": "SET endpoint = :e, passcode_set_at = :t",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": values({"e": endpoint, "t": iso_precise(now)}),
        }
    }


class WebhooksTable(Table):
    def put_pending_passcode(self, passcode_hash: str, user_id: str, expires_at: datetime) -> None:
        """Before Figma creates the webhook: its PING may come before we know its id."""
        self.db.put_item(TableName=self.table, Item=pending_passcode_item(passcode_hash, user_id, expires_at))

    def pending_passcode(self, passcode_hash: str, *, now: datetime) -> str | None:
        """The user whose create is pending with this passcode, if any (and not expired: DynamoDB's
        TTL deletes days late)."""
        item = self.db.get_item(TableName=self.table, Key=PENDING_PASSCODE.key(passcode_hash), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        plain = unmarshal(item)
        return str(plain["user_id"]) if int(plain.get("ttl", 0)) > now.timestamp() else None

    def save_webhook(self, webhook: Webhook, passcode_hash: str) -> bool:
        """The user's view, the receiver's verifier and the user's slot for this event and context,
        in one transaction that also deletes the pending create's passcode. False (nothing
        written) when the user already holds a webhook for this event and context."""
        view, receiver, slot = webhook_items(webhook, passcode_hash)
        try:
            self._transact(
                [
                    {"Put": {"TableName": self.table, "Item": view}},
                    {"Put": {"TableName": self.table, "Item": receiver}},
                    self._put_new(slot),
                    {"Delete": {"TableName": self.table, "Key": PENDING_PASSCODE.key(passcode_hash)}},
                ]
            )
        except self.db.exceptions.TransactionCanceledException as exc:
            reasons = cancellation_reasons(exc)
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def user_webhooks(self, user_id: str) -> list[Webhook]:
        found: list[Webhook] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
            ExpressionAttributeValues=values({"pk": CONNECTION.pk(user_id), "w": WEBHOOK.pk("")}),
            ConsistentRead=True,
        ):
            found.extend(webhook_from(item) for item in page)
        return found

    def webhook_registration(self, webhook_id: str) -> WebhookRegistration | None:
        """What the receiver checks a delivery against: one GetItem (two for a webhook saved
        before its receiver item named its context)."""
        from figma_auth.records.webhooks import WebhookRegistration

        if not 0 < len(webhook_id) <= MAX_WEBHOOK_ID:
            return None
        item = self.db.get_item(
            TableName=self.table,
            Key=WEBHOOK.key(webhook_id),
            ProjectionExpression="user_id, passcode_hash, event_type, #c, context_id",
            ExpressionAttributeNames={"#c": "context"},
        ).get("Item")
        if not item:
            return None
        plain = unmarshal(item)
        user_id = str(plain["user_id"])
        if "context" not in plain:  # saved before the receiver's item named its context: the view does
            view = self.db.get_item(TableName=self.table, Key=view_key(user_id, webhook_id)).get("Item")
            plain = {**unmarshal(view), **plain} if view else plain
        return WebhookRegistration(
            user_id=user_id,
            passcode_hash=str(plain["passcode_hash"]),
            event_type=str(plain.get("event_type", "")),
            context=str(plain.get("context", "")),
            context_id=str(plain.get("context_id", "")),
        )

    def webhook_for(self, user_id: str, event_type: str, context: str, context_id: str) -> str | None:
        """The id of the user's webhook for this event and context, if the slot names one."""
        item = self.db.get_item(
            TableName=self.table,
            Key=slot_key(user_id, event_type, context, context_id),
            ConsistentRead=True,
        ).get("Item")
        return str(unmarshal(item)["webhook_id"]) if item else None

    def delete_webhook(self, user_id: str, webhook: Webhook) -> None:
        """The webhook's view, receiver item and slot, together."""
        self._transact(
            [{"Delete": {"TableName": self.table, "Key": found}} for found in webhook_keys(user_id, webhook)]
        )

    def replace_passcode(
        self, user_id: str, webhook_id: str, passcode_hash: str, endpoint: str, *, now: datetime
    ) -> None:
        """After the reconciliation gave a tampered webhook a new passcode and its endpoint back:
        the receiver's hash and the view's endpoint, together (only while the webhook exists)."""
        self._transact(
            [
                passcode_update(self.table, webhook_id, passcode_hash),
                endpoint_update(self.table, user_id, webhook_id, endpoint, now),
            ]
        )

    def set_webhook_status(self, user_id: str, webhook_id: str, status: str) -> None:
        """The view's status as Figma reports it (active / paused), while the webhook exists."""
        self._update(
            view_key(user_id, webhook_id),
            "SET #s = :s",
            "attribute_exists(pk)",
            names={"#s": "status"},
            s=status,
        )

    def claim_delivery(self, key: str, user_id: str, expires_at: datetime) -> Claim:
        """Mark a delivery seen, if it is new and its user's connection still exists: one
        TransactWriteItems (a ConditionCheck on the connection, a conditional Put of the mark)."""
        try:
            self._transact(
                [
                    {
                        "ConditionCheck": {
                            "TableName": self.table,
                            "Key": CONNECTION.key(user_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    self._put_new(seen_item(key, expires_at)),
                ]
            )
            return "new"
        except self.db.exceptions.TransactionCanceledException as exc:
            reasons = cancellation_reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "no_connection"
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return "seen"
            raise

    def forget_delivery(self, key: str) -> None:
        """Undo a claim whose event could not be published (the next delivery or the
        reconciliation publishes it)."""
        self.db.delete_item(TableName=self.table, Key=SEEN.key(key))

    def every_webhook(self) -> Iterator[tuple[str, str]]:
        """(webhook id, user id) of every webhook, from the by_user index (the reconciliation)."""
        for page in self._query_pages(
            IndexName=BY_USER,
            KeyConditionExpression="user_key = :k",
            ExpressionAttributeValues=values({"k": WEBHOOKS_KEY}),
        ):
            for item in page:
                yield WEBHOOK.ident(str(item["pk"])), str(item["user_id"])
