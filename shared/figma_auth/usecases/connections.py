"""Backend access (behind AWS IAM): a user's connection with a fresh token, and disconnect."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from figma_auth.errors import NotFound
from figma_auth.models.views import ConnectionView
from figma_auth.records import Connection, Session
from figma_auth.tokens import MAX_USER_ID
from figma_auth.usecases.views import FreshGrants, connection_view, fresh_within_leeway

if TYPE_CHECKING:  # the proxy imports this module for connection_of: not the sessions' use cases
    from figma_auth.usecases.sessions import EndUser

NO_CONNECTION = "No Figma connection for this user."


class ConnectionReader(Protocol):
    def get_connection(self, user_id: str) -> Connection | None: ...


def connection_of(store: ConnectionReader, user_id: str) -> Connection:
    """The connection a path's user id names, or 404: anything that is no Figma user id names none."""
    conn = store.get_connection(checked_user_id(user_id))
    if conn is None:
        raise NotFound(NO_CONNECTION)
    return conn


def checked_user_id(user_id: str) -> str:
    if not 0 < len(user_id) <= MAX_USER_ID or not user_id.isprintable():
        raise NotFound(NO_CONNECTION)
    return user_id


class ConnectionStore(ConnectionReader, Protocol):
    def connection_touched(self, user_id: str) -> str | None: ...
    def user_sessions(self, user_id: str) -> list[Session]: ...


class BackendConnections:
    """GET and DELETE /connections/{user_id}."""

    def __init__(self, *, store: ConnectionStore, engine: FreshGrants, end_user: EndUser, leeway_seconds: int) -> None:
        self.store, self.engine, self.end_user, self.leeway_seconds = store, engine, end_user, leeway_seconds

    def view(self, user_id: str) -> ConnectionView:
        """The user and a fresh token (refreshed single-flight first when within
        REFRESH_LEEWAY_SECONDS); a dead grant answers status reauth_required."""
        conn = connection_of(self.store, user_id)
        fresh = fresh_within_leeway(self.engine, conn, self.leeway_seconds)
        return connection_view(fresh.connection if fresh else conn, fresh)

    def disconnect(self, user_id: str) -> None:
        """The grant and every session of the user."""
        if self.store.connection_touched(checked_user_id(user_id)) is None and not self.store.user_sessions(user_id):
            raise NotFound(NO_CONNECTION)
        self.end_user(user_id, disconnect=True)
