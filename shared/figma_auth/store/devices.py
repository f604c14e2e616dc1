"""Device sign-in's items (RFC 8628): the device code, the user code that names it, the
poll's pacing, and the wrong codes one client address typed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from figma_auth import items
from figma_auth.records import DeviceCode, Session
from figma_auth.store.table import Table


class DevicesTable(Table):
    def put_device(self, device: DeviceCode) -> bool:
        """Store a new device sign-in and its user code; False if the user code is taken."""
        device_item, code_item = items.device_items(device)
        try:
            self._transact([self._put_new(device_item), self._put_new(code_item)])
        except self.db.exceptions.TransactionCanceledException as exc:
            if items.cancelled_by(exc, 1):
                return False
            raise
        return True

    def device_by_user_code(self, user_code_hash: str, *, max_views: int) -> tuple[DeviceCode | None, bool]:
        """The device sign-in a user code names, counting this look (True: looked at too often)."""
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key=items.key(f"USERCODE#{user_code_hash}", "USERCODE"),
                UpdateExpression="ADD #views :one",
                ConditionExpression="attribute_exists(pk) AND #views < :max",
                ExpressionAttributeNames={"#views": "views"},
                ExpressionAttributeValues=items.values({"one": 1, "max": max_views}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            return None, "Item" in getattr(exc, "response", {})
        return self.device(str(items.unmarshal(answer["Attributes"])["device_hash"])), False

    def device(self, device_hash: str) -> DeviceCode | None:
        answer = self.db.get_item(TableName=self.table, Key=items.device_key(device_hash), ConsistentRead=True)
        return items.device_from(device_hash, items.unmarshal(answer["Item"])) if "Item" in answer else None

    def poll_device(self, device_hash: str, *, now_ms: int, slack_ms: int = 250) -> tuple[DeviceCode | None, bool]:
        """One poll: (the sign-in, whether it came too early). A poll in time costs this one write."""
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key=items.device_key(device_hash),
                UpdateExpression="SET next_poll_ms = :now + interval_ms",
                ConditionExpression="attribute_exists(pk) AND next_poll_ms <= :soon",
                ExpressionAttributeValues=items.values({"now": now_ms, "soon": now_ms + slack_ms}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            item = getattr(exc, "response", {}).get("Item")
            return (items.device_from(device_hash, items.unmarshal(item)), True) if item else (None, False)
        return items.device_from(device_hash, items.unmarshal(answer["Attributes"])), False

    def slow_down(self, device_hash: str, *, now_ms: int, interval_ms: int) -> None:
        """RFC 8628 §3.5: the interval grows by 5 s for every poll that came too early."""
        self._update(
            items.device_key(device_hash),
            "SET interval_ms = :i, next_poll_ms = :next",
            "attribute_exists(pk)",
            i=interval_ms,
            next=now_ms + interval_ms,
        )

    def deny_device(self, device_hash: str) -> bool:
        return self._update(
            items.device_key(device_hash),
            "SET #st = :denied",
            "#st = :pending",
            names={"#st": "status"},
            denied="denied",
            pending="pending",
        )

    def deliver_device(self, device: DeviceCode, session: Session, *, offline: bool = False) -> bool:
        """The approved sign-in's session, once: created with the device marked delivered."""
        delivered = items.status_update(self.table, device.device_hash, to="delivered", when="approved")
        keep_grant = items.keep_grant_update(
            self.table, session.user_id, items.joined(session, None)["values"], offline
        )
        try:
            self._transact([self._put_new(items.session_item(session)), keep_grant, delivered])
        except self.db.exceptions.TransactionCanceledException as exc:
            if "ConditionalCheckFailed" in items.cancellation_reasons(exc):
                return False
            raise
        return True

    def spend_guess(self, budgets: list[tuple[str, int]], *, until: datetime) -> bool:
        """One code look-up from every ``(key, ceiling)`` budget, all or none, in one transaction of
        conditional updates: parallel containers can never spend past a ceiling. False when one
        is spent (each budget lives until ``until``, the end of its window)."""
        ttl = int(until.timestamp())
        updates = [
            self._guess_update(
                key,
                "ADD looks :one SET #ttl = :ttl",
                "attribute_not_exists(looks) OR looks < :max",
                {"one": 1, "ttl": ttl, "max": ceiling},
            )
            for key, ceiling in budgets
        ]
        try:
            self._transact(updates)
        except self.db.exceptions.TransactionCanceledException as exc:
            if "ConditionalCheckFailed" in items.cancellation_reasons(exc):
                return False
            raise
        return True

    def refund_guess(self, keys: list[str]) -> None:
        """Give back what a right code spent: only wrong codes count against a budget."""
        updates = [
            self._guess_update(key, "ADD looks :minus", "looks > :zero", {"minus": -1, "zero": 0}) for key in keys
        ]
        try:
            self._transact(updates)
        except self.db.exceptions.TransactionCanceledException:
            pass  # a window that ended meanwhile: nothing to give back

    def _guess_update(self, key: str, expression: str, condition: str, named: dict[str, int]) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": items.key(f"GUESS#{key}", "GUESS"),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": items.values(named),
        }
        if "#ttl" in expression:
            update["ExpressionAttributeNames"] = {"#ttl": "ttl"}
        return {"Update": update}
