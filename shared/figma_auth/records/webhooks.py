"""The Figma webhooks a user's connection made, and what the receiver checks a delivery against.
A kind of ``figma_auth.records`` (its docstring says why each kind is a module of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Webhook:
    """A Figma webhook a user's connection created (Figma's id), as our views show it."""

    id: str
    user_id: str
    event_type: str
    context: str  # team | project | file
    context_id: str
    created_at: datetime
    description: str | None = None
    status: str = "active"  # as created at Figma; a dead grant shows it paused
    endpoint: str | None = None  # the receiver URL we registered at Figma (None: made before it was kept)
    passcode_set_at: datetime | None = None  # when the reconciliation last gave it a new passcode


@dataclass(frozen=True)
class WebhookRegistration:
    """What the receiver checks a delivery against: whose webhook it is, its passcode's hash, and
    what it was made for (a delivery of another event type or file is not this webhook's)."""

    user_id: str
    passcode_hash: str
    event_type: str
    context: str  # team | project | file
    context_id: str
