"""The backend's listing of connections (newest first): a place in it, and a page of it.
A kind of ``figma_auth.records`` (its docstring says why each kind is a module of its own)."""

from __future__ import annotations

from dataclasses import dataclass

from figma_auth.records import Connection


@dataclass(frozen=True)
class ListedAt:
    """A place in the listing of connections (newest first): a connection's ``created_at`` as
    stored, and its user id (with it, the place is one connection even among those made in the
    same second)."""

    created_at: str
    user_id: str


@dataclass(frozen=True)
class ConnectionsPage:
    """One page of the listing, and where the next starts (None: there is no more)."""

    connections: tuple[Connection, ...]
    after: ListedAt | None
