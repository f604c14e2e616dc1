"""The refresh engine: the one place that renews a connection's Figma grant.

Lease → refresh at Figma → store the new grant (or mark the grant dead and tell the app once)
→ release. Every caller uses it: the session read, ``POST /auth/refresh``, the proxy and the
scheduled refresh. Single-flight per connection across threads and Lambda containers: the
winner of a conditional lease on the connection item calls Figma; the others wait for its
result and re-read. Time is injected (``clock``, ``monotonic``, ``sleep``), so a test of a
lease expiry or a peer that never finishes takes milliseconds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from figma_auth import deadline as request_deadline
from figma_auth import oauth, tokens
from figma_auth.errors import FigmaUnavailable, GrantUnreadable, ReauthRequired, Unauthorized
from figma_auth.observability import logger, metrics_count
from figma_auth.records import ACTIVE, Connection
from figma_auth.vault import SealedBox, grant_context

LEASE_MS = 20_000  # longer than Figma's worst refresh (2 attempts x 8 s)
WAIT_FOR_PEER_SECONDS = 10.0  # how long a request waits for another's refresh
JUST_REFRESHED = timedelta(seconds=5)  # a refresh reuses a grant another refresh produced this recently

Outcome = Literal["refreshed", "skipped", "reauth_required"]
Publish = Callable[[str, dict[str, Any]], None]


class GrantStore(Protocol):
    """What the engine reads and writes of a connection: its grant, under a lease."""

    def get_connection(self, user_id: str) -> Connection | None: ...
    def acquire_lease(self, user_id: str, *, version: int, owner: str, now_ms: int, lease_ms: int) -> bool: ...
    def save_refreshed_grant(
        self,
        conn: Connection,
        *,
        owner: str,
        box: SealedBox,
        expires_at: datetime,
        obtained_at: datetime,
        narrowed_to: tuple[str, ...] | None = None,
    ) -> bool: ...
    def release_lease(self, user_id: str, *, owner: str) -> None: ...
    def mark_reauth_required(self, user_id: str, *, owner: str) -> bool: ...


class GrantVault(Protocol):
    """Opens a sealed grant, and seals a new one under the same data key."""

    def open(self, box: SealedBox, context: dict[str, str]) -> dict[str, Any]: ...
    def reseal(self, previous: SealedBox, plaintext: dict[str, Any], context: dict[str, str]) -> SealedBox: ...


class Refresher(Protocol):
    """Figma's refresh endpoint."""

    def refresh(self, grant: oauth.FigmaGrant, *, now: Callable[[], datetime]) -> oauth.FigmaGrant: ...


@dataclass(frozen=True)
class Fresh:
    """A connection and its opened grant, valid as asked."""

    connection: Connection
    grant: oauth.FigmaGrant


class RefreshEngine:
    def __init__(
        self,
        *,
        store: GrantStore,
        vault: GrantVault,
        figma: Refresher,
        clock: Callable[[], datetime],
        publish: Publish,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wait_for_peer: float = WAIT_FOR_PEER_SECONDS,
    ) -> None:
        self.store, self.vault, self.figma = store, vault, figma
        self.clock, self.publish = clock, publish
        self.monotonic, self.sleep = monotonic, sleep
        self.wait_for_peer = wait_for_peer

    # -- request paths: a grant valid for at least min_validity seconds ----------------------

    def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh:
        """The connection's grant, valid for at least ``min_validity`` seconds (``force``: a
        new access token whatever the expiry). Waits for a peer's refresh rather than call
        Figma twice; a grant a refresh produced seconds ago is reused, so a burst of refreshes
        (tabs, sessions, retries) costs one Figma call."""
        owner = tokens.random_token(12)
        deadline = self.monotonic() + request_deadline.bounded(self.wait_for_peer, clock=self.monotonic)
        start_version = conn.version
        pause = 0.05
        while True:
            if conn.status != ACTIVE or conn.grant_box is None or conn.grant_expires_at is None:
                raise ReauthRequired()
            now = self.clock()
            moved_on = conn.version > start_version
            young = conn.grant_obtained_at is not None and now - conn.grant_obtained_at < JUST_REFRESHED
            validity = timedelta(seconds=min_validity or 0)
            if moved_on or young or (not force and conn.grant_expires_at - now > validity):
                return Fresh(conn, self.open(conn))
            if conn.lease_until_ms < _ms(now):
                done = self._attempt(conn, owner)
                if done is not None:
                    return done
            if self.monotonic() > deadline:
                raise FigmaUnavailable("Another refresh of this grant is still running; try again.", retry_after=2)
            self.sleep(pause * random.uniform(0.5, 1.5))  # nosec B311 - jitter, not crypto
            pause = min(pause * 2, 0.4)
            latest = self.store.get_connection(conn.user_id)
            if latest is None:
                raise Unauthorized("This Figma connection was disconnected. Sign in with Figma again.")
            conn = latest

    # -- the scheduler: one due connection, no waiting ----------------------------------------

    def refresh_due(self, conn: Connection, *, gate: AbstractContextManager[Any] | None = None) -> Outcome:
        """Refresh a connection the scheduler found due. ``gate`` wraps the Figma call (the
        scheduler's concurrency and Retry-After pause). Skipped when another refresher holds
        it; a Figma outage raises (the stored grant stays as it was)."""
        if conn.status != ACTIVE or conn.lease_until_ms >= _ms(self.clock()):
            return "skipped"
        try:
            done = self._attempt(conn, tokens.random_token(12), gate=gate)
        except ReauthRequired:
            return "reauth_required"
        return "skipped" if done is None else "refreshed"

    # -- the protocol ------------------------------------------------------------------------

    def _attempt(
        self, conn: Connection, owner: str, *, gate: AbstractContextManager[Any] | None = None
    ) -> Fresh | None:
        """Lease → Figma → store (or mark dead) → release. None when another refresher holds
        the lease or ours lapsed: the caller re-reads."""
        if not self.store.acquire_lease(
            conn.user_id, version=conn.version, owner=owner, now_ms=_ms(self.clock()), lease_ms=LEASE_MS
        ):
            return None
        try:
            grant = self.open(conn)
            with gate or nullcontext():
                new = self.figma.refresh(grant, now=self.clock)
        except ReauthRequired:
            self.grant_died(conn, owner=owner)
            raise
        except BaseException:
            self.store.release_lease(conn.user_id, owner=owner)  # the stored grant stays as it was
            raise
        return self._store(conn, new, owner=owner)

    def _store(self, conn: Connection, new: oauth.FigmaGrant, *, owner: str) -> Fresh | None:
        if conn.grant_box is None:
            raise ReauthRequired()
        box = self.vault.reseal(conn.grant_box, grant_plaintext(new), grant_context(conn.user_id))
        obtained = self.clock()
        narrowed = tuple(s for s in conn.scopes if s in new.scopes)  # a refresh never widens
        narrowed_to = narrowed if len(narrowed) < len(conn.scopes) else None
        if not self.store.save_refreshed_grant(
            conn, owner=owner, box=box, expires_at=new.expires_at, obtained_at=obtained, narrowed_to=narrowed_to
        ):
            return None  # a sign-in, a disconnect or a lapsed lease got there first
        updated = replace(
            conn,
            grant_box=box,
            grant_expires_at=new.expires_at,
            version=conn.version + 1,
            grant_obtained_at=obtained,
            lease_until_ms=0,
        )
        if narrowed_to is not None:
            revoked = tuple(dict.fromkeys((*conn.revoked_scopes, *(s for s in conn.scopes if s not in narrowed))))
            updated = replace(updated, scopes=narrowed_to, revoked_scopes=revoked)
            metrics_count("GrantNarrowedByFigma")
            logger.info("figma grant narrowed at refresh", extra={"revoked_scopes": list(revoked)})  # pragma: no mutate
        logger.info("figma grant refreshed", extra={"grant_version": updated.version})  # pragma: no mutate
        return Fresh(updated, new)

    def grant_died(self, conn: Connection, *, owner: str, reason: str = "figma_rejected_refresh") -> bool:
        """Figma rejected the grant: mark the connection, and tell the app once (EventBridge) so
        it can ask the user to sign in again. True when this call was the one that marked it."""
        if not self.store.mark_reauth_required(conn.user_id, owner=owner):
            return False
        metrics_count("GrantNeedsReauth")
        self.publish("GrantNeedsReauth", {"user_id": conn.user_id, "reason": reason})
        return True

    def open(self, conn: Connection) -> oauth.FigmaGrant:
        if conn.grant_box is None or conn.grant_expires_at is None:
            raise ReauthRequired()
        plain = self.vault.open(conn.grant_box, grant_context(conn.user_id))
        try:
            return oauth.FigmaGrant(plain["access_token"], plain["refresh_token"], conn.grant_expires_at, conn.scopes)
        except KeyError as exc:
            raise GrantUnreadable() from exc


def grant_plaintext(grant: oauth.FigmaGrant) -> dict[str, str]:
    return {"access_token": grant.access_token, "refresh_token": grant.refresh_token}


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
