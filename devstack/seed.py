"""Seed many sessions directly, as a callback would write them: grants really issued by the
Figma emulator, sealed under the real KMS key through the layer's own Vault and Store."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from devstack import aws
from devstack.figma_emulator import USERS, EmulatorState
from figma_auth import oauth
from figma_auth.store import Profile, Session, _session_item
from figma_auth.vault import SealedBox, Vault, grant_context

PLACEHOLDER = SealedBox(b"\0" * 32, b"\0" * 12, b"\0" * 64)


def session_items(
    *, vault: Vault | None, emulator: EmulatorState, expiries: list[datetime], now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    """(session id, DynamoDB item) per expiry, each with a grant really issued by the emulator and
    sealed by ``vault``; ``vault=None`` writes a placeholder box (rows a test never decrypts)."""
    user_id = USERS["ada"]["id"]
    out = []
    for expires_at in expiries:
        session_id = oauth.hash_secret(oauth.random_token())
        box = PLACEHOLDER
        if vault is not None:
            with emulator.lock:
                tokens = emulator.issue("ada", ["current_user:read"], secrets.token_hex(8))
            box = vault.seal(
                {"access_token": tokens["access"], "refresh_token": tokens["refresh"]},
                grant_context(session_id, user_id),
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
        out.append((session_id, _session_item(session)))
    return out


def seed_sessions(
    *,
    endpoint: str,
    table: str,
    key_id: str,
    emulator: EmulatorState,
    expiries: list[datetime],
    now: datetime,
    seal: bool = True,
    threads: int = 8,
) -> list[str]:
    """One session per expiry, written to the table, ids returned in order. ``seal=False``
    writes a placeholder box (for bulk rows a test never decrypts: saves one KMS call each)."""
    db = aws.client("dynamodb", endpoint)
    vault = Vault(kms=aws.client("kms", endpoint), key_id=key_id) if seal else None

    def write(chunk: list[datetime]) -> list[str]:
        built = session_items(vault=vault, emulator=emulator, expiries=chunk, now=now)
        pending: Any = {table: [{"PutRequest": {"Item": item}} for _, item in built]}
        while pending:
            pending = db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return [sid for sid, _ in built]

    chunks = [expiries[i : i + 25] for i in range(0, len(expiries), 25)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return [sid for ids in pool.map(write, chunks) for sid in ids]
