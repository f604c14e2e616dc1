"""The connection's grant as the refresh engine and the scheduler change it: the lease, the
refreshed grant, a dead grant, the due index, and the scheduler's pause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from figma_auth import items
from figma_auth.records import ACTIVE, REAUTH_REQUIRED, Connection
from figma_auth.store.table import Table
from figma_auth.times import iso, parse_iso
from figma_auth.vault import SealedBox


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
        self, conn: Connection, *, owner: str, box: SealedBox, expires_at: datetime, obtained_at: datetime
    ) -> bool:
        """Store the new grant and release the lease, only while we hold it (a sign-in, a
        disconnect or a logout during the refresh is never undone)."""
        return self._update(
            items.connection_key(conn.user_id),
            "SET grant_box = :box, grant_expires_at = :exp, version = :next, grant_obtained_at = :got, "
            "due_day = :day, due_at = :exp REMOVE lease_owner, lease_until",
            "lease_owner = :o",
            box=items.box(box),
            exp=iso(expires_at),
            next=conn.version + 1,
            o=owner,
            day=items.due_day(expires_at),
            got=iso(obtained_at),
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
