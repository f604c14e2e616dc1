"""Device sign-in's items (RFC 8628): the device code (``DEVICE#<hash>``), the user code that
names it (``USERCODE#<hash>``), the poll's pacing, and the wrong codes one client address typed
(``GUESS#<budget>``): their keys, shapes and updates."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from figma_auth.records import Session
from figma_auth.store.codec import cancellation_reasons, cancelled_by, unmarshal, values
from figma_auth.store.connections import joined, keep_grant_update
from figma_auth.store.sessions import session_item
from figma_auth.store.table import Kind, Table
from figma_auth.times import iso, parse_iso

if TYPE_CHECKING:  # built in the functions below, which import them: see figma_auth.store
    from figma_auth.records.completion import DeviceApproval
    from figma_auth.records.devices import DeviceCode

DEVICE = Kind("DEVICE")  # by the SHA-256 of the device code
USER_CODE = Kind("USERCODE")  # by the SHA-256 of the user code
GUESS = Kind("GUESS")  # by budget: "<address>[#<browser>]#<window>"


def device_items(device: DeviceCode) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new device sign-in and the user code that names it."""
    ttl = int(device.expires_at.timestamp())
    device_item = DEVICE.item(
        device.device_hash,
        user_code_hash=device.user_code_hash,
        scopes=list(device.scopes),
        status=device.status,
        expires_at=iso(device.expires_at),
        interval_ms=device.interval_ms,
        next_poll_ms=0,
        client_id=device.client_id,
        network=device.network,
        started_at=iso(device.started_at) if device.started_at else None,
        ttl=ttl,
    )
    code_item = USER_CODE.item(device.user_code_hash, device_hash=device.device_hash, views=0, ttl=ttl)
    return device_item, code_item


def device_from(device_hash: str, item: dict[str, Any]) -> DeviceCode:
    from figma_auth.records.devices import DeviceCode

    return DeviceCode(
        device_hash=device_hash,
        user_code_hash=str(item["user_code_hash"]),
        scopes=tuple(item["scopes"]),
        expires_at=parse_iso(item["expires_at"]),
        interval_ms=int(item["interval_ms"]),
        status=str(item["status"]),
        user_id=item.get("user_id"),
        client_id=item.get("client_id"),
        network=item.get("network"),
        started_at=parse_iso(item["started_at"]) if "started_at" in item else None,
    )


def status_update(table: str, device_hash: str, *, to: str, when: str) -> dict[str, Any]:
    """A transaction's Update moving a device sign-in from status ``when`` to ``to``."""
    return {
        "Update": {
            "TableName": table,
            "Key": DEVICE.key(device_hash),
            "UpdateExpression": "SET #st = :to",
            "ConditionExpression": "#st = :when",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": values({"to": to, "when": when}),
        }
    }


def approval_update(table: str, device: DeviceApproval) -> dict[str, Any]:
    """A transaction's Update approving a pending, unexpired device sign-in for its user
    (``store/signin.py`` puts it in a sign-in's transaction)."""
    return {
        "Update": {
            "TableName": table,
            "Key": DEVICE.key(device.device_hash),
            "UpdateExpression": "SET #st = :approved, user_id = :u",
            "ConditionExpression": "#st = :pending AND expires_at > :now",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": values(
                {"approved": "approved", "u": device.user_id, "pending": "pending", "now": iso(device.now)}
            ),
        }
    }


class DevicesTable(Table):
    def put_device(self, device: DeviceCode) -> bool:
        """Store a new device sign-in and its user code; False if the user code is taken."""
        device_item, code_item = device_items(device)
        try:
            self._transact([self._put_new(device_item), self._put_new(code_item)])
        except self.db.exceptions.TransactionCanceledException as exc:
            if cancelled_by(exc, 1):
                return False
            raise
        return True

    def device_by_user_code(self, user_code_hash: str, *, max_views: int) -> tuple[DeviceCode | None, bool]:
        """The device sign-in a user code names, counting this look (True: looked at too often)."""
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key=USER_CODE.key(user_code_hash),
                UpdateExpression="ADD #views :one",
                ConditionExpression="attribute_exists(pk) AND #views < :max",
                ExpressionAttributeNames={"#views": "views"},
                ExpressionAttributeValues=values({"one": 1, "max": max_views}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            return None, "Item" in getattr(exc, "response", {})
        return self.device(str(unmarshal(answer["Attributes"])["device_hash"])), False

    def device(self, device_hash: str) -> DeviceCode | None:
        answer = self.db.get_item(TableName=self.table, Key=DEVICE.key(device_hash), ConsistentRead=True)
        return device_from(device_hash, unmarshal(answer["Item"])) if "Item" in answer else None

    def poll_device(self, device_hash: str, *, now_ms: int, slack_ms: int = 250) -> tuple[DeviceCode | None, bool]:
        """One poll: (the sign-in, whether it came too early). A poll in time costs this one write."""
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key=DEVICE.key(device_hash),
                UpdateExpression="SET next_poll_ms = :now + interval_ms",
                ConditionExpression="attribute_exists(pk) AND next_poll_ms <= :soon",
                ExpressionAttributeValues=values({"now": now_ms, "soon": now_ms + slack_ms}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            item = getattr(exc, "response", {}).get("Item")
            return (device_from(device_hash, unmarshal(item)), True) if item else (None, False)
        return device_from(device_hash, unmarshal(answer["Attributes"])), False

    def slow_down(self, device_hash: str, *, now_ms: int, interval_ms: int) -> None:
        """RFC 8628 §3.5: the interval grows by 5 s for every poll that came too early."""
        self._update(
            DEVICE.key(device_hash),
            "SET interval_ms = :i, next_poll_ms = :next",
            "attribute_exists(pk)",
            i=interval_ms,
            next=now_ms + interval_ms,
        )

    def deny_device(self, device_hash: str) -> bool:
        return self._update(
            DEVICE.key(device_hash),
            "SET #st = :denied",
            "#st = :pending",
            names={"#st": "status"},
            denied="denied",
            pending="pending",
        )

    def deliver_device(self, device: DeviceCode, session: Session, *, offline: bool = False) -> bool:
        """The approved sign-in's session, once: created with the device marked delivered."""
        delivered = status_update(self.table, device.device_hash, to="delivered", when="approved")
        keep_grant = keep_grant_update(self.table, session.user_id, joined(session, None)["values"], offline)
        try:
            self._transact([self._put_new(session_item(session)), keep_grant, delivered])
        except self.db.exceptions.TransactionCanceledException as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc):
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
                budget,
                "ADD looks :one SET #ttl = :ttl",
                "attribute_not_exists(looks) OR looks < :max",
                {"one": 1, "ttl": ttl, "max": ceiling},
            )
            for budget, ceiling in budgets
        ]
        try:
            self._transact(updates)
        except self.db.exceptions.TransactionCanceledException as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc):
                return False
            raise
        return True

    def refund_guess(self, keys: list[str]) -> None:
        """Give back what a right code spent: only wrong codes count against a budget."""
        updates = [
            self._guess_update(budget, "ADD looks :minus", "looks > :zero", {"minus": -1, "zero": 0}) for budget in keys
        ]
        try:
            self._transact(updates)
        except self.db.exceptions.TransactionCanceledException:
            pass  # a window that ended meanwhile: nothing to give back

    def _guess_update(self, budget: str, expression: str, condition: str, named: dict[str, int]) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table,
            "Key": GUESS.key(budget),
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values(named),
        }
        if "#ttl" in expression:
            update["ExpressionAttributeNames"] = {"#ttl": "ttl"}
        return {"Update": update}
