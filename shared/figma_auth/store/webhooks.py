"""Webhooks: the user's views, the receiver's verifier, the pending creates' passcodes, and the
deliveries seen (deduplication). Item shapes in ``figma_auth.items``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from figma_auth import items
from figma_auth.records import Webhook, WebhookRegistration
from figma_auth.store.table import Table
from figma_auth.times import iso

Claim = Literal["new", "seen", "no_connection"]
MAX_WEBHOOK_ID = 128  # Figma's ids are a few digits; anything longer is no webhook of ours (and no key)


class WebhooksTable(Table):
    def put_pending_passcode(self, passcode_hash: str, user_id: str, expires_at: datetime) -> None:
        """Before Figma creates the webhook: its PING may come before we know its id."""
        self.db.put_item(TableName=self.table, Item=items.pending_passcode_item(passcode_hash, user_id, expires_at))

    def pending_passcode(self, passcode_hash: str, *, now: datetime) -> str | None:
        """The user whose create is pending with this passcode, if any (and not expired: DynamoDB's
        TTL deletes days late)."""
        item = self.db.get_item(
            TableName=self.table, Key=items.key(f"WHPASS#{passcode_hash}", "WHPASS"), ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        plain = items.unmarshal(item)
        return str(plain["user_id"]) if int(plain.get("ttl", 0)) > now.timestamp() else None

    def save_webhook(self, webhook: Webhook, passcode_hash: str) -> bool:
        """The user's view, the receiver's verifier and the user's slot for this event and context,
        in one transaction that also deletes the pending create's passcode. False (nothing
        written) when the user already holds a webhook for this event and context."""
        view, receiver, slot = items.webhook_items(webhook, passcode_hash)
        try:
            self._transact(
                [
                    {"Put": {"TableName": self.table, "Item": view}},
                    {"Put": {"TableName": self.table, "Item": receiver}},
                    self._put_new(slot),
                    {"Delete": {"TableName": self.table, "Key": items.key(f"WHPASS#{passcode_hash}", "WHPASS")}},
                ]
            )
        except self.db.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 2 and reasons[2] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def user_webhooks(self, user_id: str) -> list[Webhook]:
        found: list[Webhook] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
            ExpressionAttributeValues=items.values({"pk": f"CONN#{user_id}", "w": "WEBHOOK#"}),
            ConsistentRead=True,
        ):
            found.extend(items.webhook_from(item) for item in page)
        return found

    def webhook_registration(self, webhook_id: str) -> WebhookRegistration | None:
        """What the receiver checks a delivery against: one GetItem (two for a webhook saved
        before its receiver item named its context)."""
        if not 0 < len(webhook_id) <= MAX_WEBHOOK_ID:
            return None
        item = self.db.get_item(
            TableName=self.table,
            Key=items.key(f"WEBHOOK#{webhook_id}", "WEBHOOK"),
            ProjectionExpression="user_id, passcode_hash, event_type, #c, context_id",
            ExpressionAttributeNames={"#c": "context"},
        ).get("Item")
        if not item:
            return None
        plain = items.unmarshal(item)
        user_id = str(plain["user_id"])
        if "context" not in plain:  # saved before the receiver's item named its context: the view does
            view = self.db.get_item(
                TableName=self.table, Key=items.key(f"CONN#{user_id}", f"WEBHOOK#{webhook_id}")
            ).get("Item")
            plain = {**items.unmarshal(view), **plain} if view else plain
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
            Key=items.key(f"CONN#{user_id}", items.webhook_slot(event_type, context, context_id)),
            ConsistentRead=True,
        ).get("Item")
        return str(items.unmarshal(item)["webhook_id"]) if item else None

    def delete_webhook(self, user_id: str, webhook: Webhook) -> None:
        """The webhook's view, receiver item and slot, together."""
        self._transact(
            [{"Delete": {"TableName": self.table, "Key": key}} for key in items.webhook_keys(user_id, webhook)]
        )

    def replace_passcode(
        self, user_id: str, webhook_id: str, passcode_hash: str, endpoint: str, *, now: datetime
    ) -> None:
        """After the reconciliation gave a tampered webhook a new passcode and its endpoint back:
        the receiver's hash and the view's endpoint, together (only while the webhook exists)."""
        exists = "attribute_exists(pk)"
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": items.key(f"WEBHOOK#{webhook_id}", "WEBHOOK"),
                        "UpdateExpression": "SET passcode_hash = :h",
                        "ConditionExpression": exists,
                        "ExpressionAttributeValues": items.values({"h": passcode_hash}),
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": items.key(f"CONN#{user_id}", f"WEBHOOK#{webhook_id}"),
                        "UpdateExpression": "SET endpoint = :e, passcode_set_at = :t",
                        "ConditionExpression": exists,
                        "ExpressionAttributeValues": items.values({"e": endpoint, "t": iso(now)}),
                    }
                },
            ]
        )

    def set_webhook_status(self, user_id: str, webhook_id: str, status: str) -> None:
        """The view's status as Figma reports it (active / paused), while the webhook exists."""
        self._update(
            items.key(f"CONN#{user_id}", f"WEBHOOK#{webhook_id}"),
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
                            "Key": items.connection_key(user_id),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    self._put_new(items.seen_item(key, expires_at)),
                ]
            )
            return "new"
        except self.db.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return "no_connection"
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return "seen"
            raise

    def forget_delivery(self, key: str) -> None:
        """Undo a claim whose event could not be published (the next delivery or the
        reconciliation publishes it)."""
        self.db.delete_item(TableName=self.table, Key=items.key(f"WHSEEN#{key}", "WHSEEN"))

    def every_webhook(self) -> Iterator[tuple[str, str]]:
        """(webhook id, user id) of every webhook, from the by_user index (the reconciliation)."""
        for page in self._query_pages(
            IndexName=items.BY_USER,
            KeyConditionExpression="user_key = :k",
            ExpressionAttributeValues=items.values({"k": items.WEBHOOKS_KEY}),
        ):
            for item in page:
                yield str(item["pk"]).removeprefix("WEBHOOK#"), str(item["user_id"])
