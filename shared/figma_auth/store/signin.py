"""Sign-in's items: the login transaction (``TX#<hash of the state>``), token mode's one-time
ticket (``TICKET#<hash>``), and the one transaction that creates a session (with its ticket, or
a device's approval) together with the connection's new grant."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from figma_auth.errors import DeviceNotPending
from figma_auth.records import Connection
from figma_auth.store.codec import cancellation_reasons, cancelled_by, unmarshal, values
from figma_auth.store.connections import joined, keep_grant_update, replace_grant_update
from figma_auth.store.devices import approval_update
from figma_auth.store.sessions import session_item
from figma_auth.store.table import Kind, Table
from figma_auth.times import iso, parse_iso

if TYPE_CHECKING:  # built in the functions below, which import them: see figma_auth.store
    from figma_auth.records.completion import DeviceApproval, SignInWrite, Ticket
    from figma_auth.records.signin import LoginTransaction

TRANSACTION = Kind("TX")  # by the SHA-256 of the state
TICKET = Kind("TICKET")  # by the SHA-256 of the ticket


def transaction_item(tx: LoginTransaction) -> dict[str, Any]:
    return TRANSACTION.item(
        tx.state_hash,
        binding=tx.binding,
        urls_hash=tx.urls_hash,
        redirect_uri=tx.redirect_uri,
        scopes=list(tx.scopes),
        mode=tx.mode,
        pkce=tx.pkce,
        app_challenge=tx.app_challenge,
        device_hash=tx.device_hash,
        widened=tx.widened or None,
        expires_at=iso(tx.expires_at),
        ttl=int(tx.expires_at.timestamp()),
    )


def transaction_from(state_hash: str, item: dict[str, Any]) -> LoginTransaction:
    from figma_auth.records.signin import LoginTransaction

    return LoginTransaction(
        state_hash=state_hash,
        binding=item["binding"],
        success_url="",  # from the browser's cookie, checked against urls_hash
        failure_url="",
        urls_hash=str(item.get("urls_hash", "")),
        redirect_uri=item["redirect_uri"],
        scopes=tuple(item["scopes"]),
        mode=item["mode"],
        pkce=item["pkce"],
        app_challenge=item.get("app_challenge"),
        expires_at=parse_iso(item["expires_at"]),
        device_hash=item.get("device_hash"),
        widened=bool(item.get("widened", False)),
    )


def ticket_item(t: Ticket) -> dict[str, Any]:
    return TICKET.item(
        t.ticket_hash,
        session_id=t.session_id,
        app_challenge=t.app_challenge,
        sealed_token=t.sealed_token,
        expires_at=iso(t.expires_at),
        ttl=int(t.expires_at.timestamp()),
    )


def ticket_from(ticket_hash: str, item: dict[str, Any]) -> Ticket:
    from figma_auth.records.completion import Ticket

    return Ticket(
        ticket_hash=ticket_hash,
        session_id=item["session_id"],
        app_challenge=item["app_challenge"],
        sealed_token=bytes(item["sealed_token"]),
        expires_at=parse_iso(item["expires_at"]),
    )


class SignInTable(Table):
    # -- login transactions ------------------------------------------------------------------

    def put_transaction(self, tx: LoginTransaction) -> None:
        self.db.put_item(
            TableName=self.table, Item=transaction_item(tx), ConditionExpression="attribute_not_exists(pk)"
        )

    def take_transaction(self, state_hash: str, binding: str, now: datetime) -> LoginTransaction | None:
        """Consume the transaction atomically if this browser owns it; None if unknown,
        replayed, foreign or expired. A foreign attempt leaves the owner's transaction alone."""
        try:
            answer = self.db.delete_item(
                TableName=self.table,
                Key=TRANSACTION.key(state_hash),
                ConditionExpression="binding = :b",
                ExpressionAttributeValues=values({"b": binding}),
                ReturnValues="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return None
        if not answer.get("Attributes"):
            return None
        tx = transaction_from(state_hash, unmarshal(answer["Attributes"]))
        return tx if tx.expires_at > now else None

    # -- the session and the connection's new grant, together ----------------------------------

    def sign_in(self, write: SignInWrite, connection: Connection) -> bool:
        """Put ``connection``'s grant on the user's connection and, in the same transaction,
        create ``write``'s session (with its ticket) or approve its device sign-in (whose session the
        device's poll creates). A connection whose grant came from a sign-in that finished later
        keeps it (the rest is done all the same): returns False then. Any lease in flight is
        dropped, so a refresh of the replaced grant can never store over the new one. A device
        sign-in that is no longer pending raises DeviceNotPending."""
        marks = joined(write.session, write.device)
        replace_grant = replace_grant_update(self.table, connection, marks, write.offline)
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
        marks = joined(write.session, write.device)["values"]
        transaction, at = self._with_companions(keep_grant_update(self.table, user_id, marks, write.offline), write)
        try:
            self._transact(transaction)
        except self.db.exceptions.TransactionCanceledException as exc:
            self._raise_unless_cancelled_by(exc, at, write.device)
            return False
        return True

    def _with_companions(self, connection: dict[str, Any], write: SignInWrite) -> tuple[list[dict[str, Any]], int]:
        """The transaction's items and the index of the connection's update (``connection``)."""
        transaction = [self._put_new(session_item(write.session))] if write.session is not None else []
        at = len(transaction)
        transaction.append(connection)
        if write.ticket is not None:
            transaction.append(self._put_new(ticket_item(write.ticket)))
        if write.device is not None:
            transaction.append(approval_update(self.table, write.device))
        return transaction, at

    @staticmethod
    def _raise_unless_cancelled_by(exc: Any, at: int, device: DeviceApproval | None) -> None:
        reasons = cancellation_reasons(exc)
        if device is not None and reasons and reasons[-1] == "ConditionalCheckFailed":
            raise DeviceNotPending()
        if not cancelled_by(exc, at):
            raise exc

    # -- token-mode tickets --------------------------------------------------------------------

    def redeem_ticket(self, ticket_hash: str) -> Ticket | None:
        """Consume a ticket atomically (a second redemption finds nothing)."""
        answer = self.db.delete_item(TableName=self.table, Key=TICKET.key(ticket_hash), ReturnValues="ALL_OLD")
        if not answer.get("Attributes"):
            return None
        return ticket_from(ticket_hash, unmarshal(answer["Attributes"]))
