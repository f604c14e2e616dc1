"""The one data-access module: login transactions, sessions (with their sealed Figma grant),
users and tickets in a single DynamoDB table.

Keys: ``pk`` = ``TX#…`` | ``SESSION#…`` | ``USER#…`` | ``TICKET#…``, ``sk`` names the kind.
Secrets are never stored: states, session tokens and tickets appear only as SHA-256 hashes,
and a session's Figma tokens only inside its KMS-sealed box. Every item carries ``ttl``,
but expiry is always checked on read (DynamoDB deletes expired items days late).
GSIs: ``by_user`` (user → sessions) and ``by_refresh_due`` (day bucket → grants by expiry).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from figma_auth.oauth import iso, parse_iso
from figma_auth.vault import SealedBox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BY_USER = "by_user"
BY_REFRESH_DUE = "by_refresh_due"
ACTIVE = "active"
REAUTH_REQUIRED = "reauth_required"


@dataclass(frozen=True)
class LoginTransaction:
    """One sign-in attempt between authorize and callback (10 minutes at most)."""

    state_hash: str
    binding: str  # hash bound to the browser's transaction cookie
    success_url: str
    failure_url: str
    redirect_uri: str  # exactly what authorize sent to Figma
    scopes: tuple[str, ...]
    mode: str
    pkce: bool  # whether a code_challenge was sent to Figma
    app_challenge: str | None  # token mode: S256 of the SPA's own verifier
    expires_at: datetime


@dataclass(frozen=True)
class Profile:
    handle: str
    email: str
    img_url: str


@dataclass(frozen=True)
class Session:
    """An app session and the state of its Figma grant (sealed; never plaintext here)."""

    id: str  # public id: SHA-256 of the session token
    user_id: str
    created_at: datetime
    expires_at: datetime
    profile: Profile
    scopes: tuple[str, ...]
    grant_status: str = ACTIVE
    grant_box: SealedBox | None = field(default=None, repr=False)
    grant_expires_at: datetime | None = None
    grant_version: int = 1
    grant_obtained_at: datetime | None = None
    lease_until_ms: int = 0
    activated: bool = True


@dataclass(frozen=True)
class Ticket:
    """Token mode: a one-time ticket that trades for the session token it seals."""

    ticket_hash: str
    session_id: str
    app_challenge: str
    sealed_token: bytes = field(repr=False)
    expires_at: datetime


class Store:
    def __init__(self, *, table_name: str, client: DynamoDBClient) -> None:
        self.table = table_name
        self.db = client

    # -- login transactions ------------------------------------------------------------

    def put_transaction(self, tx: LoginTransaction) -> None:
        item = {
            "pk": _s(f"TX#{tx.state_hash}"),
            "sk": _s("TX"),
            "binding": _s(tx.binding),
            "success_url": _s(tx.success_url),
            "failure_url": _s(tx.failure_url),
            "redirect_uri": _s(tx.redirect_uri),
            "scopes": _l(tx.scopes),
            "mode": _s(tx.mode),
            "pkce": {"BOOL": tx.pkce},
            "expires_at": _s(iso(tx.expires_at)),
            "ttl": _n(int(tx.expires_at.timestamp())),
        }
        if tx.app_challenge:
            item["app_challenge"] = _s(tx.app_challenge)
        self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def take_transaction(self, state_hash: str, binding: str, now: datetime) -> LoginTransaction | None:
        """Consume the transaction atomically if this browser owns it; None if unknown,
        replayed, foreign or expired. A foreign attempt leaves the owner's transaction alone."""
        try:
            answer = self.db.delete_item(
                TableName=self.table,
                Key=_key(f"TX#{state_hash}", "TX"),
                ConditionExpression="binding = :b",
                ExpressionAttributeValues={":b": _s(binding)},
                ReturnValues="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return None
        item = answer.get("Attributes")
        if not item:
            return None
        tx = LoginTransaction(
            state_hash=state_hash,
            binding=item["binding"]["S"],
            success_url=item["success_url"]["S"],
            failure_url=item["failure_url"]["S"],
            redirect_uri=item["redirect_uri"]["S"],
            scopes=tuple(v["S"] for v in item["scopes"]["L"]),
            mode=item["mode"]["S"],
            pkce=item["pkce"]["BOOL"],
            app_challenge=item.get("app_challenge", {}).get("S"),
            expires_at=parse_iso(item["expires_at"]["S"]),
        )
        return tx if tx.expires_at > now else None

    # -- sessions ----------------------------------------------------------------------

    def create_session(self, session: Session, *, now: datetime, ticket: Ticket | None = None) -> None:
        """Write the session (with its sealed grant), upsert the user, and in token mode the
        ticket: one transaction, so a failure leaves nothing behind."""
        p = session.profile
        items: list[Any] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": _session_item(session),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": _key(f"USER#{session.user_id}", "PROFILE"),
                    "UpdateExpression": "SET handle = :h, email = :e, img_url = :i, last_login_at = :now, "
                    "created_at = if_not_exists(created_at, :now)",
                    "ExpressionAttributeValues": {
                        ":h": _s(p.handle),
                        ":e": _s(p.email),
                        ":i": _s(p.img_url),
                        ":now": _s(iso(now)),
                    },
                }
            },
        ]
        if ticket is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _ticket_item(ticket),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        self.db.transact_write_items(TransactItems=items)

    def get_session(self, session_id: str) -> Session | None:
        answer = self.db.get_item(
            TableName=self.table, Key=_key(f"SESSION#{session_id}", "SESSION"), ConsistentRead=True
        )
        item = answer.get("Item")
        return _session_from(item) if item else None

    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool:
        """Delete one session and its grant; with ``user_id``, only if it is that user's."""
        kwargs: dict[str, Any] = {}
        if user_id is not None:
            kwargs = {"ConditionExpression": "user_id = :u", "ExpressionAttributeValues": {":u": _s(user_id)}}
        try:
            self.db.delete_item(TableName=self.table, Key=_key(f"SESSION#{session_id}", "SESSION"), **kwargs)
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def list_user_sessions(self, user_id: str) -> list[tuple[str, datetime, datetime, bool]]:
        """(id, created_at, expires_at, activated) of every session of the user, oldest first."""
        out = []
        kwargs: dict[str, Any] = {}
        while True:
            answer = self.db.query(
                TableName=self.table,
                IndexName=BY_USER,
                KeyConditionExpression="user_key = :u",
                ExpressionAttributeValues={":u": _s(f"USER#{user_id}")},
                **kwargs,
            )
            for item in answer.get("Items", []):
                out.append(
                    (
                        item["pk"]["S"].removeprefix("SESSION#"),
                        parse_iso(item["created_at"]["S"]),
                        parse_iso(item["expires_at"]["S"]),
                        item.get("activated", {}).get("BOOL", True),
                    )
                )
            if "LastEvaluatedKey" not in answer:
                return out
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def delete_user_sessions(self, user_id: str) -> int:
        ids = [sid for sid, *_ in self.list_user_sessions(user_id)]
        for start in range(0, len(ids), 25):
            requests: Any = [
                {"DeleteRequest": {"Key": _key(f"SESSION#{sid}", "SESSION")}} for sid in ids[start : start + 25]
            ]
            pending = {self.table: requests}
            for _ in range(5):
                answer = self.db.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}
                if not pending:
                    break
        return len(ids)

    def delete_user(self, user_id: str) -> int:
        """Everything stored about a user: their sessions (with grants) and their profile."""
        count = self.delete_user_sessions(user_id)
        self.db.delete_item(TableName=self.table, Key=_key(f"USER#{user_id}", "PROFILE"))
        return count

    # -- the grant's single-flight refresh ---------------------------------------------

    def acquire_lease(self, session_id: str, *, version: int, owner: str, now_ms: int, lease_ms: int) -> bool:
        """Take the refresh lease if the grant is still at ``version`` and nobody holds a live lease."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(f"SESSION#{session_id}", "SESSION"),
                UpdateExpression="SET lease_owner = :o, lease_until = :until",
                ConditionExpression="grant_version = :v AND grant_status = :active AND "
                "(attribute_not_exists(lease_until) OR lease_until < :now)",
                ExpressionAttributeValues={
                    ":o": _s(owner),
                    ":until": _n(now_ms + lease_ms),
                    ":v": _n(version),
                    ":active": _s(ACTIVE),
                    ":now": _n(now_ms),
                },
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def save_refreshed_grant(
        self, session: Session, *, owner: str, box: SealedBox, expires_at: datetime, obtained_at: datetime
    ) -> bool:
        """Store the new grant and release the lease, only if we still hold it and the session
        still exists (a logout during the refresh is never undone)."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(f"SESSION#{session.id}", "SESSION"),
                UpdateExpression="SET grant_box = :box, grant_expires_at = :exp, grant_version = :next, "
                "grant_obtained_at = :got, due_day = :day, due_at = :exp "
                "REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :o",
                ExpressionAttributeValues={
                    ":box": _box(box),
                    ":exp": _s(iso(expires_at)),
                    ":next": _n(session.grant_version + 1),
                    ":o": _s(owner),
                    ":day": _s(_due_day(expires_at)),
                    ":got": _s(iso(obtained_at)),
                },
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_lease(self, session_id: str, *, owner: str) -> None:
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(f"SESSION#{session_id}", "SESSION"),
                UpdateExpression="REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :o",
                ExpressionAttributeValues={":o": _s(owner)},
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            pass

    def mark_reauth_required(self, session_id: str, *, owner: str) -> bool:
        """The grant is dead at Figma: drop its ciphertext and leave the refresh index."""
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(f"SESSION#{session_id}", "SESSION"),
                UpdateExpression="SET grant_status = :r REMOVE grant_box, due_day, due_at, lease_owner, lease_until",
                ConditionExpression="lease_owner = :o",
                ExpressionAttributeValues={":r": _s(REAUTH_REQUIRED), ":o": _s(owner)},
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def due_pages(self, *, start: datetime, end: datetime) -> Iterator[list[Session]]:
        """Active grants expiring in [start, end], a query page at a time, via the day-bucketed
        index: items read grow with the number expiring, never with the table (no scan)."""
        day = start.date()
        while day <= end.date():
            kwargs: dict[str, Any] = {}
            while True:
                answer = self.db.query(
                    TableName=self.table,
                    IndexName=BY_REFRESH_DUE,
                    KeyConditionExpression="due_day = :d AND due_at BETWEEN :a AND :b",
                    ExpressionAttributeValues={":d": _s(day.isoformat()), ":a": _s(iso(start)), ":b": _s(iso(end))},
                    **kwargs,
                )
                yield [_session_from(item) for item in answer.get("Items", [])]
                if "LastEvaluatedKey" not in answer:
                    break
                kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
            day = day.fromordinal(day.toordinal() + 1)

    # -- token-mode tickets ------------------------------------------------------------

    def redeem_ticket(self, ticket_hash: str) -> Ticket | None:
        """Consume a ticket atomically (a second redemption finds nothing)."""
        answer = self.db.delete_item(
            TableName=self.table, Key=_key(f"TICKET#{ticket_hash}", "TICKET"), ReturnValues="ALL_OLD"
        )
        item = answer.get("Attributes")
        if not item:
            return None
        return Ticket(
            ticket_hash=ticket_hash,
            session_id=item["session_id"]["S"],
            app_challenge=item["app_challenge"]["S"],
            sealed_token=item["sealed_token"]["B"],
            expires_at=parse_iso(item["expires_at"]["S"]),
        )

    def activate_session(self, session_id: str) -> bool:
        try:
            self.db.update_item(
                TableName=self.table,
                Key=_key(f"SESSION#{session_id}", "SESSION"),
                UpdateExpression="SET activated = :t",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":t": {"BOOL": True}},
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True


# -- item mapping ----------------------------------------------------------------------


def _s(value: str) -> dict[str, Any]:
    return {"S": value}


def _n(value: int) -> dict[str, Any]:
    return {"N": str(value)}


def _l(values: tuple[str, ...]) -> dict[str, Any]:
    return {"L": [_s(v) for v in values]}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": _s(pk), "sk": _s(sk)}


def _box(box: SealedBox) -> dict[str, Any]:
    return {"M": {"k": {"B": box.encrypted_key}, "n": {"B": box.nonce}, "c": {"B": box.ciphertext}}}


def _due_day(moment: datetime) -> str:
    return moment.date().isoformat()


def _session_item(s: Session) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": _s(f"SESSION#{s.id}"),
        "sk": _s("SESSION"),
        "user_id": _s(s.user_id),
        "user_key": _s(f"USER#{s.user_id}"),
        "created_at": _s(iso(s.created_at)),
        "expires_at": _s(iso(s.expires_at)),
        "ttl": _n(int(s.expires_at.timestamp())),
        "profile": {
            "M": {"handle": _s(s.profile.handle), "email": _s(s.profile.email), "img_url": _s(s.profile.img_url)}
        },
        "scopes": _l(s.scopes),
        "grant_status": _s(s.grant_status),
        "grant_version": _n(s.grant_version),
        "activated": {"BOOL": s.activated},
    }
    if s.grant_box is not None and s.grant_expires_at is not None:
        item["grant_box"] = _box(s.grant_box)
        item["grant_expires_at"] = _s(iso(s.grant_expires_at))
        if s.grant_obtained_at is not None:  # set by refreshes only (login grants don't count)
            item["grant_obtained_at"] = _s(iso(s.grant_obtained_at))
        item["due_day"] = _s(_due_day(s.grant_expires_at))
        item["due_at"] = _s(iso(s.grant_expires_at))
    return item


def _session_from(item: dict[str, Any]) -> Session:
    profile = item["profile"]["M"]
    box = None
    if "grant_box" in item:
        m = item["grant_box"]["M"]
        box = SealedBox(m["k"]["B"], m["n"]["B"], m["c"]["B"])
    return Session(
        id=item["pk"]["S"].removeprefix("SESSION#"),
        user_id=item["user_id"]["S"],
        created_at=parse_iso(item["created_at"]["S"]),
        expires_at=parse_iso(item["expires_at"]["S"]),
        profile=Profile(profile["handle"]["S"], profile["email"]["S"], profile["img_url"]["S"]),
        scopes=tuple(v["S"] for v in item["scopes"]["L"]),
        grant_status=item["grant_status"]["S"],
        grant_box=box,
        grant_expires_at=parse_iso(item["grant_expires_at"]["S"]) if "grant_expires_at" in item else None,
        grant_version=int(item["grant_version"]["N"]),
        grant_obtained_at=parse_iso(item["grant_obtained_at"]["S"]) if "grant_obtained_at" in item else None,
        lease_until_ms=int(item.get("lease_until", {}).get("N", "0")),
        activated=item.get("activated", {}).get("BOOL", True),
    )


def _ticket_item(t: Ticket) -> dict[str, Any]:
    return {
        "pk": _s(f"TICKET#{t.ticket_hash}"),
        "sk": _s("TICKET"),
        "session_id": _s(t.session_id),
        "app_challenge": _s(t.app_challenge),
        "sealed_token": {"B": t.sealed_token},
        "expires_at": _s(iso(t.expires_at)),
        "ttl": _n(int(t.expires_at.timestamp())),
    }


__all__ = ["Store", "Session", "Profile", "LoginTransaction", "Ticket", "ACTIVE", "REAUTH_REQUIRED"]
