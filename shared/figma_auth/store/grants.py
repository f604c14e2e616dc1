"""The connection's grant as the refresh engine and the scheduler change it: the lease, the
refreshed grant, a dead grant, the due index, and the scheduler's pause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from figma_auth import items
from figma_auth.records import ACTIVE, REAUTH_REQUIRED, Connection, RateLimit
from figma_auth.store.table import Table
from figma_auth.times import iso, parse_iso
from figma_auth.vault import SealedBox

MAX_RATE_LIMITS = 50  # entries one connection's ledger holds (a job over many limited files)


class GrantsTable(Table):
    def acquire_lease(self, user_id: str, *, version: int, owner: str, now_ms: int, lease_ms: int) -> bool:
        """Take the refresh lease if the grant is still at ``version`` and nobody holds a live lease."""
        return self._update(
            items.connection_key(user_id),
            "SET lease_owner = :o, lease_until = :until",
            "version = :v AND grant_status = :active AND (attribute_not_exists(lease_until) OR lease_until < :now)",
            o=owner,
            until=now_ms + lease_ms,
            v=version,
            active=ACTIVE,
            now=now_ms,
        )

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
        """Store the new grant and release the lease, only while we hold it (a sign-in, a
        disconnect or a logout during the refresh is never undone). ``narrowed_to``: the scopes
        Figma's refresh still grants, when fewer than the connection held."""
        narrowing: dict[str, Any] = {}
        extra = ""
        if narrowed_to is not None:
            gone = [s for s in conn.scopes if s not in narrowed_to]
            narrowing = {"sc": list(narrowed_to), "rv": list(dict.fromkeys((*conn.revoked_scopes, *gone)))}
            extra = ", scopes = :sc, revoked_scopes = :rv"
        return self._update(
            items.connection_key(conn.user_id),
            "SET grant_box = :box, grant_expires_at = :exp, version = :next, grant_obtained_at = :got, "
            f"due_day = :day, due_at = :exp{extra} REMOVE lease_owner, lease_until",
            "lease_owner = :o",
            box=items.box(box),
            exp=iso(expires_at),
            next=conn.version + 1,
            o=owner,
            day=items.due_day(expires_at),
            got=iso(obtained_at),
            **narrowing,
        )

    def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
        """Remember Figma's 429 on the connection, unless an entry for the same tier and scope
        is already in force (then False: someone recorded it first). Entries that expired are
        removed in the same write, and the ledger keeps at most MAX_RATE_LIMITS (the ones
        ending soonest go first)."""
        live = [r for r in conn.rate_limits if r.until > now and r.key != limit.key]
        kept = sorted(live, key=lambda r: r.until)[-(MAX_RATE_LIMITS - 1) :] if live else []
        gone = [r for r in conn.rate_limits if r.key != limit.key and r not in kept]
        names = {"#e": items.rate_limit_attribute(limit)}
        names.update({f"#g{i}": items.rate_limit_attribute(r) for i, r in enumerate(gone)})
        remove = (" REMOVE " + ", ".join(f"#g{i}" for i in range(len(gone)))) if gone else ""
        return self._update(
            items.connection_key(conn.user_id),
            "SET #e = :e" + remove,
            "attribute_exists(pk) AND (attribute_not_exists(#e) OR #e.until_ms <= :now)",
            names=names,
            e=items.rate_limit_value(limit),
            now=int(now.timestamp() * 1000),
        )

    def release_lease(self, user_id: str, *, owner: str) -> None:
        self._update(items.connection_key(user_id), "REMOVE lease_owner, lease_until", "lease_owner = :o", o=owner)

    def mark_reauth_required(self, user_id: str, *, owner: str) -> bool:
        """The grant is dead at Figma: drop its ciphertext and leave the refresh index."""
        return self._update(
            items.connection_key(user_id),
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
            for page in self._query_pages(
                IndexName=items.BY_REFRESH_DUE,
                KeyConditionExpression="due_day = :d AND due_at BETWEEN :a AND :b",
                ExpressionAttributeValues=items.values({"d": day.isoformat(), "a": iso(start), "b": iso(end)}),
            ):
                yield [items.connection_from(item) for item in page]
            day = day.fromordinal(day.toordinal() + 1)

    # -- the scheduler's pause (Figma's Retry-After outlives a batch) ----------------------------

    def scheduler_paused_until(self) -> datetime | None:
        answer = self.db.get_item(TableName=self.table, Key=items.key("SCHEDULER", "PAUSE"), ConsistentRead=True)
        return parse_iso(items.unmarshal(answer["Item"])["until"]) if "Item" in answer else None

    def pause_scheduler(self, until: datetime) -> None:
        item = items.marshal(pk="SCHEDULER", sk="PAUSE", until=iso(until), ttl=int(until.timestamp()) + 86400)
        self.db.put_item(TableName=self.table, Item=item)
