"""Webhooks: the user's views, the receiver's verifier, the pending creates' passcodes, and the
deliveries seen (deduplication). Item shapes in ``figma_auth.items``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from figma_auth import items
from figma_auth.records import Webhook
from figma_auth.store.table import Table

Claim = Literal["new", "seen", "no_connection"]


class WebhooksTable(Table):
    def put_pending_passcode(self, passcode_hash: str, user_id: str, expires_at: datetime) -> None:
        """Before Figma creates the webhook: its PING may come before we know its id."""
        self.db.put_item(TableName=self.table, Item=items.pending_passcode_item(passcode_hash, user_id, expires_at))

    def pending_passcode(self, passcode_hash: str) -> str | None:
        """The user whose create is pending with this passcode, if any."""
        item = self.db.get_item(
            TableName=self.table, Key=items.key(f"WHPASS#{passcode_hash}", "WHPASS"), ConsistentRead=True
        ).get("Item")
        return str(items.unmarshal(item)["user_id"]) if item else None

    def save_webhook(self, webhook: Webhook, passcode_hash: str) -> None:
        """The user's view and the receiver's verifier, in one transaction."""
        view, receiver = items.webhook_items(webhook, passcode_hash)
        self._transact([{"Put": {"TableName": self.table, "Item": item}} for item in (view, receiver)])

    def user_webhooks(self, user_id: str) -> list[Webhook]:
        found: list[Webhook] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :w)",
            ExpressionAttributeValues={":pk": {"S": f"CONN#{user_id}"}, ":w": {"S": "WEBHOOK#"}},
            ConsistentRead=True,
        ):
            found.extend(items.webhook_from(item) for item in page)
        return found

    def webhook_owner(self, webhook_id: str) -> tuple[str, str] | None:
        """(user id, passcode hash) of a webhook, for the receiver: one GetItem."""
        item = self.db.get_item(
            TableName=self.table,
            Key=items.key(f"WEBHOOK#{webhook_id}", "WEBHOOK"),
            ProjectionExpression="user_id, passcode_hash",
        ).get("Item")
        if not item:
            return None
        plain = items.unmarshal(item)
        return str(plain["user_id"]), str(plain["passcode_hash"])

    def delete_webhook(self, user_id: str, webhook_id: str) -> None:
        self._transact(
            [
                {"Delete": {"TableName": self.table, "Key": items.key(f"CONN#{user_id}", f"WEBHOOK#{webhook_id}")}},
                {"Delete": {"TableName": self.table, "Key": items.key(f"WEBHOOK#{webhook_id}", "WEBHOOK")}},
            ]
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
            ExpressionAttributeValues={":k": {"S": items.WEBHOOKS_KEY}},
        ):
            for item in page:
                yield str(item["pk"]).removeprefix("WEBHOOK#"), str(item["user_id"])
