"""The realtime API: its one-time tickets, its open sockets, who watches a file, and the app's
Figma webhook for a watched file.
A kind of ``figma_auth.records`` (its docstring says why each kind is a module of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RealtimeTicket:
    """A one-time ticket that opens one WebSocket for the session that asked for it (stored only
    as its SHA-256)."""

    ticket_hash: str
    session_id: str
    user_id: str
    expires_at: datetime


@dataclass(frozen=True)
class LiveSocket:
    """An open WebSocket of the realtime API: whose (session, user), and the files it watches."""

    id: str  # API Gateway's connectionId
    user_id: str
    session_id: str
    connected_at: datetime
    files: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Watcher:
    """A socket watching a file (one item per socket and file: the push's one query by file key)."""

    socket_id: str
    user_id: str


@dataclass(frozen=True)
class LiveHook:
    """The app's one Figma webhook for a file and event type, held by one watching socket's user."""

    file_key: str
    event_type: str
    webhook_id: str
    holder_user: str
    holder_socket: str
    owned: bool  # made for the live watch (False: the holder's own webhook, left at Figma when they go)
