"""The one data-access module: login transactions, sessions, connections (one per Figma user,
holding the user's sealed Figma grant), tickets and the scheduler's pause, in one table.

Items (``pk`` / ``sk``)::

    TX#<sha256(state)>      / TX       a sign-in between authorize and callback (10 min)
    SESSION#<sha256(token)> / SESSION  user_id, user_key, created/expires, client; no grant
    CONN#<figma user id>    / CONN     profile, scopes, sealed grant, status, version, lease,
                                       due_day + due_at while active (the refresh index)
    TICKET#<sha256(ticket)> / TICKET   token mode: seals the session token, 60 s
    DEVICE#<sha256(device code)> / DEVICE    device sign-in: scopes, status, poll pacing
    USERCODE#<sha256(user code)> / USERCODE  the device sign-in a person's code names
    GUESS#<client address>#<window> / GUESS  wrong user codes from one address (15 min)
    SCHEDULER               / PAUSE    Figma's Retry-After for the scheduled refresh

GSIs: ``by_user`` (``user_key`` → the user's sessions) and ``by_refresh_due`` (``due_day`` →
connections by ``due_at``). Secrets are never stored: states, session tokens and tickets appear
only as SHA-256 hashes, Figma's tokens only inside the connection's KMS-sealed box. Every item
but an offline connection carries ``ttl``, and expiry is always checked on read (DynamoDB
deletes expired items days late).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from figma_auth.errors import ExpiredToken, TemporarilyUnavailable
from figma_auth.oauth import iso, parse_iso
from figma_auth.vault import SealedBox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BY_USER = "by_user"
BY_REFRESH_DUE = "by_refresh_due"
ACTIVE = "active"
REAUTH_REQUIRED = "reauth_required"
CLIENTS = ("web", "token", "device")


@dataclass(frozen=True)
class LoginTransaction:
    """One sign-in attempt between authorize and callback (10 minutes at most)."""

    state_hash: str
    binding: str  # hash bound to the browser's transaction cookie
    success_url: str  # the URLs travel in the browser's transaction cookie, not in the item
    failure_url: str
    redirect_uri: str  # exactly what authorize sent to Figma
    scopes: tuple[str, ...]
    mode: str
    pkce: bool  # whether a code_challenge was sent to Figma
    app_challenge: str | None  # token mode: S256 of the SPA's own verifier
    expires_at: datetime
    device_hash: str | None = None  # device mode: the device sign-in this login approves
    urls_hash: str = ""  # the hash of the return URLs the browser's cookie carries


@dataclass(frozen=True)
class Profile:
    handle: str
    email: str
    img_url: str


@dataclass(frozen=True)
class Session:
    """An app session: who, until when, from which kind of client. Its grant is the user's
    connection's."""

    id: str  # public id: SHA-256 of the session token
    user_id: str
    created_at: datetime
    expires_at: datetime
    client: Literal["web", "token", "device"] = "web"
    activated: bool = True


@dataclass(frozen=True)
class Connection:
    """A Figma user's connection to this app: the one grant Figma keeps for them."""

    user_id: str
    profile: Profile
    scopes: tuple[str, ...]
    status: str = ACTIVE
    grant_box: SealedBox | None = field(default=None, repr=False)
    grant_expires_at: datetime | None = None
    grant_obtained_at: datetime | None = None  # set by refreshes (a sign-in's grant doesn't count)
    version: int = 1  # +1 on every new grant (sign-in or refresh)
    signed_in_ms: int = 0  # when the current grant's code exchange finished: newer sign-ins win
    lease_until_ms: int = 0


@dataclass(frozen=True)
class Ticket:
    """Token mode: a one-time ticket that trades for the session token it seals."""

    ticket_hash: str
    session_id: str
    app_challenge: str
    sealed_token: bytes = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class DeviceCode:
    """A device sign-in (RFC 8628): started by a plugin or CLI, confirmed by a person."""

    device_hash: str
    user_code_hash: str
    scopes: tuple[str, ...]
    expires_at: datetime
    interval_ms: int
    status: str = "pending"  # pending → approved (Figma said yes) → delivered (polled); or denied
    user_id: str | None = None


@dataclass(frozen=True)
class DeviceApproval:
    """A callback approving a device sign-in: the session is created by the device's poll."""

    device_hash: str
    user_id: str
    now: datetime
    lives_until: datetime  # the connection must live at least until the device's session could


class DeviceNotPending(ExpiredToken):
    default_message = "This code expired or was already used. Start signing in again from your plugin or app."


class Store:
    def __init__(self, *, table_name: str, client: DynamoDBClient, sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table_name
        self.db = client
        self.sleep = sleep

    # -- every single-item conditional write -------------------------------------------------

    def _update(
        self,
        key: dict[str, Any],
        expression: str,
        condition: str | None = None,
        *,
        names: dict[str, str] | None = None,
        **values: Any,
    ) -> bool:
        """One UpdateItem with ``:name`` values (and ``#name`` names); False when ``condition`` did not hold."""
        extra: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        return self._conditional(self.db.update_item, key, condition, values, UpdateExpression=expression, **extra)

    def _delete(self, key: dict[str, Any], condition: str | None = None, **values: Any) -> bool:
        """One DeleteItem; False when ``condition`` did not hold."""
        return self._conditional(self.db.delete_item, key, condition, values)

    def _conditional(
        self,
        write: Callable[..., Any],
        key: dict[str, Any],
        condition: str | None,
        values: dict[str, Any],
        **extra: Any,
    ) -> bool:
        if condition:
            extra["ConditionExpression"] = condition
        if values:
            extra["ExpressionAttributeValues"] = _values(values)
        try:
            write(TableName=self.table, Key=key, **extra)
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # -- login transactions ----------------------------------------------------------------

    def put_transaction(self, tx: LoginTransaction) -> None:
        item = _marshal(
            pk=f"TX#{tx.state_hash}",
            sk="TX",
            binding=tx.binding,
            urls_hash=tx.urls_hash,
            redirect_uri=tx.redirect_uri,
            scopes=list(tx.scopes),
            mode=tx.mode,
            pkce=tx.pkce,
            app_challenge=tx.app_challenge,
            device_hash=tx.device_hash,
            expires_at=iso(tx.expires_at),
            ttl=int(tx.expires_at.timestamp()),
        )
        self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def take_transaction(self, state_hash: str, binding: str, now: datetime) -> LoginTransaction | None:
        """Consume the transaction atomically if this browser owns it; None if unknown,
        replayed, foreign or expired. A foreign attempt leaves the owner's transaction alone."""
        try:
            answer = self.db.delete_item(
                TableName=self.table,
                Key=_key(f"TX#{state_hash}", "TX"),
                ConditionExpression="binding = :b",
                ExpressionAttributeValues=_values({"b": binding}),
                ReturnValues="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return None
        if not answer.get("Attributes"):
            return None
        item = _unmarshal(answer["Attributes"])
        tx = LoginTransaction(
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
        )
        return tx if tx.expires_at > now else None

    # -- sign-in: the session and the connection's new grant, together ----------------------

    def sign_in(
        self,
        session: Session | None,
        connection: Connection,
        *,
        ticket: Ticket | None = None,
        device: DeviceApproval | None = None,
        offline: bool = False,
    ) -> bool:
        """Put ``connection``'s grant on the user's connection and, in the same transaction,
        create ``session`` (with its ticket) or approve a device sign-in (whose session the
        device's poll creates). A connection whose grant came from a sign-in that finished later
        keeps it (the rest is done all the same): returns False then. Any lease in flight is
        dropped, so a refresh of the replaced grant can never store over the new one. A device
        sign-in that is no longer pending raises DeviceNotPending."""
        joined = _joined(session, device)
        replace_grant = _connection_update(
            self.table,
            _key(f"CONN#{connection.user_id}", "CONN"),
            "SET handle = :h, email = :e, img_url = :i, scopes = :sc, grant_status = :st, grant_box = :box, "
            "grant_expires_at = :exp, due_day = :day, due_at = :exp, signed_in_ms = :t, "
            "version = if_not_exists(version, :zero) + :one, created_at = if_not_exists(created_at, :now), "
            "touched = :touch",
            "REMOVE grant_obtained_at, lease_owner, lease_until",
            "attribute_not_exists(signed_in_ms) OR signed_in_ms < :t",
            {**_conn_grant_values(connection), "zero": 0, "one": 1, "now": joined["now"], **joined["values"]},
            offline,
        )
        items, at = self._with_companions(replace_grant, session, ticket, device)
        try:
            self.db.transact_write_items(TransactItems=items)
            return True
        except self.db.exceptions.TransactionCanceledException as exc:
            self._raise_unless_cancelled_by(exc, at, device)
        self.join_connection(connection.user_id, session, ticket=ticket, device=device, offline=offline)
        return False

    def join_connection(
        self,
        user_id: str,
        session: Session | None,
        *,
        ticket: Ticket | None = None,
        device: DeviceApproval | None = None,
        offline: bool = False,
    ) -> bool:
        """Create ``session`` (or approve ``device``) on the user's existing connection, leaving
        its grant as it is, in one transaction. False when the user has no connection."""
        keep_grant = self._keep_grant(user_id, _joined(session, device)["values"], offline)
        items, at = self._with_companions(keep_grant, session, ticket, device)
        try:
            self.db.transact_write_items(TransactItems=items)
        except self.db.exceptions.TransactionCanceledException as exc:
            self._raise_unless_cancelled_by(exc, at, device)
            return False
        return True

    def _keep_grant(self, user_id: str, joined: dict[str, Any], offline: bool) -> dict[str, Any]:
        """A transaction's Update marking who joined the user's existing connection (its grant as is)."""
        return _connection_update(
            self.table,
            _key(f"CONN#{user_id}", "CONN"),
            "SET touched = :touch",
            "",
            "attribute_exists(pk)",
            joined,
            offline,
        )

    def _with_companions(
        self,
        connection_update: dict[str, Any],
        session: Session | None,
        ticket: Ticket | None,
        device: DeviceApproval | None,
    ) -> tuple[Any, int]:
        """The transaction's items and the index of the connection's update."""
        items: list[dict[str, Any]] = [self._put_new(_session_item(session))] if session is not None else []
        at = len(items)
        items.append(connection_update)
        if ticket is not None:
            items.append(self._put_new(_ticket_item(ticket)))
        if device is not None:
            items.append(self._device_approval(device))
        return items, at

    def _device_approval(self, device: DeviceApproval) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(f"DEVICE#{device.device_hash}", "DEVICE"),
                "UpdateExpression": "SET #st = :approved, user_id = :u",
                "ConditionExpression": "#st = :pending AND expires_at > :now",
                "ExpressionAttributeNames": {"#st": "status"},
                "ExpressionAttributeValues": _values(
                    {"approved": "approved", "u": device.user_id, "pending": "pending", "now": iso(device.now)}
                ),
            }
        }

    def _raise_unless_cancelled_by(self, exc: Any, at: int, device: DeviceApproval | None) -> None:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if device is not None and reasons and reasons[-1] == "ConditionalCheckFailed":
            raise DeviceNotPending()
        if not _cancelled_by(exc, at):
            raise exc

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    # -- sessions ----------------------------------------------------------------------------

    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]:
        """The session and its user's connection in one consistent BatchGetItem."""
        keys = [_key(f"SESSION#{session_id}", "SESSION"), _key(f"CONN#{user_id}", "CONN")]
        found: dict[str, dict[str, Any]] = {}
        pending: Any = {self.table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(4):
            answer = self.db.batch_get_item(RequestItems=pending)
            for raw in answer.get("Responses", {}).get(self.table, []):
                item = _unmarshal(raw)
                found[item["pk"]] = item
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            self.sleep(0.05 * 2**attempt)
        else:
            raise TemporarilyUnavailable(retry_after=1)
        session = found.get(f"SESSION#{session_id}")
        conn = found.get(f"CONN#{user_id}")
        return (_session_from(session) if session else None, _connection_from(conn) if conn else None)

    def get_connection(self, user_id: str) -> Connection | None:
        answer = self.db.get_item(TableName=self.table, Key=_key(f"CONN#{user_id}", "CONN"), ConsistentRead=True)
        return _connection_from(_unmarshal(answer["Item"])) if "Item" in answer else None

    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool:
        """Delete one session; with ``user_id``, only if it is that user's."""
        key = _key(f"SESSION#{session_id}", "SESSION")
        if user_id is None:
            return self._delete(key)
        return self._delete(key, "user_id = :u", u=user_id)

    def user_sessions(self, user_id: str) -> list[Session]:
        """Every session of the user, as the by_user index has them (eventually consistent)."""
        out = []
        kwargs: dict[str, Any] = {}
        while True:
            answer = self.db.query(
                TableName=self.table,
                IndexName=BY_USER,
                KeyConditionExpression="user_key = :u",
                ExpressionAttributeValues=_values({"u": f"USER#{user_id}"}),
                **kwargs,
            )
            out += [_session_from(_unmarshal(item)) for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                return out
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def delete_sessions(self, session_ids: list[str], *, attempts: int = 6) -> None:
        """Delete many sessions, 25 a batch, retrying what DynamoDB leaves unprocessed with
        backoff. Raises TemporarilyUnavailable if anything is still left (a retry finishes)."""
        for start in range(0, len(session_ids), 25):
            pending: Any = {
                self.table: [
                    {"DeleteRequest": {"Key": _key(f"SESSION#{sid}", "SESSION")}}
                    for sid in session_ids[start : start + 25]
                ]
            }
            for attempt in range(attempts):
                pending = self.db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                self.sleep(min(0.05 * 2**attempt, 1.0))
            if pending:
                raise TemporarilyUnavailable(
                    "Some sessions could not be deleted yet; send the same request again to finish.", retry_after=1
                )

    def delete_connection(self, user_id: str, *, touched: str | None = None) -> bool:
        """Delete the connection (its grant with it); with ``touched``, only if no sign-in
        joined it since it was read."""
        key = _key(f"CONN#{user_id}", "CONN")
        if touched is None:
            return self._delete(key)
        return self._delete(key, "touched = :t", t=touched)

    def connection_touched(self, user_id: str) -> str | None:
        """The marker the last sign-in left on the connection (None: no connection)."""
        answer = self.db.get_item(
            TableName=self.table,
            Key=_key(f"CONN#{user_id}", "CONN"),
            ConsistentRead=True,
            ProjectionExpression="touched",
        )
        item = answer.get("Item")
        return str(_unmarshal(item).get("touched", "")) if item else None

    # -- the grant's single-flight refresh ---------------------------------------------------

    def acquire_lease(self, user_id: str, *, version: int, owner: str, now_ms: int, lease_ms: int) -> bool:
        """Take the refresh lease if the grant is still at ``version`` and nobody holds a live lease."""
        return self._update(
            _key(f"CONN#{user_id}", "CONN"),
            "SET lease_owner = :o, lease_until = :until",
            "version = :v AND grant_status = :active AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            o=owner,
            until=now_ms + lease_ms,
            v=version,
            active=ACTIVE,
            now=now_ms,
        )

    def save_refreshed_grant(
        self, conn: Connection, *, owner: str, box: SealedBox, expires_at: datetime, obtained_at: datetime
    ) -> bool:
        """Store the new grant and release the lease, only while we hold it (a sign-in, a
        disconnect or a logout during the refresh is never undone)."""
        return self._update(
            _key(f"CONN#{conn.user_id}", "CONN"),
            "SET grant_box = :box, grant_expires_at = :exp, version = :next, grant_obtained_at = :got, "
            "due_day = :day, due_at = :exp REMOVE lease_owner, lease_until",
            "lease_owner = :o",
            box=_box(box),
            exp=iso(expires_at),
            next=conn.version + 1,
            o=owner,
            day=_due_day(expires_at),
            got=iso(obtained_at),
        )

    def release_lease(self, user_id: str, *, owner: str) -> None:
        self._update(_key(f"CONN#{user_id}", "CONN"), "REMOVE lease_owner, lease_until", "lease_owner = :o", o=owner)

    def mark_reauth_required(self, user_id: str, *, owner: str) -> bool:
        """The grant is dead at Figma: drop its ciphertext and leave the refresh index."""
        return self._update(
            _key(f"CONN#{user_id}", "CONN"),
            "SET grant_status = :r REMOVE grant_box, due_day, due_at, lease_owner, lease_until",
            "lease_owner = :o",
            r=REAUTH_REQUIRED,
            o=owner,
        )

    def due_pages(self, *, start: datetime, end: datetime) -> Iterator[list[Connection]]:
        """Active connections whose grant expires in [start, end], a query page at a time, via
        the day-bucketed index: items read grow with the number due, never with the table."""
        day = start.date()
        while day <= end.date():
            kwargs: dict[str, Any] = {}
            while True:
                answer = self.db.query(
                    TableName=self.table,
                    IndexName=BY_REFRESH_DUE,
                    KeyConditionExpression="due_day = :d AND due_at BETWEEN :a AND :b",
                    ExpressionAttributeValues=_values({"d": day.isoformat(), "a": iso(start), "b": iso(end)}),
                    **kwargs,
                )
                yield [_connection_from(_unmarshal(item)) for item in answer.get("Items", [])]
                if "LastEvaluatedKey" not in answer:
                    break
                kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            day = day.fromordinal(day.toordinal() + 1)

    # -- the scheduler's pause (Figma's Retry-After outlives a batch) --------------------------

    def scheduler_paused_until(self) -> datetime | None:
        answer = self.db.get_item(TableName=self.table, Key=_key("SCHEDULER", "PAUSE"), ConsistentRead=True)
        return parse_iso(_unmarshal(answer["Item"])["until"]) if "Item" in answer else None

    def pause_scheduler(self, until: datetime) -> None:
        item = _marshal(pk="SCHEDULER", sk="PAUSE", until=iso(until), ttl=int(until.timestamp()) + 86400)
        self.db.put_item(TableName=self.table, Item=item)

    # -- device sign-in (RFC 8628) -------------------------------------------------------------

    def put_device(self, device: DeviceCode) -> bool:
        """Store a new device sign-in and its user code; False if the user code is taken."""
        ttl = int(device.expires_at.timestamp())
        device_item = _marshal(
            pk=f"DEVICE#{device.device_hash}",
            sk="DEVICE",
            user_code_hash=device.user_code_hash,
            scopes=list(device.scopes),
            status=device.status,
            expires_at=iso(device.expires_at),
            interval_ms=device.interval_ms,
            next_poll_ms=0,
            ttl=ttl,
        )
        code_item = _marshal(
            pk=f"USERCODE#{device.user_code_hash}", sk="USERCODE", device_hash=device.device_hash, views=0, ttl=ttl
        )
        try:
            puts: Any = [self._put_new(device_item), self._put_new(code_item)]
            self.db.transact_write_items(TransactItems=puts)
        except self.db.exceptions.TransactionCanceledException as exc:
            if _cancelled_by(exc, 1):
                return False
            raise
        return True

    def device_by_user_code(self, user_code_hash: str, *, max_views: int) -> tuple[DeviceCode | None, bool]:
        """The device sign-in a user code names, counting this look (False: looked at too often)."""
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key=_key(f"USERCODE#{user_code_hash}", "USERCODE"),
                UpdateExpression="ADD #views :one",
                ConditionExpression="attribute_exists(pk) AND #views < :max",
                ExpressionAttributeNames={"#views": "views"},
                ExpressionAttributeValues=_values({"one": 1, "max": max_views}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            return None, "Item" in getattr(exc, "response", {})
        return self.device(str(_unmarshal(answer["Attributes"])["device_hash"])), False

    def device(self, device_hash: str) -> DeviceCode | None:
        answer = self.db.get_item(
            TableName=self.table, Key=_key(f"DEVICE#{device_hash}", "DEVICE"), ConsistentRead=True
        )
        return _device_from(device_hash, _unmarshal(answer["Item"])) if "Item" in answer else None

    def poll_device(self, device_hash: str, *, now_ms: int, slack_ms: int = 250) -> tuple[DeviceCode | None, bool]:
        """One poll: (the sign-in, whether it came too early). A poll in time costs this one write."""
        key = _key(f"DEVICE#{device_hash}", "DEVICE")
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="SET next_poll_ms = :now + interval_ms",
                ConditionExpression="attribute_exists(pk) AND next_poll_ms <= :soon",
                ExpressionAttributeValues=_values({"now": now_ms, "soon": now_ms + slack_ms}),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException as exc:
            item = getattr(exc, "response", {}).get("Item")
            return (_device_from(device_hash, _unmarshal(item)), True) if item else (None, False)
        return _device_from(device_hash, _unmarshal(answer["Attributes"])), False

    def slow_down(self, device_hash: str, *, now_ms: int, interval_ms: int) -> None:
        """RFC 8628 §3.5: the interval grows by 5 s for every poll that came too early."""
        self._update(
            _key(f"DEVICE#{device_hash}", "DEVICE"),
            "SET interval_ms = :i, next_poll_ms = :next",
            "attribute_exists(pk)",
            i=interval_ms,
            next=now_ms + interval_ms,
        )

    def deny_device(self, device_hash: str) -> bool:
        return self._update(
            _key(f"DEVICE#{device_hash}", "DEVICE"),
            "SET #st = :denied",
            "#st = :pending",
            names={"#st": "status"},
            denied="denied",
            pending="pending",
        )

    def deliver_device(self, device: DeviceCode, session: Session, *, offline: bool = False) -> bool:
        """The approved sign-in's session, once: created with the device marked delivered."""
        delivered = {
            "Update": {
                "TableName": self.table,
                "Key": _key(f"DEVICE#{device.device_hash}", "DEVICE"),
                "UpdateExpression": "SET #st = :delivered",
                "ConditionExpression": "#st = :approved",
                "ExpressionAttributeNames": {"#st": "status"},
                "ExpressionAttributeValues": _values({"delivered": "delivered", "approved": "approved"}),
            }
        }
        keep_grant = self._keep_grant(session.user_id, _joined(session, None)["values"], offline)
        try:
            items: Any = [self._put_new(_session_item(session)), keep_grant, delivered]
            self.db.transact_write_items(TransactItems=items)
        except self.db.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True

    def wrong_codes(self, client: str, window: str) -> int:
        answer = self.db.get_item(
            TableName=self.table, Key=_key(f"GUESS#{client}#{window}", "GUESS"), ConsistentRead=True
        )
        return int(_unmarshal(answer["Item"]).get("misses", 0)) if "Item" in answer else 0

    def count_wrong_code(self, client: str, window: str, *, until: datetime) -> None:
        self.db.update_item(
            TableName=self.table,
            Key=_key(f"GUESS#{client}#{window}", "GUESS"),
            UpdateExpression="ADD misses :one SET #ttl = :ttl",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues=_values({"one": 1, "ttl": int(until.timestamp())}),
        )

    # -- token-mode tickets ------------------------------------------------------------------

    def redeem_ticket(self, ticket_hash: str) -> Ticket | None:
        """Consume a ticket atomically (a second redemption finds nothing)."""
        answer = self.db.delete_item(
            TableName=self.table, Key=_key(f"TICKET#{ticket_hash}", "TICKET"), ReturnValues="ALL_OLD"
        )
        if not answer.get("Attributes"):
            return None
        item = _unmarshal(answer["Attributes"])
        return Ticket(
            ticket_hash=ticket_hash,
            session_id=item["session_id"],
            app_challenge=item["app_challenge"],
            sealed_token=bytes(item["sealed_token"]),
            expires_at=parse_iso(item["expires_at"]),
        )

    def activate_session(self, session_id: str) -> bool:
        return self._update(
            _key(f"SESSION#{session_id}", "SESSION"), "SET activated = :t", "attribute_exists(pk)", t=True
        )


# -- marshalling: the only place that knows DynamoDB's attribute-value format ---------------


@functools.cache
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@functools.cache
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def _marshal(**fields: Any) -> dict[str, Any]:
    """An item from plain values (None means: no such attribute)."""
    serialize = _serializer().serialize
    return {name: serialize(value) for name, value in fields.items() if value is not None}


def _values(values: dict[str, Any]) -> dict[str, Any]:
    serialize = _serializer().serialize
    return {f":{name}": serialize(value) for name, value in values.items()}


def _unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    deserialize = _deserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}


def _cancelled_by(exc: Any, index: int) -> bool:
    """Whether a cancelled transaction failed only on item ``index``'s condition."""
    reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
    return (
        len(reasons) > index
        and reasons[index] == "ConditionalCheckFailed"
        and all(code in ("None", None) for i, code in enumerate(reasons) if i != index)
    )


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _connection_update(
    table: str,
    key: dict[str, Any],
    set_part: str,
    remove_part: str,
    condition: str,
    values: dict[str, Any],
    offline: bool,
) -> dict[str, Any]:
    """A transaction's Update of a connection. An online connection lives as long as its
    newest session (``ttl``); an offline one (OFFLINE_ACCESS) until it is disconnected."""
    if offline:
        values = {k: v for k, v in values.items() if k != "ttl"}
        remove_part = (remove_part + ", #ttl") if remove_part else "REMOVE #ttl"
    else:
        set_part += ", #ttl = :ttl"
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": f"{set_part} {remove_part}".strip(),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": _values(values),
        }
    }


def _box(box: SealedBox) -> dict[str, bytes]:
    return {"k": box.encrypted_key, "n": box.nonce, "c": box.ciphertext}


def _box_from(value: dict[str, Any]) -> SealedBox:
    return SealedBox(bytes(value["k"]), bytes(value["n"]), bytes(value["c"]))


def _due_day(moment: datetime) -> str:
    return moment.date().isoformat()


def _conn_grant_values(c: Connection) -> dict[str, Any]:
    if c.grant_box is None or c.grant_expires_at is None:
        raise ValueError("a sign-in always brings a grant")
    return {
        "h": c.profile.handle,
        "e": c.profile.email,
        "i": c.profile.img_url,
        "sc": list(c.scopes),
        "st": ACTIVE,
        "box": _box(c.grant_box),
        "exp": iso(c.grant_expires_at),
        "day": _due_day(c.grant_expires_at),
        "t": c.signed_in_ms,
    }


def _session_item(s: Session) -> dict[str, Any]:
    return _marshal(
        pk=f"SESSION#{s.id}",
        sk="SESSION",
        user_id=s.user_id,
        user_key=f"USER#{s.user_id}",
        created_at=iso(s.created_at),
        expires_at=iso(s.expires_at),
        ttl=int(s.expires_at.timestamp()),
        client=s.client,
        activated=s.activated,
    )


def _session_from(item: dict[str, Any]) -> Session:
    return Session(
        id=item["pk"].removeprefix("SESSION#"),
        user_id=item["user_id"],
        created_at=parse_iso(item["created_at"]),
        expires_at=parse_iso(item["expires_at"]),
        client=item["client"] if item.get("client") in CLIENTS else "web",
        activated=item.get("activated", True),
    )


def _connection_item(c: Connection, *, ttl: datetime | None) -> dict[str, Any]:
    """A whole connection item, as a sign-in leaves it (the local stack seeds these)."""
    if c.grant_box is None or c.grant_expires_at is None:
        raise ValueError("a stored connection has a grant or is reauth_required")
    return _marshal(
        pk=f"CONN#{c.user_id}",
        sk="CONN",
        handle=c.profile.handle,
        email=c.profile.email,
        img_url=c.profile.img_url,
        scopes=list(c.scopes),
        grant_status=c.status,
        grant_expires_at=iso(c.grant_expires_at),
        due_day=_due_day(c.grant_expires_at),
        due_at=iso(c.grant_expires_at),
        version=c.version,
        signed_in_ms=c.signed_in_ms,
        touched="seed",
        ttl=int(ttl.timestamp()) if ttl else None,
        grant_box=_box(c.grant_box),
    )


def _connection_from(item: dict[str, Any]) -> Connection:
    return Connection(
        user_id=item["pk"].removeprefix("CONN#"),
        profile=Profile(item.get("handle", ""), item.get("email", ""), item.get("img_url", "")),
        scopes=tuple(item.get("scopes", ())),
        status=item.get("grant_status", REAUTH_REQUIRED),
        grant_box=_box_from(item["grant_box"]) if "grant_box" in item else None,
        grant_expires_at=parse_iso(item["grant_expires_at"]) if "grant_expires_at" in item else None,
        grant_obtained_at=parse_iso(item["grant_obtained_at"]) if "grant_obtained_at" in item else None,
        version=int(item.get("version", 1)),
        signed_in_ms=int(item.get("signed_in_ms", 0)),
        lease_until_ms=int(item.get("lease_until", 0)),
    )


def _device_from(device_hash: str, item: dict[str, Any]) -> DeviceCode:
    return DeviceCode(
        device_hash=device_hash,
        user_code_hash=str(item["user_code_hash"]),
        scopes=tuple(item["scopes"]),
        expires_at=parse_iso(item["expires_at"]),
        interval_ms=int(item["interval_ms"]),
        status=str(item["status"]),
        user_id=item.get("user_id"),
    )


def _joined(session: Session | None, device: DeviceApproval | None) -> dict[str, Any]:
    """What a sign-in leaves on the connection: the marker of who joined it last, and how long
    it must live at least (its newest session, or the session a device will poll for)."""
    if session is not None:
        return {
            "now": iso(session.created_at),
            "values": {"touch": session.id, "ttl": int(session.expires_at.timestamp())},
        }
    if device is None:
        raise ValueError("a sign-in creates a session or approves a device")
    return {
        "now": iso(device.now),
        "values": {"touch": f"device:{device.device_hash}", "ttl": int(device.lives_until.timestamp())},
    }


def _ticket_item(t: Ticket) -> dict[str, Any]:
    return _marshal(
        pk=f"TICKET#{t.ticket_hash}",
        sk="TICKET",
        session_id=t.session_id,
        app_challenge=t.app_challenge,
        sealed_token=t.sealed_token,
        expires_at=iso(t.expires_at),
        ttl=int(t.expires_at.timestamp()),
    )


__all__ = [
    "ACTIVE",
    "CLIENTS",
    "REAUTH_REQUIRED",
    "Connection",
    "DeviceApproval",
    "DeviceCode",
    "DeviceNotPending",
    "LoginTransaction",
    "Profile",
    "Session",
    "Store",
    "Ticket",
]
