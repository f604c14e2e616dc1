"""Seed many connections (and their sessions) directly, as sign-ins would write them: grants
really issued by the Figma emulator, sealed under the real KMS key through the layer's own
Vault, items laid out by the store's own shapes (``store.connections``, ``store.sessions``)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from devstack import aws
from devstack.figma_emulator import EmulatorState
from figma_auth import tokens
from figma_auth.records import Connection, Profile, Session
from figma_auth.store.connections import connection_item
from figma_auth.store.sessions import session_item
from figma_auth.vault import SealedBox, Vault, grant_context

PLACEHOLDER = SealedBox(b"\0" * 32, b"\0" * 12, b"\0" * 64)


def seed_user_id() -> str:
    """A made-up Figma user id (the emulator issues tokens for any user key)."""
    return str(10**17 + secrets.randbelow(8 * 10**17))


def user_items(
    *,
    vault: Vault | None,
    emulator: EmulatorState,
    expiries: list[datetime],
    now: datetime,
    sessions_per_user: int = 1,
) -> list[tuple[str, list[dict[str, Any]]]]:
    """(user id, items) per expiry: the user's connection, whose grant the emulator really
    issued and ``vault`` sealed (``vault=None``: a placeholder box, for rows a test never
    decrypts), and ``sessions_per_user`` sessions pointing at it."""
    out = []
    for expires_at in expiries:
        user_id = seed_user_id()
        box = PLACEHOLDER
        if vault is not None:
            with emulator.lock:
                issued = emulator.issue(user_id, ["current_user:read"], secrets.token_hex(8))
            box = vault.seal(
                {"access_token": issued["access"], "refresh_token": issued["refresh"]}, grant_context(user_id)
            )
        conn = Connection(
            user_id=user_id,
            profile=Profile("Seeded User", f"{user_id}@example.com", ""),
            scopes=("current_user:read",),
            grant_box=box,
            grant_expires_at=expires_at,
            signed_in_ms=int(now.timestamp() * 1000),
        )
        session_expiry = now + timedelta(days=30)
        items = [connection_item(conn, ttl=session_expiry)]
        for _ in range(sessions_per_user):
            session_id = tokens.hash_secret(tokens.random_token())
            items.append(session_item(Session(session_id, user_id, now, session_expiry)))
        out.append((user_id, items))
    return out


def seed_connections(
    *,
    endpoint: str,
    dynamodb: str,
    table: str,
    key_id: str,
    emulator: EmulatorState,
    expiries: list[datetime],
    now: datetime,
    seal: bool = True,
    sessions_per_user: int = 1,
    threads: int = 8,
) -> list[str]:
    """One user (connection + sessions) per expiry, written to the table; user ids returned in
    order. ``seal=False`` writes a placeholder box (saves one KMS call each)."""
    db = aws.client("dynamodb", dynamodb)
    kms = aws.client("kms", endpoint)
    vault = Vault(kms=lambda: kms, key_id=key_id) if seal else None

    def write(chunk: list[datetime]) -> list[str]:
        built = user_items(vault=vault, emulator=emulator, expiries=chunk, now=now, sessions_per_user=sessions_per_user)
        puts = [{"PutRequest": {"Item": item}} for _, items in built for item in items]
        for start in range(0, len(puts), 25):
            pending: Any = {table: puts[start : start + 25]}
            while pending:
                pending = db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return [user_id for user_id, _ in built]

    chunks = [expiries[i : i + 25] for i in range(0, len(expiries), 25)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [uid for ids in pool.map(write, chunks) for uid in ids]
