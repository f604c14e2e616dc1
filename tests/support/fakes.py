"""In-memory stand-ins for the store, each typed against the Protocols of the use cases that
take it, and each keeping the DynamoDB store's rules for the calls it answers. The contract
suite (tests/contract) runs the same cases against every one of them and against the real
``Store`` on DynamoDB Local: a rule kept here is a rule the table keeps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from figma_auth import tokens
from figma_auth.engine import LEASE_MS
from figma_auth.records import ACTIVE, REAUTH_REQUIRED, Connection, Profile, RateLimit, Session
from figma_auth.records.completion import Ticket
from figma_auth.records.devices import DeviceCode
from figma_auth.records.listing import ConnectionsPage, ListedAt
from figma_auth.records.signin import LoginTransaction
from figma_auth.records.webhooks import Webhook, WebhookRegistration
from figma_auth.store.webhooks import Claim
from figma_auth.times import iso
from figma_auth.tokens import new_session_token
from figma_auth.vault import SealedBox

START = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


# -- sign-in: login transactions and token mode's tickets ------------------------------------------


@dataclass
class Transactions:
    """put_transaction / take_transaction: a transaction is taken once, by its binding, in time;
    the item keeps no return URL (they travel in the browser's cookie), as the table's. Another
    binding takes nothing and leaves it to its browser (the table's delete is conditional on
    the binding); an expired one is spent by its own browser's attempt all the same."""

    items: dict[str, LoginTransaction] = field(default_factory=dict)
    put: list[LoginTransaction] = field(default_factory=list)  # what authorize handed over
    taken: int = 0

    def put_transaction(self, tx: LoginTransaction) -> None:
        self.put.append(tx)
        self.items[tx.state_hash] = replace(tx, success_url="", failure_url="")

    def take_transaction(self, state_hash: str, binding: str, now: datetime) -> LoginTransaction | None:
        self.taken += 1
        tx = self.items.get(state_hash)
        if tx is None or tx.binding != binding:
            return None
        del self.items[state_hash]
        return tx if tx.expires_at > now else None


@dataclass
class Tickets:
    """Token mode's tickets and the sessions they name: a ticket is redeemed once; a session
    deleted cannot be activated (the table's update needs the item)."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)
    activation_fails: bool = False

    def redeem_ticket(self, ticket_hash: str) -> Ticket | None:
        return self.tickets.pop(ticket_hash, None)

    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool:
        self.deleted.append(session_id)
        return True

    def activate_session(self, session_id: str) -> bool:
        if self.activation_fails or session_id in self.deleted:
            return False
        self.activated.append(session_id)
        return True


# -- the refresh engine's lease on one connection ----------------------------------------------------


@dataclass
class Clock:
    """Wall clock and monotonic clock that only move when someone sleeps."""

    now: datetime = START
    slept: float = 0.0
    on_sleep: list[Any] = field(default_factory=list)  # callbacks run once, at the next sleep

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.slept

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=seconds)
        while self.on_sleep:
            self.on_sleep.pop(0)()


class FakeStore:
    """One connection item with the conditional semantics of the real Store: a lease taken at
    the grant's version while none is live (held until its millisecond), a refreshed grant or
    a dead one stored only by the lease's owner, who alone releases it."""

    def __init__(self, conn: Connection, clock: Clock) -> None:
        self.conn: Connection | None = conn
        self.owner: str | None = None
        self.clock = clock
        self.saves = 0
        self.ledger = Recorded()  # beside the connection: it outlives it

    def stored(self) -> Connection:
        """The connection as stored now (the test's precondition: there is one)."""
        assert self.conn is not None
        return self.conn

    def _ms(self) -> int:
        return int(self.clock.now.timestamp() * 1000)

    def _stored(self, user_id: str) -> Connection | None:
        return self.conn if self.conn is not None and self.conn.user_id == user_id else None

    def get_connection(self, user_id: str) -> Connection | None:
        """The connection with its ledger's entries (read together, as the real store does)."""
        found = self._stored(user_id)
        return replace(found, rate_limits=tuple(self.ledger.entries.values())) if found else None

    def delete_connection(self, user_id: str, *, touched: str | None = None) -> bool:
        """The connection goes; its user's ledger stays."""
        if self._stored(user_id) is not None:
            self.conn = None
        return True

    def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
        return self.ledger.record_rate_limit(conn, limit, now=now)

    def delete_rate_limits(self, user_id: str) -> None:
        self.ledger.delete_rate_limits(user_id)

    def acquire_lease(self, user_id: str, *, version: int, owner: str, now_ms: int, lease_ms: int) -> bool:
        c = self._stored(user_id)
        if c is None or c.version != version or c.status != ACTIVE or c.lease_until_ms >= now_ms:
            return False
        self.owner, self.conn = owner, replace(c, lease_until_ms=now_ms + lease_ms)
        return True

    def save_refreshed_grant(
        self,
        conn: Connection,
        *,
        owner: str,
        box: SealedBox,
        expires_at: datetime,
        obtained_at: datetime,
        narrowed_to: tuple[str, ...] | None = None,
    ) -> bool:
        stored = self._stored(conn.user_id)
        if stored is None or self.owner != owner:
            return False
        narrowing: dict[str, Any] = {}
        if narrowed_to is not None:
            gone = [s for s in conn.scopes if s not in narrowed_to]
            narrowing = {"scopes": narrowed_to, "revoked_scopes": tuple(dict.fromkeys((*conn.revoked_scopes, *gone)))}
        self.saves += 1
        self.owner = None
        self.conn = replace(
            stored,
            grant_box=box,
            grant_expires_at=expires_at,
            grant_obtained_at=obtained_at,
            version=conn.version + 1,
            lease_until_ms=0,
            **narrowing,
        )
        return True

    def release_lease(self, user_id: str, *, owner: str) -> None:
        stored = self._stored(user_id)
        if stored is not None and self.owner == owner:
            self.owner, self.conn = None, replace(stored, lease_until_ms=0)

    def mark_reauth_required(self, user_id: str, *, owner: str) -> bool:
        stored = self._stored(user_id)
        if stored is None or self.owner != owner:
            return False
        self.owner = None
        self.conn = replace(stored, status=REAUTH_REQUIRED, grant_box=None, lease_until_ms=0)
        return True

    def peer_takes_lease(self) -> None:
        assert self.conn is not None
        self.owner = "peer"
        self.conn = replace(self.conn, lease_until_ms=self._ms() + LEASE_MS)

    def peer_finishes(self) -> None:
        assert self.conn is not None and self.conn.grant_expires_at is not None
        self.owner = None
        self.conn = replace(
            self.conn,
            version=self.conn.version + 1,
            grant_box=SealedBox(b"k", b"n", b"peer|refresh-1"),
            grant_expires_at=self.clock.now + timedelta(hours=1),
            grant_obtained_at=self.clock.now,
            lease_until_ms=0,
        )


# -- sessions and the user's connection ------------------------------------------------------------------


@dataclass
class MemoryStore:
    """Sessions and connections as the sessions use case reads and deletes them. A delete
    without a condition answers True whether or not the item was there (DynamoDB's DeleteItem
    does); with one (the session's user, the connection's marker) only when it held."""

    sessions: dict[str, Session] = field(default_factory=dict)
    connections: dict[str, tuple[Connection, str]] = field(default_factory=dict)  # user → (conn, touched)
    deleted_connections: list[str] = field(default_factory=list)
    joins_while_listing: bool = False

    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]:
        conn = self.connections.get(user_id)
        return self.sessions.get(session_id), conn[0] if conn else None

    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool:
        found = self.sessions.get(session_id)
        if user_id is not None and (found is None or found.user_id != user_id):
            return False
        self.sessions.pop(session_id, None)
        return True

    def user_sessions(self, user_id: str) -> list[Session]:
        found = [s for s in self.sessions.values() if s.user_id == user_id]
        if self.joins_while_listing and user_id in self.connections:
            conn, _ = self.connections[user_id]
            self.connections[user_id] = (conn, "a-new-session")  # what sign_in's transaction writes
        return found

    def delete_sessions(self, ids: list[str]) -> None:
        for sid in ids:
            self.sessions.pop(sid, None)

    def connection_touched(self, user_id: str) -> str | None:
        conn = self.connections.get(user_id)
        return conn[1] if conn else None

    def delete_connection(self, user_id: str, *, touched: str | None = None) -> bool:
        conn = self.connections.get(user_id)
        if touched is not None and (conn is None or conn[1] != touched):
            return False
        if conn is not None:
            del self.connections[user_id]
            self.deleted_connections.append(user_id)
        return True

    def sign_in(self, user_id: str, now: datetime = START) -> str:
        """A sign-in's transaction: a new session on the user's connection, which it marks."""
        token = new_session_token(user_id)
        session = Session(tokens.hash_secret(token), user_id, now, now + timedelta(days=30))
        self.sessions[session.id] = session
        conn = Connection(user_id, Profile("Ada", "ada@example.com", ""), ("current_user:read",))
        self.connections[user_id] = (conn, session.id)
        return token


# -- device sign-in ----------------------------------------------------------------------------------------


@dataclass
class Devices:
    """An in-memory DeviceStore with the table's rules: a user code is free or not, a poll
    earlier than the interval since the last is early, an approved device is delivered once."""

    devices: dict[str, DeviceCode] = field(default_factory=dict)
    next_poll: dict[str, int] = field(default_factory=dict)
    taken_user_codes: int = 0  # the next N put_device calls find their user code in use
    delivered: list[tuple[Session, bool]] = field(default_factory=list)

    def put_device(self, device: DeviceCode) -> bool:
        in_use = any(d.user_code_hash == device.user_code_hash for d in self.devices.values())
        if self.taken_user_codes or in_use:
            self.taken_user_codes = max(0, self.taken_user_codes - 1)
            return False
        self.devices[device.device_hash] = device
        self.next_poll[device.device_hash] = 0
        return True

    def poll_device(self, device_hash: str, *, now_ms: int) -> tuple[DeviceCode | None, bool]:
        device = self.devices.get(device_hash)
        if device is None:
            return None, False
        if self.next_poll[device_hash] > now_ms + 250:
            return device, True
        self.next_poll[device_hash] = now_ms + device.interval_ms
        return device, False

    def slow_down(self, device_hash: str, *, now_ms: int, interval_ms: int) -> None:
        if device_hash in self.devices:
            self.devices[device_hash] = replace(self.devices[device_hash], interval_ms=interval_ms)
            self.next_poll[device_hash] = now_ms + interval_ms

    def deliver_device(self, device: DeviceCode, session: Session, *, offline: bool = False) -> bool:
        stored = self.devices.get(device.device_hash)
        if stored is None or stored.status != "approved":
            return False
        self.devices[device.device_hash] = replace(device, status="delivered")
        self.delivered.append((session, offline))
        return True


@dataclass
class Codes:
    """The verify page's reads: a user code looked at up to its limit, and the guessing budgets
    (each spent up to its ceiling, all or none; a refund gives back all or none)."""

    devices: dict[str, DeviceCode] = field(default_factory=dict)  # by user code hash
    views: dict[str, int] = field(default_factory=dict)
    spent: dict[str, int] = field(default_factory=dict)
    untils: list[datetime] = field(default_factory=list)

    def device_by_user_code(self, user_code_hash: str, *, max_views: int) -> tuple[DeviceCode | None, bool]:
        device = self.devices.get(user_code_hash)
        if device is None:
            return None, False
        self.views[user_code_hash] = self.views.get(user_code_hash, 0) + 1
        return (None, True) if self.views[user_code_hash] > max_views else (device, False)

    def spend_guess(self, budgets: list[tuple[str, int]], *, until: datetime) -> bool:
        self.untils.append(until)
        if any(self.spent.get(key, 0) >= ceiling for key, ceiling in budgets):
            return False
        for key, _ in budgets:
            self.spent[key] = self.spent.get(key, 0) + 1
        return True

    def refund_guess(self, keys: list[str]) -> None:
        if all(self.spent.get(key, 0) > 0 for key in keys):
            for key in keys:
                self.spent[key] -= 1


# -- rate limits ----------------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One user's ledger: record_rate_limit answers True unless an entry for the same tier and
    scope is still in force (the conditional write; one that has ended is replaced), and
    delete_rate_limits forgets every entry (the user's clear)."""

    entries: dict[str, RateLimit] = field(default_factory=dict)
    cleared: list[str] = field(default_factory=list)

    def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
        held = self.entries.get(limit.key)
        if held is not None and held.until > now:
            return False
        self.entries[limit.key] = limit
        return True

    def delete_rate_limits(self, user_id: str) -> None:
        self.cleared.append(user_id)
        self.entries.clear()


@dataclass
class Listing:
    """The backend's listing of connections: newest first (created_at descending; the same second
    by user id here, in DynamoDB's own stable order there), ``limit`` at a time after a place,
    optionally one status; each page names where the next starts, or None after the last
    connection. (DynamoDB may end a filtered page early and still name a next one: callers page
    on until None, so both keep the contract.)"""

    connections: list[Connection] = field(default_factory=list)
    pages: int = 0

    def connection_page(self, *, limit: int, after: ListedAt | None, status: str | None) -> ConnectionsPage:
        self.pages += 1
        ordered = sorted(self.connections, key=lambda c: (iso(c.created_at or START), c.user_id), reverse=True)
        if after is not None:
            ordered = [
                c for c in ordered if (iso(c.created_at or START), c.user_id) < (after.created_at, after.user_id)
            ]
        found = [c for c in ordered if status is None or c.status == status]
        page = tuple(found[:limit])
        more = len(found) > limit
        return ConnectionsPage(page, ListedAt(iso(page[-1].created_at or START), page[-1].user_id) if more else None)


# -- webhooks -----------------------------------------------------------------------------------------------------


@dataclass
class Deliveries:
    """An in-memory DeliveryStore with the real one's semantics: a key is claimed once, for a
    user whose connection exists."""

    owners: dict[str, WebhookRegistration] = field(default_factory=dict)  # webhook id -> registration
    pending: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # passcode hash -> (user, expires)
    connected: set[str] = field(default_factory=set)
    seen: dict[str, datetime] = field(default_factory=dict)

    def webhook_registration(self, webhook_id: str) -> WebhookRegistration | None:
        return self.owners.get(webhook_id)

    def pending_passcode(self, passcode_hash: str, *, now: datetime) -> str | None:
        user, expires = self.pending.get(passcode_hash, ("", now))
        return user if user and expires > now else None

    def claim_delivery(self, key: str, user_id: str, expires_at: datetime) -> Claim:
        if user_id not in self.connected:
            return "no_connection"
        if key in self.seen:
            return "seen"
        self.seen[key] = expires_at
        return "new"

    def forget_delivery(self, key: str) -> None:
        self.seen.pop(key, None)


@dataclass
class WebhookStore:
    """A user's webhooks (one per user, event and context, as the real store's slot), their
    connections, sessions and the 429s recorded on them (as Recorded), as ManageWebhooks and the
    reconciliation use them."""

    connections: dict[str, Connection] = field(default_factory=dict)
    webhooks: dict[str, list[Webhook]] = field(default_factory=dict)
    passcodes: list[tuple[str, str, datetime]] = field(default_factory=list)
    saved: list[tuple[Webhook, str]] = field(default_factory=list)
    deleted: list[tuple[str, str]] = field(default_factory=list)
    limits: list[RateLimit] = field(default_factory=list)
    sessions: dict[str, list[Session]] = field(default_factory=dict)
    passcode_hashes: dict[str, str] = field(default_factory=dict)  # webhook id -> its passcode's hash
    reads: int = 0
    slot_taken_by: Webhook | None = None  # another create of the same webhook saved first (the real store's race)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # a user without sessions given has one live then

    def put_pending_passcode(self, passcode_hash: str, user_id: str, expires_at: datetime) -> None:
        self.passcodes.append((passcode_hash, user_id, expires_at))

    def save_webhook(self, webhook: Webhook, passcode_hash: str) -> bool:
        """As the real store: refused when the user holds one for this event and context."""
        same = (webhook.event_type, webhook.context, webhook.context_id)
        if self.slot_taken_by is not None:
            self.webhooks.setdefault(webhook.user_id, []).append(self.slot_taken_by)
            self.slot_taken_by = None
        if any((w.event_type, w.context, w.context_id) == same for w in self.webhooks.get(webhook.user_id, [])):
            return False
        self.saved.append((webhook, passcode_hash))
        self.passcode_hashes[webhook.id] = passcode_hash
        self.webhooks.setdefault(webhook.user_id, []).append(webhook)
        return True

    def user_webhooks(self, user_id: str) -> list[Webhook]:
        return list(self.webhooks.get(user_id, []))

    def delete_webhook(self, user_id: str, webhook: Webhook) -> None:
        self.deleted.append((user_id, webhook.id))
        self.webhooks[user_id] = [w for w in self.webhooks.get(user_id, []) if w.id != webhook.id]

    def user_sessions(self, user_id: str) -> list[Session]:
        live = Session("s", user_id, self.now - timedelta(days=1), self.now + timedelta(days=1))
        return self.sessions.get(user_id, [live])

    def replace_passcode(
        self, user_id: str, webhook_id: str, passcode_hash: str, endpoint: str, *, now: datetime
    ) -> None:
        self.passcode_hashes[webhook_id] = passcode_hash
        self.webhooks[user_id] = [
            replace(w, endpoint=endpoint, passcode_set_at=now) if w.id == webhook_id else w
            for w in self.webhooks[user_id]
        ]

    def set_webhook_status(self, user_id: str, webhook_id: str, status: str) -> None:
        self.webhooks[user_id] = [
            replace(w, status=status) if w.id == webhook_id else w for w in self.webhooks[user_id]
        ]

    def get_connection(self, user_id: str) -> Connection | None:
        self.reads += 1
        return self.connections.get(user_id)

    def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
        if any(held.key == limit.key and held.until > now for held in self.limits):
            return False  # as Recorded: one entry per tier and scope while in force
        self.limits = [held for held in self.limits if held.key != limit.key] + [limit]
        return True

    def delete_rate_limits(self, user_id: str) -> None:
        self.limits = []  # one user's ledger, as Recorded

    def every_webhook(self) -> Iterator[tuple[str, str]]:
        for user_id, hooks in self.webhooks.items():
            for hook in hooks:
                yield hook.id, user_id
