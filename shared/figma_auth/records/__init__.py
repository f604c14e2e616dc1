"""The domain's nouns: what a sign-in, a session and a connection are, independent of how
DynamoDB stores them (``figma_auth.store``) or who reads them (the use cases).

This module holds the records nearly every request reads: the session, the user's connection
(with its profile and rate-limit ledger) and the two together (``Current``). Every other kind
is a module of its own, imported by the code that makes or reads that kind: ``signin`` (a
sign-in's start: its login transaction), ``completion`` (what the callback writes and answers:
tickets, device approvals), ``listing`` (the backend's pages of connections), ``webhooks``,
``devices``, ``file_cache``, ``realtime`` and ``agents``.

Why: creating a frozen dataclass generates its methods (``__init__``, ``__eq__``, ``__hash__``,
``__repr__``, ``__setattr__``, ``__delattr__``) as source text and compiles it, ≈ 0.5 ms each at
a cold start, and a request uses only a few kinds. The store reads and writes every kind, so its
modules import a kind's records where they build them (``figma_auth.store``): a session read
creates these five records and no others (``tests/unit/test_boot.py`` holds it to that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from figma_auth.vault import SealedBox

ACTIVE = "active"
REAUTH_REQUIRED = "reauth_required"
CLIENTS = ("web", "token", "device", "agent")
Client = Literal["web", "token", "device", "agent"]


@dataclass(frozen=True)
class Profile:
    """A Figma user's profile (Figma's /v1/me)."""

    handle: str
    email: str
    img_url: str


@dataclass(frozen=True)
class Session:
    """An app session: who, until when, from which kind of client. Its grant is the user's
    connection's."""

    id: str  # public id: SHA-256 of the session token
    user_id: str
    created_at: datetime
    expires_at: datetime
    client: Client = "web"
    activated: bool = True
    client_name: str | None = None  # an agent's: the name its Client ID Metadata Document gives


@dataclass(frozen=True)
class RateLimit:
    """A Figma 429 remembered in the user's ledger: calls of ``tier`` within ``scope`` ("user", or
    "file:<key>" for one file's plan) are refused by Figma until ``until``."""

    tier: int
    scope: str
    until: datetime
    type: str | None = None  # X-Figma-Rate-Limit-Type: low (the seat/plan) | high (a burst)
    plan_tier: str | None = None  # X-Figma-Plan-Tier
    upgrade_link: str | None = None  # X-Figma-Upgrade-Link

    @property
    def key(self) -> str:
        return f"{self.tier}#{self.scope}"

    def covers(self, tier: int, scope: str) -> bool:
        """A user entry covers every call of its tier; a file entry the calls naming that file."""
        return self.tier == tier and self.scope in ("user", scope)


@dataclass(frozen=True)
class Connection:
    """A Figma user's connection to this app: the one grant Figma keeps for them."""

    user_id: str
    profile: Profile
    scopes: tuple[str, ...]
    status: str = ACTIVE
    grant_box: SealedBox | None = field(default=None, repr=False)
    grant_expires_at: datetime | None = None
    grant_obtained_at: datetime | None = None  # set by refreshes (a sign-in's grant doesn't count)
    version: int = 1  # +1 on every new grant (sign-in or refresh)
    signed_in_ms: int = 0  # when the current grant's code exchange finished: newer sign-ins win
    lease_until_ms: int = 0
    revoked_scopes: tuple[str, ...] = ()  # dropped by Figma at a refresh since the last sign-in
    rate_limits: tuple[RateLimit, ...] = ()  # the user's ledger, read with it (some entries may have expired)
    created_at: datetime | None = None  # its first sign-in (since the last disconnect): the listing's order

    def rate_limits_at(self, now: datetime) -> tuple[RateLimit, ...]:
        """The entries still in force."""
        return tuple(limit for limit in self.rate_limits if limit.until > now)


@dataclass(frozen=True)
class Current:
    """An authenticated request: its session and the user's connection."""

    session: Session
    connection: Connection
