"""A device sign-in (RFC 8628), started by a plugin or CLI and confirmed by a person.
A kind of ``figma_auth.records`` (its docstring says why each kind is a module of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DeviceCode:
    """A device sign-in (RFC 8628): started by a plugin or CLI, confirmed by a person."""

    device_hash: str
    user_code_hash: str
    scopes: tuple[str, ...]
    expires_at: datetime
    interval_ms: int
    status: str = "pending"  # pending → approved (Figma said yes) → delivered (polled); or denied
    user_id: str | None = None
    client_id: str | None = None  # the app's name as the RFC 8628 client sent it (shown, never trusted)
    network: str | None = None  # a hash of the network (IPv4 /24, IPv6 /64) the sign-in started from
    started_at: datetime | None = None
