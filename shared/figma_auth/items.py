"""DynamoDB item shapes: the only place that knows DynamoDB's attribute-value format and how
each record is laid out as an item. The store, the local stack's seeding and the bench build
items with these, so a stored item has one shape wherever it was written.

Items (``pk`` / ``sk``) are listed in ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

from figma_auth.records import (
    ACTIVE,
    CLIENTS,
    REAUTH_REQUIRED,
    Connection,
    DeviceApproval,
    DeviceCode,
    LoginTransaction,
    Profile,
    RateLimit,
    Session,
    Ticket,
    Webhook,
)
from figma_auth.times import iso, parse_iso
from figma_auth.vault import SealedBox

BY_USER = "by_user"  # GSI: user_key → the user's sessions
BY_REFRESH_DUE = "by_refresh_due"  # GSI: due_day → connections by due_at


# -- attribute values ---------------------------------------------------------------------


@functools.cache
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@functools.cache
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def marshal(**fields: Any) -> dict[str, Any]:
    """An item from plain values (None means: no such attribute)."""
    serialize = _serializer().serialize
    return {name: serialize(value) for name, value in fields.items() if value is not None}


def values(named: dict[str, Any]) -> dict[str, Any]:
    """``ExpressionAttributeValues`` for ``:name`` placeholders."""
    serialize = _serializer().serialize
    return {f":{name}": serialize(value) for name, value in named.items()}


def unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    deserialize = _deserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def connection_key(user_id: str) -> dict[str, Any]:
    return key(f"CONN#{user_id}", "CONN")


def session_key(session_id: str) -> dict[str, Any]:
    return key(f"SESSION#{session_id}", "SESSION")


def device_key(device_hash: str) -> dict[str, Any]:
    return key(f"DEVICE#{device_hash}", "DEVICE")


def cancelled_by(exc: Any, index: int) -> bool:
    """Whether a cancelled transaction failed only on item ``index``'s condition."""
    reasons = cancellation_reasons(exc)
    return (
        len(reasons) > index
        and reasons[index] == "ConditionalCheckFailed"
        and all(code in ("None", None) for i, code in enumerate(reasons) if i != index)
    )


def cancellation_reasons(exc: Any) -> list[str | None]:
    return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]


# -- login transactions and tickets -------------------------------------------------------------


def transaction_item(tx: LoginTransaction) -> dict[str, Any]:
    return marshal(
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
        widened=tx.widened or None,
        expires_at=iso(tx.expires_at),
        ttl=int(tx.expires_at.timestamp()),
    )


def transaction_from(state_hash: str, item: dict[str, Any]) -> LoginTransaction:
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
    return marshal(
        pk=f"TICKET#{t.ticket_hash}",
        sk="TICKET",
        session_id=t.session_id,
        app_challenge=t.app_challenge,
        sealed_token=t.sealed_token,
        expires_at=iso(t.expires_at),
        ttl=int(t.expires_at.timestamp()),
    )


def ticket_from(ticket_hash: str, item: dict[str, Any]) -> Ticket:
    return Ticket(
        ticket_hash=ticket_hash,
        session_id=item["session_id"],
        app_challenge=item["app_challenge"],
        sealed_token=bytes(item["sealed_token"]),
        expires_at=parse_iso(item["expires_at"]),
    )


# -- sessions -----------------------------------------------------------------------------------


def session_item(s: Session) -> dict[str, Any]:
    return marshal(
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


def session_from(item: dict[str, Any]) -> Session:
    return Session(
        id=item["pk"].removeprefix("SESSION#"),
        user_id=item["user_id"],
        created_at=parse_iso(item["created_at"]),
        expires_at=parse_iso(item["expires_at"]),
        client=item["client"] if item.get("client") in CLIENTS else "web",
        activated=item.get("activated", True),
    )


# -- connections --------------------------------------------------------------------------------


def box(sealed: SealedBox) -> dict[str, bytes]:
    return {"k": sealed.encrypted_key, "n": sealed.nonce, "c": sealed.ciphertext}


def box_from(value: dict[str, Any]) -> SealedBox:
    return SealedBox(bytes(value["k"]), bytes(value["n"]), bytes(value["c"]))


def due_day(moment: datetime) -> str:
    return moment.date().isoformat()


def connection_item(c: Connection, *, ttl: datetime | None) -> dict[str, Any]:
    """A whole connection item, as a sign-in leaves it (the local stack seeds these)."""
    if c.grant_box is None or c.grant_expires_at is None:
        raise ValueError("a stored connection has a grant or is reauth_required")
    return marshal(
        pk=f"CONN#{c.user_id}",
        sk="CONN",
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
        touched="seed",
        ttl=int(ttl.timestamp()) if ttl else None,
        grant_box=box(c.grant_box),
    )


def connection_from(item: dict[str, Any]) -> Connection:
    return Connection(
        user_id=item["pk"].removeprefix("CONN#"),
        profile=Profile(item.get("handle", ""), item.get("email", ""), item.get("img_url", "")),
        scopes=tuple(item.get("scopes", ())),
        status=item.get("grant_status", REAUTH_REQUIRED),
        grant_box=box_from(item["grant_box"]) if "grant_box" in item else None,
        grant_expires_at=parse_iso(item["grant_expires_at"]) if "grant_expires_at" in item else None,
        grant_obtained_at=parse_iso(item["grant_obtained_at"]) if "grant_obtained_at" in item else None,
        version=int(item.get("version", 1)),
        signed_in_ms=int(item.get("signed_in_ms", 0)),
        lease_until_ms=int(item.get("lease_until", 0)),
        revoked_scopes=tuple(item.get("revoked_scopes", ())),
        rate_limits=tuple(rate_limit_from(v) for k, v in item.items() if k.startswith(RATE_LIMIT_PREFIX)),
    )


# -- the rate-limit ledger: one attribute per entry on the connection item ---------------------

RATE_LIMIT_PREFIX = "rl#"  # "rl#<tier>#<scope>": read with the connection, no extra read


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


def grant_values(c: Connection) -> dict[str, Any]:
    """The values a sign-in's new grant puts on the connection."""
    if c.grant_box is None or c.grant_expires_at is None:
        raise ValueError("a sign-in always brings a grant")
    return {
        "h": c.profile.handle,
        "e": c.profile.email,
        "i": c.profile.img_url,
        "sc": list(c.scopes),
        "st": ACTIVE,
        "box": box(c.grant_box),
        "exp": iso(c.grant_expires_at),
        "day": due_day(c.grant_expires_at),
        "t": c.signed_in_ms,
    }


CONNECTION_GRACE = timedelta(days=2)  # after its last session: time for the reconciliation to end it


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
            "Key": connection_key(user_id),
            "UpdateExpression": f"{set_part} {remove_part}".strip(),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": values(named),
        }
    }


def keep_grant_update(table: str, user_id: str, joined_values: dict[str, Any], offline: bool) -> dict[str, Any]:
    """A transaction's Update marking who joined the user's existing connection (its grant as is)."""
    return connection_update(table, user_id, "SET touched = :touch", "", "attribute_exists(pk)", joined_values, offline)


# -- device sign-in -----------------------------------------------------------------------------


def device_items(device: DeviceCode) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new device sign-in and the user code that names it."""
    ttl = int(device.expires_at.timestamp())
    device_item = marshal(
        pk=f"DEVICE#{device.device_hash}",
        sk="DEVICE",
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
    code_item = marshal(
        pk=f"USERCODE#{device.user_code_hash}", sk="USERCODE", device_hash=device.device_hash, views=0, ttl=ttl
    )
    return device_item, code_item


def device_from(device_hash: str, item: dict[str, Any]) -> DeviceCode:
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
            "Key": device_key(device_hash),
            "UpdateExpression": "SET #st = :to",
            "ConditionExpression": "#st = :when",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": values({"to": to, "when": when}),
        }
    }


def approval_update(table: str, device: DeviceApproval) -> dict[str, Any]:
    """A transaction's Update approving a pending, unexpired device sign-in for its user."""
    return {
        "Update": {
            "TableName": table,
            "Key": device_key(device.device_hash),
            "UpdateExpression": "SET #st = :approved, user_id = :u",
            "ConditionExpression": "#st = :pending AND expires_at > :now",
            "ExpressionAttributeNames": {"#st": "status"},
            "ExpressionAttributeValues": values(
                {"approved": "approved", "u": device.user_id, "pending": "pending", "now": iso(device.now)}
            ),
        }
    }


# -- webhooks -------------------------------------------------------------------------------------
# Two items per webhook, written together: the user's (CONN#<user> / WEBHOOK#<id>: the view, listed
# with the connection's partition) and the receiver's (WEBHOOK#<id>: who owns it, the hash that
# verifies its passcode and what it was made for, one GetItem per delivery; in the by_user index
# under "WEBHOOKS", which the reconciliation walks). A third, CONN#<user> / WEBHOOKFOR#<event>#
# <context>#<id>, names the one webhook a user holds for that event and context (no duplicate at
# Figma). A pending create leaves WHPASS#<hash of the passcode> for the PING that may arrive
# before Figma's answer (deleted when the create is saved); a delivery seen leaves WHSEEN#<key>.

WEBHOOKS_KEY = "WEBHOOKS"  # by_user partition of every webhook (the reconciliation's walk)


def webhook_items(w: Webhook, passcode_hash: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The user's view, the receiver's item and the user's slot for this event and context."""
    view = marshal(
        pk=f"CONN#{w.user_id}",
        sk=f"WEBHOOK#{w.id}",
        event_type=w.event_type,
        context=w.context,
        context_id=w.context_id,
        description=w.description,
        status=w.status,
        created_at=iso(w.created_at),
        endpoint=w.endpoint,
        passcode_set_at=iso(w.passcode_set_at) if w.passcode_set_at else None,
    )
    receiver = marshal(
        pk=f"WEBHOOK#{w.id}",
        sk="WEBHOOK",
        user_id=w.user_id,
        passcode_hash=passcode_hash,
        event_type=w.event_type,
        context=w.context,
        context_id=w.context_id,
        user_key=WEBHOOKS_KEY,
        created_at=iso(w.created_at),
    )
    slot = marshal(pk=f"CONN#{w.user_id}", sk=webhook_slot(w.event_type, w.context, w.context_id), webhook_id=w.id)
    return view, receiver, slot


def webhook_slot(event_type: str, context: str, context_id: str) -> str:
    """The sort key naming a user's one webhook for an event type and context."""
    return f"WEBHOOKFOR#{event_type}#{context}#{context_id}"


def webhook_keys(user_id: str, w: Webhook) -> list[dict[str, Any]]:
    """Every item a webhook has (view, receiver, slot): what deleting it deletes."""
    return [
        key(f"CONN#{user_id}", f"WEBHOOK#{w.id}"),
        key(f"WEBHOOK#{w.id}", "WEBHOOK"),
        key(f"CONN#{user_id}", webhook_slot(w.event_type, w.context, w.context_id)),
    ]


def webhook_from(item: dict[str, Any]) -> Webhook:
    return Webhook(
        id=item["sk"].removeprefix("WEBHOOK#"),
        user_id=item["pk"].removeprefix("CONN#"),
        event_type=item["event_type"],
        context=item["context"],
        context_id=item["context_id"],
        created_at=parse_iso(item["created_at"]),
        description=item.get("description"),
        status=item.get("status", "active"),
        endpoint=item.get("endpoint"),
        passcode_set_at=parse_iso(item["passcode_set_at"]) if "passcode_set_at" in item else None,
    )


def pending_passcode_item(passcode_hash: str, user_id: str, expires_at: datetime) -> dict[str, Any]:
    return marshal(pk=f"WHPASS#{passcode_hash}", sk="WHPASS", user_id=user_id, ttl=int(expires_at.timestamp()))


def seen_item(key: str, expires_at: datetime) -> dict[str, Any]:
    return marshal(pk=f"WHSEEN#{key}", sk="WHSEEN", ttl=int(expires_at.timestamp()))
