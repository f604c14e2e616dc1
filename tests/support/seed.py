"""Seed many sessions directly: real grants issued by the emulator, sealed under the real KMS
key through the layer's own Vault and Store (as a callback would write them)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from devstack import aws
from devstack.figma_emulator import USERS, EmulatorState
from figma_auth import oauth
from figma_auth.store import Profile, Session, Store, _session_item
from figma_auth.vault import Vault, grant_context


def seed_sessions(
    *, endpoint: str, table: str, key_id: str, emulator: EmulatorState, expiries: list[datetime], now: datetime
) -> list[str]:
    """One session per expiry; returns their ids (in order)."""
    db = aws.client("dynamodb", endpoint)
    vault = Vault(kms=aws.client("kms", endpoint), key_id=key_id)
    ids: list[str] = []
    batch = []
    for expires_at in expiries:
        with emulator.lock:
            tokens = emulator.issue("ada", ["current_user:read"], secrets.token_hex(8))
        session_id = oauth.hash_secret(oauth.random_token())
        user_id = USERS["ada"]["id"]
        box = vault.seal(
            {"access_token": tokens["access"], "refresh_token": tokens["refresh"]}, grant_context(session_id, user_id)
        )
        session = Session(
            id=session_id,
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(days=30),
            profile=Profile("Ada Lovelace", "ada@example.com", ""),
            scopes=("current_user:read",),
            grant_box=box,
            grant_expires_at=expires_at,
        )
        batch.append({"PutRequest": {"Item": _session_item(session)}})
        ids.append(session_id)
        if len(batch) == 25:
            _flush(db, table, batch)
            batch = []
    if batch:
        _flush(db, table, batch)
    return ids


def _flush(db, table: str, batch: list) -> None:  # type: ignore[no-untyped-def]
    pending = {table: batch}
    while pending:
        pending = db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def store_for(endpoint: str, table: str) -> Store:
    return Store(table_name=table, client=aws.client("dynamodb", endpoint))
