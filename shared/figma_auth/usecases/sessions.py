"""Sessions: who a request is (``Authenticate``), the session view, refresh and list, logout,
and ending every session of a user (``EndUser``, also the backend's disconnect and the
operator's delete-user).

The Figma grant belongs to the user's **connection** (one per Figma user id), not to a
session: Figma keeps one active token per user per app, so every session of a user reads the
connection's current token, a sign-in replaces it, and one refresh serves them all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from figma_auth.credentials import Credentials
from figma_auth.engine import Publish
from figma_auth.errors import InvalidRequest, ReauthRequired, Unauthorized
from figma_auth.models.sessions import LogoutRequest, SessionList, SessionSummary
from figma_auth.models.views import SessionView
from figma_auth.observability import metrics_count
from figma_auth.records import ACTIVE, Current, Session
from figma_auth.times import iso
from figma_auth.usecases.authenticate import Authenticate
from figma_auth.usecases.views import FreshGrants, fresh_within_leeway, session_view

Clock = Callable[[], datetime]
Authenticator = Callable[[Credentials], Current]
DropWebhooks = Callable[[str, bool], int]  # (user id, keep what Figma kept) -> how many Figma kept
__all__ = ["Authenticate", "EndUser", "Sessions"]  # Authenticate: its own use case, re-exported


class UserStore(Protocol):
    def user_sessions(self, user_id: str) -> list[Session]: ...
    def delete_sessions(self, session_ids: list[str]) -> None: ...
    def connection_touched(self, user_id: str) -> str | None: ...
    def delete_connection(self, user_id: str, *, touched: str | None = None) -> bool: ...


class EndUser:
    """Every session of a user; the connection too when asked (``disconnect``) or when it is not
    kept for offline use. A partial failure raises TemporarilyUnavailable (a retry finishes)."""

    def __init__(
        self,
        *,
        store: UserStore,
        publish: Publish,
        offline_access: bool,
        clock: Clock,
        drop_webhooks: DropWebhooks = lambda user_id, keep_undeleted: 0,
    ) -> None:
        self.store, self.publish, self.offline_access, self.clock = store, publish, offline_access, clock
        # The connection's webhooks go at Figma (with its token) before it does: nothing is left
        # at Figma with nobody to manage it. What Figma could not delete keeps the connection
        # (for the reconciliation to finish), except on a disconnect: the tokens go now.
        self.drop_webhooks = drop_webhooks

    def __call__(self, user_id: str, *, disconnect: bool) -> None:
        # Only a logout needs the marker (a sign-in that joined meanwhile keeps the connection).
        touched = None if disconnect else self.store.connection_touched(user_id)
        ended = [s.id for s in self.store.user_sessions(user_id)]
        self.store.delete_sessions(ended)
        reason = "disconnect" if disconnect else "logout"
        for session_id in ended:
            self.session_ended(user_id, session_id, reason)
        if disconnect:
            self.drop_webhooks(user_id, False)
        elif self.offline_access or self.drop_webhooks(user_id, True):
            return  # kept: for the backend (OFFLINE_ACCESS), or until Figma has deleted its webhooks
        if self.store.delete_connection(user_id, touched=touched):
            self._deleted(user_id, reason)

    def session_ended(self, user_id: str, session_id: str, reason: str) -> None:
        """Tell the app (EventBridge) that a session ended, so an API that trusts our JWTs can
        refuse the ones naming it (``sid``) before they expire."""
        self.publish("SessionEnded", {"user_id": user_id, "sid": session_id, "reason": reason})

    def forget_unused_connection(self, user_id: str, reason: str = "logout") -> bool:
        """After a session ended (or expired: the reconciliation): the last one takes the
        connection with it (OFFLINE_ACCESS keeps it), unless a sign-in joined the connection
        meanwhile or Figma still holds one of its webhooks. True when it is gone."""
        if self.offline_access:
            return False
        touched = self.store.connection_touched(user_id)
        now = self.clock()
        if (
            touched is not None
            and not any(s.activated and s.expires_at > now for s in self.store.user_sessions(user_id))
            and not self.drop_webhooks(user_id, True)
            and self.store.delete_connection(user_id, touched=touched)
        ):
            self._deleted(user_id, reason)
            return True
        return False

    def _deleted(self, user_id: str, reason: str) -> None:
        metrics_count("ConnectionDeleted")
        self.publish("ConnectionDeleted", {"user_id": user_id, "reason": reason})


class SessionStore(Protocol):
    def user_sessions(self, user_id: str) -> list[Session]: ...
    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool: ...


class Sessions:
    """GET /auth/session, POST /auth/refresh, GET /auth/sessions, POST /auth/logout."""

    def __init__(
        self,
        *,
        store: SessionStore,
        authenticate: Authenticator,
        engine: FreshGrants,
        end_user: EndUser,
        clock: Clock,
        leeway_seconds: int,
        expose_token: bool,
    ) -> None:
        self.store, self.authenticate, self.engine, self.end_user = store, authenticate, engine, end_user
        self.clock, self.leeway_seconds, self.expose_token = clock, leeway_seconds, expose_token

    def view(self, creds: Credentials) -> SessionView:
        """The session, its user and the Figma token, refreshed first when within the leeway."""
        current = self.authenticate(creds)
        fresh = fresh_within_leeway(self.engine, current.connection, self.leeway_seconds)
        conn = fresh.connection if fresh else current.connection
        return session_view(current.session, conn, fresh, expose=self.expose_token, now=self.clock())

    def refresh(self, creds: Credentials, min_validity: int | None) -> SessionView:
        """A fresh token unless the current one outlives ``min_validity``."""
        current = self.authenticate(creds)
        if current.connection.status != ACTIVE:
            raise ReauthRequired()
        # Without min_validity, "refresh" means: always get a new access token.
        fresh = self.engine.fresh(current.connection, min_validity, force=min_validity is None)
        return session_view(current.session, fresh.connection, fresh, expose=self.expose_token, now=self.clock())

    def list(self, creds: Credentials) -> SessionList:
        current = self.authenticate(creds).session
        now = self.clock()
        rows = [
            SessionSummary(
                id=s.id,
                created_at=iso(s.created_at),
                expires_at=iso(s.expires_at),
                current=s.id == current.id,
                client=s.client,
                **({"client_name": s.client_name} if s.client == "agent" else {}),
            )
            for s in sorted(self.store.user_sessions(current.user_id), key=lambda s: s.created_at)
            if s.activated and s.expires_at > now
        ]
        return SessionList(sessions=rows)

    def logout(self, creds: Credentials, request: LogoutRequest) -> bool:
        """End the current session, one of the user's sessions, or all (and with
        ``disconnect`` the connection too). Returns True when the caller's own session is
        gone (so its cookie must be cleared)."""
        if request.disconnect and not request.all:
            raise InvalidRequest('disconnect ends every session: send {"all": true, "disconnect": true}')
        try:
            current = self.authenticate(creds)
        except Unauthorized:
            return True  # idempotent: nothing to end
        session = current.session
        if request.all:
            self.end_user(session.user_id, disconnect=request.disconnect)
            return True
        if request.session_id is not None and request.session_id != session.id:
            if self.store.delete_session(request.session_id, user_id=session.user_id):
                self.end_user.session_ended(session.user_id, request.session_id, "logout")
            return False
        if self.store.delete_session(session.id):
            self.end_user.session_ended(session.user_id, session.id, "logout")
        self.end_user.forget_unused_connection(session.user_id)
        return True
