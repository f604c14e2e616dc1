"""Sign-in's items: the login transaction, and the one transaction that creates a session (with
its ticket, or a device's approval) together with the connection's new grant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from figma_auth import items
from figma_auth.errors import DeviceNotPending
from figma_auth.records import Connection, DeviceApproval, LoginTransaction, SignInWrite, Ticket
from figma_auth.store.table import Table


class SignInTable(Table):
    # -- login transactions ------------------------------------------------------------------

    def put_transaction(self, tx: LoginTransaction) -> None:
        self.db.put_item(
            TableName=self.table, Item=items.transaction_item(tx), ConditionExpression="attribute_not_exists(pk)"
        )

    def take_transaction(self, state_hash: str, binding: str, now: datetime) -> LoginTransaction | None:
        """Consume the transaction atomically if this browser owns it; None if unknown,
        replayed, foreign or expired. A foreign attempt leaves the owner's transaction alone."""
        try:
            answer = self.db.delete_item(
                TableName=self.table,
                Key=items.key(f"TX#{state_hash}", "TX"),
                ConditionExpression="binding = :b",
                ExpressionAttributeValues=items.values({"b": binding}),
                ReturnValues="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return None
        if not answer.get("Attributes"):
            return None
        tx = items.transaction_from(state_hash, items.unmarshal(answer["Attributes"]))
        return tx if tx.expires_at > now else None

    # -- the session and the connection's new grant, together ----------------------------------

    def sign_in(self, write: SignInWrite, connection: Connection) -> bool:
        """Put ``connection``'s grant on the user's connection and, in the same transaction,
        create ``write``'s session (with its ticket) or approve its device sign-in (whose session the
        device's poll creates). A connection whose grant came from a sign-in that finished later
        keeps it (the rest is done all the same): returns False then. Any lease in flight is
        dropped, so a refresh of the replaced grant can never store over the new one. A device
        sign-in that is no longer pending raises DeviceNotPending."""
        joined = items.joined(write.session, write.device)
        replace_grant = items.connection_update(
            self.table,
            connection.user_id,
            "SET handle = :h, email = :e, img_url = :i, scopes = :sc, grant_status = :st, grant_box = :box, "
            "grant_expires_at = :exp, due_day = :day, due_at = :exp, signed_in_ms = :t, "
            "version = if_not_exists(version, :zero) + :one, created_at = if_not_exists(created_at, :now), "
            "touched = :touch",
            "REMOVE grant_obtained_at, lease_owner, lease_until, revoked_scopes",
            "attribute_not_exists(signed_in_ms) OR signed_in_ms < :t",
            {**items.grant_values(connection), "zero": 0, "one": 1, "now": joined["now"], **joined["values"]},
            write.offline,
        )
        transaction, at = self._with_companions(replace_grant, write)
        try:
            self._transact(transaction)
            return True
        except self.db.exceptions.TransactionCanceledException as exc:
            self._raise_unless_cancelled_by(exc, at, write.device)
        self.join_connection(connection.user_id, write)
        return False

    def join_connection(self, user_id: str, write: SignInWrite) -> bool:
        """Create ``write``'s session (or approve its device) on the user's existing connection,
        leaving its grant as it is, in one transaction. False when the user has no connection."""
        joined = items.joined(write.session, write.device)["values"]
        transaction, at = self._with_companions(
            items.keep_grant_update(self.table, user_id, joined, write.offline), write
        )
        try:
            self._transact(transaction)
        except self.db.exceptions.TransactionCanceledException as exc:
            self._raise_unless_cancelled_by(exc, at, write.device)
            return False
        return True

    def _with_companions(
        self, connection_update: dict[str, Any], write: SignInWrite
    ) -> tuple[list[dict[str, Any]], int]:
        """The transaction's items and the index of the connection's update."""
        transaction = [self._put_new(items.session_item(write.session))] if write.session is not None else []
        at = len(transaction)
        transaction.append(connection_update)
        if write.ticket is not None:
            transaction.append(self._put_new(items.ticket_item(write.ticket)))
        if write.device is not None:
            transaction.append(items.approval_update(self.table, write.device))
        return transaction, at

    @staticmethod
    def _raise_unless_cancelled_by(exc: Any, at: int, device: DeviceApproval | None) -> None:
        reasons = items.cancellation_reasons(exc)
        if device is not None and reasons and reasons[-1] == "ConditionalCheckFailed":
            raise DeviceNotPending()
        if not items.cancelled_by(exc, at):
            raise exc

    # -- token-mode tickets --------------------------------------------------------------------

    def redeem_ticket(self, ticket_hash: str) -> Ticket | None:
        """Consume a ticket atomically (a second redemption finds nothing)."""
        answer = self.db.delete_item(
            TableName=self.table, Key=items.key(f"TICKET#{ticket_hash}", "TICKET"), ReturnValues="ALL_OLD"
        )
        if not answer.get("Attributes"):
            return None
        return items.ticket_from(ticket_hash, items.unmarshal(answer["Attributes"]))

    def activate_session(self, session_id: str) -> bool:
        return self._update(items.session_key(session_id), "SET activated = :t", "attribute_exists(pk)", t=True)
