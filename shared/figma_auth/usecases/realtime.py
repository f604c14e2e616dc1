"""The realtime API's sign-in and sockets: ``POST /auth/realtime`` issues a one-time ticket for
the session; the WebSocket's ``$connect`` redeems it (once, within 60 s, while the session lives)
and stores the socket; ``$disconnect`` forgets it (its watches leave first: a webhook it held
moves on). A session's end closes its sockets.

The ticket is a secret: 32 random bytes in the URL's query (a browser's WebSocket sends no
header of ours), stored only as its SHA-256, deleted by the read that redeems it, never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from figma_auth.credentials import Credentials
from figma_auth.errors import NotFound, Unauthorized
from figma_auth.models.sessions import RealtimeTicketView
from figma_auth.observability import metrics_count
from figma_auth.records import Connection, Current, Session
from figma_auth.records.realtime import LiveSocket, RealtimeTicket
from figma_auth.tokens import hash_secret, is_url_safe_token, random_token

TICKET_TTL = timedelta(seconds=60)
NOT_CONFIGURED = "The realtime API is not configured here (REALTIME_URL is unset)."


class RealtimeStore(Protocol):
    def put_realtime_ticket(self, ticket: RealtimeTicket) -> None: ...
    def redeem_realtime_ticket(self, ticket_hash: str) -> RealtimeTicket | None: ...
    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]: ...
    def open_socket(self, socket: LiveSocket) -> None: ...
    def socket(self, socket_id: str) -> LiveSocket | None: ...
    def forget_socket(self, socket: LiveSocket) -> None: ...
    def user_sockets(self, user_id: str) -> list[tuple[str, str]]: ...


class Closer(Protocol):
    def close(self, socket_id: str) -> None: ...


class Realtime:
    def __init__(
        self,
        *,
        store: RealtimeStore,
        authenticate: Callable[[Credentials], Current],
        clock: Callable[[], datetime],
        url: str | None,
        leave: Callable[[LiveSocket], None] = lambda socket: None,
    ) -> None:
        self.store, self.authenticate, self.clock, self.url = store, authenticate, clock, url
        self.leave = leave  # the socket's watches, before it goes (usecases/live.py)

    def ticket(self, creds: Credentials) -> RealtimeTicketView:
        """A one-time ticket for this session's WebSocket, in the URL to open (1 PutItem)."""
        if not self.url:
            raise NotFound(NOT_CONFIGURED)
        current = self.authenticate(creds)
        ticket = random_token(32)
        expires_at = self.clock() + TICKET_TTL
        self.store.put_realtime_ticket(
            RealtimeTicket(hash_secret(ticket), current.session.id, current.session.user_id, expires_at)
        )
        metrics_count("RealtimeTicketIssued")
        return RealtimeTicketView(url=f"{self.url}?ticket={ticket}", expires_in=int(TICKET_TTL.total_seconds()))

    def connect(self, socket_id: str, ticket: str | None) -> LiveSocket:
        """$connect: the socket of the ticket's session, stored; Unauthorized when the ticket is
        missing, unknown, used, expired, or its session has ended (1 DeleteItem, 1 BatchGetItem,
        1 TransactWriteItems)."""
        if not ticket or not is_url_safe_token(ticket, min_len=40, max_len=64):
            raise Unauthorized("Open the socket with the url of POST /auth/realtime (its ticket).")
        redeemed = self.store.redeem_realtime_ticket(hash_secret(ticket))
        now = self.clock()
        if redeemed is None or redeemed.expires_at <= now:
            metrics_count("RealtimeTicketRefused")
            raise Unauthorized("This ticket was used or is older than 60 seconds: ask POST /auth/realtime again.")
        session, connection = self.store.session_with_connection(redeemed.session_id, redeemed.user_id)
        if session is None or session.expires_at <= now or connection is None:
            raise Unauthorized()
        socket = LiveSocket(socket_id, redeemed.user_id, redeemed.session_id, now)
        self.store.open_socket(socket)
        metrics_count("SocketOpened")
        return socket

    def disconnect(self, socket_id: str) -> None:
        """$disconnect: the socket's watches leave (a webhook it held moves on), then its items go."""
        socket = self.store.socket(socket_id)
        if socket is None:
            return
        self.leave(socket)
        self.store.forget_socket(socket)


def close_sessions(store: RealtimeStore, sockets: Closer, user_id: str, session_ids: set[str] | None) -> int:
    """Close the user's sockets of those sessions (None: all of them); how many. API Gateway then
    sends each one's $disconnect, which forgets it."""
    closed = 0
    for socket_id, session_id in store.user_sockets(user_id):
        if session_ids is None or session_id in session_ids:
            sockets.close(socket_id)
            closed += 1
    return closed
