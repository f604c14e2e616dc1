"""The connection: one item per user (``CONN#<user id>`` / ``CONN``) with the profile, the
scopes, the KMS-sealed grant and its refresh state and who joined it last. Its partition also
holds the user's rate-limit ledger (``CONN#<user id>`` / ``RATELIMITS``: an item of its own, so it
outlives the connection, as Figma's count does, and is read with it in one BatchGetItem) and the
user's webhooks (``store/webhooks.py``). Here are their keys and shapes, the updates a sign-in
makes to the connection (``store/signin.py`` and ``store/devices.py`` put them in their
transactions), its reads and deletes, the ledger's writes, the refresh engine's writes (the
lease, the refreshed grant, a dead grant, the due index) and the scheduler's pause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from figma_auth.records import ACTIVE, REAUTH_REQUIRED, Connection, Profile, RateLimit, Session
from figma_auth.store.codec import key, marshal, unmarshal, values
from figma_auth.store.table import BY_LISTING, BY_REFRESH_DUE, Kind, Table
from figma_auth.times import iso, parse_iso
from figma_auth.vault import SealedBox

if TYPE_CHECKING:  # built in the functions below, which import them: see figma_auth.store
    from figma_auth.records.completion import DeviceApproval
    from figma_auth.records.listing import ConnectionsPage, ListedAt

MAX_RATE_LIMITS = 50  # entries one user's ledger holds (a job over many files limited by bursts)
CONNECTION_GRACE = timedelta(days=2)  # after its last session: time for the reconciliation to end it
RATE_LIMIT_PREFIX = "rl#"  # the ledger's attributes: "rl#<tier>#<scope>", one per entry
RATE_LIMITS = "RATELIMITS"  # the ledger's sort key, in the connection's partition
CONNECTION = Kind("CONN")  # by user id; its partition also holds the ledger and the webhooks (store/webhooks.py)
LISTED = "CONN"  # every connection's ``listing``: the by_listing index's one partition
FILTERED_READ = 1000  # index items one filtered page reads at most (a page stays one Query)


def ledger_key(user_id: str) -> dict[str, Any]:
    """The user's rate-limit ledger: beside the connection, not on it (it outlives it)."""
    return key(CONNECTION.pk(user_id), RATE_LIMITS)


def connection_keys(user_id: str) -> list[dict[str, Any]]:
    """What a read of the user's connection asks for: the connection and its ledger."""
    return [CONNECTION.key(user_id), ledger_key(user_id)]


def connection_in(found: dict[tuple[str, str], dict[str, Any]], user_id: str) -> Connection | None:
    """The user's connection, with its ledger's entries, among items read by (pk, sk)."""
    pk = CONNECTION.pk(user_id)
    item = found.get((pk, CONNECTION.name))
    return connection_from(item, found.get((pk, RATE_LIMITS))) if item else None


def grant_box_value(sealed: SealedBox) -> dict[str, bytes]:
    return {"k": sealed.encrypted_key, "n": sealed.nonce, "c": sealed.ciphertext}


def grant_box_from(value: dict[str, Any]) -> SealedBox:
    return SealedBox(bytes(value["k"]), bytes(value["n"]), bytes(value["c"]))


def due_day(moment: datetime) -> str:
    return moment.date().isoformat()


def connection_item(c: Connection, *, ttl: datetime | None) -> dict[str, Any]:
    """A whole connection item, as a sign-in leaves it (the local stack seeds these)."""
    if c.grant_box is None or c.grant_expires_at is None:
        raise ValueError("a stored connection has a grant or is reauth_required")
    return CONNECTION.item(
        c.user_id,
        handle=c.profile.handle,
        email=c.profile.email,
        img_url=c.profile.img_url,
        scopes=list(c.scopes),
        grant_status=c.status,
        grant_expires_at=iso(c.grant_expires_at),
        due_day=due_day(c.grant_expires_at),
        due_at=iso(c.grant_expires_at),
        version=c.version,
        signed_in_ms=c.signed_in_ms,
        created_at=iso(c.created_at or datetime.fromtimestamp(c.signed_in_ms / 1000, UTC)),
        listing=LISTED,
        touched="seed",
        ttl=int(ttl.timestamp()) if ttl else None,
        grant_box=grant_box_value(c.grant_box),
    )


def connection_from(item: dict[str, Any], ledger: dict[str, Any] | None = None) -> Connection:
    """The connection ``item`` holds; its rate limits are ``ledger``'s (none when not read)."""
    return Connection(
        user_id=CONNECTION.ident(item["pk"]),
        profile=Profile(item.get("handle", ""), item.get("email", ""), item.get("img_url", "")),
        scopes=tuple(item.get("scopes", ())),
        status=item.get("grant_status", REAUTH_REQUIRED),
        grant_box=grant_box_from(item["grant_box"]) if "grant_box" in item else None,
        grant_expires_at=parse_iso(item["grant_expires_at"]) if "grant_expires_at" in item else None,
        grant_obtained_at=parse_iso(item["grant_obtained_at"]) if "grant_obtained_at" in item else None,
        version=int(item.get("version", 1)),
        signed_in_ms=int(item.get("signed_in_ms", 0)),
        lease_until_ms=int(item.get("lease_until", 0)),
        revoked_scopes=tuple(item.get("revoked_scopes", ())),
        rate_limits=tuple(rate_limit_from(v) for k, v in (ledger or {}).items() if k.startswith(RATE_LIMIT_PREFIX)),
        created_at=parse_iso(item["created_at"]) if "created_at" in item else None,
    )


def listed_at(item: dict[str, Any]) -> ListedAt:
    from figma_auth.records.listing import ListedAt

    return ListedAt(str(item["created_at"]), CONNECTION.ident(item["pk"]))


def listing_start(after: ListedAt) -> dict[str, Any]:
    """The by_listing index's ExclusiveStartKey for the place ``after`` names."""
    return {
        **CONNECTION.key(after.user_id),
        **marshal(listing=LISTED, created_at=after.created_at),
    }


# -- the rate-limit ledger: one attribute per entry on the user's RATELIMITS item ----------------


def rate_limit_attribute(limit: RateLimit) -> str:
    return RATE_LIMIT_PREFIX + limit.key


def rate_limit_value(limit: RateLimit) -> dict[str, Any]:
    return {
        "tier": limit.tier,
        "scope": limit.scope,
        "until": iso(limit.until),
        "until_ms": int(limit.until.timestamp() * 1000),
        "type": limit.type,
        "plan_tier": limit.plan_tier,
        "upgrade_link": limit.upgrade_link,
    }


def rate_limit_from(value: dict[str, Any]) -> RateLimit:
    return RateLimit(
        tier=int(value["tier"]),
        scope=str(value["scope"]),
        until=parse_iso(value["until"]),
        type=value.get("type"),
        plan_tier=value.get("plan_tier"),
        upgrade_link=value.get("upgrade_link"),
    )


# -- what a sign-in writes on the connection (inside sign-in's and device delivery's transactions) --


def grant_values(c: Connection) -> dict[str, Any]:
    """The values a sign-in's new grant puts on the connection (``replace_grant_update``'s placeholders)."""
    if c.grant_box is None or c.grant_expires_at is None:
        raise ValueError("a sign-in always brings a grant")
    return {
        "h": c.profile.handle,
        "e": c.profile.email,
        "i": c.profile.img_url,
        "sc": list(c.scopes),
        "st": ACTIVE,
        "box": grant_box_value(c.grant_box),
        "exp": iso(c.grant_expires_at),
        "day": due_day(c.grant_expires_at),
        "t": c.signed_in_ms,
    }


def joined(session: Session | None, device: DeviceApproval | None) -> dict[str, Any]:
    """What a sign-in leaves on the connection: the marker of who joined it last, and how long
    it must live at least (its newest session, or the session a device will poll for), plus
    CONNECTION_GRACE: the scheduled reconciliation deletes a connection whose sessions expired
    after deleting its webhooks at Figma with its token (DynamoDB's TTL would take the token first)."""
    if session is not None:
        return {
            "now": iso(session.created_at),
            "values": {"touch": session.id, "ttl": int((session.expires_at + CONNECTION_GRACE).timestamp())},
        }
    if device is None:
        raise ValueError("a sign-in creates a session or approves a device")
    return {
        "now": iso(device.now),
        "values": {
            "touch": f"device:{device.device_hash}",
            "ttl": int((device.lives_until + CONNECTION_GRACE).timestamp()),
        },
    }


def connection_update(
    table: str,
    user_id: str,
    set_part: str,
    remove_part: str,
    condition: str,
    named: dict[str, Any],
    offline: bool,
) -> dict[str, Any]:
    """A transaction's Update of a connection. An online connection lives as long as its
    newest session (``ttl``); an offline one (OFFLINE_ACCESS) until it is disconnected."""
    if offline:
        named = {k: v for k, v in named.items() if k != "ttl"}
        remove_part = (remove_part + ", #ttl") if remove_part else "REMOVE #ttl"
    else:
        set_part += ", #ttl = :ttl"
    return {
        "Update": {
            "TableName": table,
            "Key": CONNECTION.key(user_id),
            "UpdateExpression": f"{set_part} {remove_part}".strip(),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": values(named),
        }
    }


def replace_grant_update(table: str, c: Connection, joined_marks: dict[str, Any], offline: bool) -> dict[str, Any]:
    """A transaction's Update putting a sign-in's grant on the user's connection (made if new),
    unless a sign-in that finished later put its own; any lease in flight is dropped.
    ``joined_marks``: what ``joined`` made."""
    return connection_update(
        table,
        c.user_id,
        "SET handle = :h, email = :e, img_url = :i, scopes = :sc, grant_status = :st, grant_box = :box, "
        "grant_expires_at = :exp, due_day = :day, due_at = :exp, signed_in_ms = :t, "
        "version = if_not_exists(version, :zero) + :one, created_at = if_not_exists(created_at, :now), "
        "listing = :listed, touched = :touch",
        "REMOVE grant_obtained_at, lease_owner, lease_until, revoked_scopes",
        "attribute_not_exists(signed_in_ms) OR signed_in_ms < :t",
        {
            **grant_values(c),
            "zero": 0,
            "one": 1,
            "now": joined_marks["now"],
            "listed": LISTED,
            **joined_marks["values"],
        },
        offline,
    )


def keep_grant_update(table: str, user_id: str, joined_values: dict[str, Any], offline: bool) -> dict[str, Any]:
    """A transaction's Update marking who joined the user's existing connection (its grant as is)."""
    return connection_update(table, user_id, "SET touched = :touch", "", "attribute_exists(pk)", joined_values, offline)


class ConnectionsTable(Table):
    def get_connection(self, user_id: str) -> Connection | None:
        """The user's connection with its rate-limit ledger, in one consistent BatchGetItem."""
        return connection_in(self._get_many(connection_keys(user_id)), user_id)

    def delete_connection(self, user_id: str, *, touched: str | None = None) -> bool:
        """Delete the connection (its grant with it); with ``touched``, only if no sign-in
        joined it since it was read."""
        found = CONNECTION.key(user_id)
        if touched is None:
            return self._delete(found)
        if not touched:  # read without a marker: deleted only while no sign-in has left one
            return self._delete(found, "attribute_not_exists(touched)")
        return self._delete(found, "touched = :t", t=touched)

    def connection_scopes(self, user_id: str) -> tuple[str, ...] | None:
        """The scopes the user's connection holds (None: no connection)."""
        found = self._connection_attribute(user_id, "scopes")
        return tuple(found.get("scopes", ())) if found is not None else None

    def connection_touched(self, user_id: str) -> str | None:
        """The marker the last sign-in left on the connection (None: no connection)."""
        found = self._connection_attribute(user_id, "touched")
        return str(found.get("touched", "")) if found is not None else None

    def _connection_attribute(self, user_id: str, name: str) -> dict[str, Any] | None:
        """One attribute of the user's connection, read consistently ({} without it; None: no connection)."""
        item = self.db.get_item(
            TableName=self.table, Key=CONNECTION.key(user_id), ConsistentRead=True, ProjectionExpression=name
        ).get("Item")  # {} for a connection holding none of the projected attributes
        return unmarshal(item) if item is not None else None

    # -- the refresh engine's writes ---------------------------------------------------------------

    def acquire_lease(self, user_id: str, *, version: int, owner: str, now_ms: int, lease_ms: int) -> bool:
        """Take the refresh lease if the grant is still at ``version`` and nobody holds a live lease."""
        return self._update(
            CONNECTION.key(user_id),
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
            CONNECTION.key(conn.user_id),
            "SET grant_box = :box, grant_expires_at = :exp, version = :next, grant_obtained_at = :got, "
            f"due_day = :day, due_at = :exp{extra} REMOVE lease_owner, lease_until",
            "lease_owner = :o",
            box=grant_box_value(box),
            exp=iso(expires_at),
            next=conn.version + 1,
            o=owner,
            day=due_day(expires_at),
            got=iso(obtained_at),
            **narrowing,
        )

    def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
        """Remember Figma's 429 in the user's ledger (made if new), unless an entry for the same
        tier and scope is already in force (then False: someone recorded it first). Entries that
        expired are removed in the same write, and the ledger keeps at most MAX_RATE_LIMITS (the
        ones ending soonest go first). The ledger's ``ttl`` only moves later: it is its latest
        entry's end, so DynamoDB deletes it once nothing in it holds."""
        live = [r for r in conn.rate_limits if r.until > now and r.key != limit.key]
        kept = sorted(live, key=lambda r: r.until)[-(MAX_RATE_LIMITS - 1) :] if live else []
        gone = [r for r in conn.rate_limits if r.key != limit.key and r not in kept]
        names = {"#e": rate_limit_attribute(limit), **{f"#g{i}": rate_limit_attribute(r) for i, r in enumerate(gone)}}
        remove = (" REMOVE " + ", ".join(f"#g{i}" for i in range(len(gone)))) if gone else ""
        free = "(attribute_not_exists(#e) OR #e.until_ms <= :now)"
        entry = {"e": rate_limit_value(limit), "now": int(now.timestamp() * 1000)}
        ends = int(max([limit.until, *(r.until for r in kept)]).timestamp()) + 1
        found = ledger_key(conn.user_id)
        if self._update(
            found,
            "SET #e = :e, #ttl = :ttl" + remove,
            f"{free} AND (attribute_not_exists(#ttl) OR #ttl <= :ttl)",
            names={**names, "#ttl": "ttl"},
            ttl=ends,
            **entry,
        ):
            return True
        # Either the entry is taken, or the ledger already lives longer (an entry we did not
        # read ends later): then its ttl stays.
        return self._update(found, "SET #e = :e" + remove, free, names=names, **entry)

    def delete_rate_limits(self, user_id: str) -> None:
        """The user's ledger, gone (their explicit clear): the next call asks Figma again."""
        self._delete(ledger_key(user_id))

    def release_lease(self, user_id: str, *, owner: str) -> None:
        self._update(CONNECTION.key(user_id), "REMOVE lease_owner, lease_until", "lease_owner = :o", o=owner)

    def mark_reauth_required(self, user_id: str, *, owner: str) -> bool:
        """The grant is dead at Figma: drop its ciphertext and leave the refresh index."""
        return self._update(
            CONNECTION.key(user_id),
            "SET grant_status = :r REMOVE grant_box, due_day, due_at, lease_owner, lease_until",
            "lease_owner = :o",
            r=REAUTH_REQUIRED,
            o=owner,
        )

    def connection_page(self, *, limit: int, after: ListedAt | None, status: str | None) -> ConnectionsPage:
        """Up to ``limit`` connections, newest first, after ``after``; with ``status``, only those
        whose grant is in it. One Query of the by_listing index (sessions are not in it), then
        their ledgers in one BatchGetItem. A filtered page reads at most FILTERED_READ index items,
        so it may hold fewer than ``limit`` (even none) and still name a next page."""
        from figma_auth.records.listing import ConnectionsPage

        query: dict[str, Any] = {
            "IndexName": BY_LISTING,
            "KeyConditionExpression": "listing = :l",
            "ScanIndexForward": False,
            "Limit": FILTERED_READ if status else limit + 1,  # one more: is there a next page?
        }
        named: dict[str, Any] = {"l": LISTED}
        if status:
            query["FilterExpression"], named["s"] = "grant_status = :s", status
        if after is not None:
            query["ExclusiveStartKey"] = listing_start(after)
        answer = self.db.query(TableName=self.table, ExpressionAttributeValues=values(named), **query)
        items = [unmarshal(item) for item in answer.get("Items", [])]
        more = len(items) > limit or "LastEvaluatedKey" in answer
        items = items[:limit]
        end: dict[str, Any] | None = items[-1] if more and items else None
        if more and len(items) < limit:  # a page that ran out of reads (a filter's, or 1 MB): go on from there
            end = unmarshal(answer["LastEvaluatedKey"])
        ledgers = self._get_many([ledger_key(CONNECTION.ident(i["pk"])) for i in items], consistent=False)
        found = tuple(connection_from(i, ledgers.get((i["pk"], RATE_LIMITS))) for i in items)
        return ConnectionsPage(found, listed_at(end) if end else None)

    def list_unlisted_connections(self, *, now: datetime) -> int:
        """The operator's one-off after upgrading (``admin index-connections``): every connection
        written before the listing existed gets its ``listing`` (and a ``created_at``, if it had
        none). A Scan, so never on a request path; how many it listed."""
        scan: dict[str, Any] = {
            "FilterExpression": "sk = :c AND attribute_not_exists(listing)",
            "ProjectionExpression": "pk",
            "ExpressionAttributeValues": values({"c": CONNECTION.name}),
        }
        listed = 0
        while True:
            answer = self.db.scan(TableName=self.table, **scan)
            for item in answer.get("Items", []):
                listed += self._update(
                    CONNECTION.key(CONNECTION.ident(unmarshal(item)["pk"])),
                    "SET listing = :l, created_at = if_not_exists(created_at, :now)",
                    "attribute_exists(pk)",
                    l=LISTED,
                    now=iso(now),
                )
            if "LastEvaluatedKey" not in answer:
                return listed
            scan["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def due_pages(self, *, start: datetime, end: datetime) -> Iterator[list[Connection]]:
        """Active connections whose grant expires in [start, end], a query page at a time, via
        the day-bucketed index: items read grow with the number due, never with the table."""
        day = start.date()
        while day <= end.date():
            for page in self._query_pages(
                IndexName=BY_REFRESH_DUE,
                KeyConditionExpression="due_day = :d AND due_at BETWEEN :a AND :b",
                ExpressionAttributeValues=values({"d": day.isoformat(), "a": iso(start), "b": iso(end)}),
            ):
                yield [connection_from(item) for item in page]
            day = day.fromordinal(day.toordinal() + 1)

    # -- the scheduler's pause (Figma's Retry-After outlives a batch) ----------------------------

    def scheduler_paused_until(self) -> datetime | None:
        answer = self.db.get_item(TableName=self.table, Key=key("SCHEDULER", "PAUSE"), ConsistentRead=True)
        return parse_iso(unmarshal(answer["Item"])["until"]) if "Item" in answer else None

    def pause_scheduler(self, until: datetime) -> None:
        item = marshal(pk="SCHEDULER", sk="PAUSE", until=iso(until), ttl=int(until.timestamp()) + 86400)
        self.db.put_item(TableName=self.table, Item=item)
