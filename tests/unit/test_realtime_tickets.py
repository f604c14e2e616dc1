"""The realtime API's tickets (usecases/realtime.py) on a typed fake store and a clock the test
moves: one socket per ticket, within 60 seconds, while the session lives; stored only hashed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from figma_auth.credentials import Credentials
from figma_auth.errors import NotFound, Unauthorized
from figma_auth.records import Connection, Current, Profile, Session
from figma_auth.records.realtime import LiveSocket, RealtimeTicket
from figma_auth.usecases.realtime import Realtime

T0 = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
SESSION = Session(id="sid", user_id="u1", created_at=T0, expires_at=T0 + timedelta(days=30))


class FakeStore:
    def __init__(self, connection: Connection) -> None:
        self.tickets: dict[str, RealtimeTicket] = {}
        self.sockets: dict[str, LiveSocket] = {}
        self.session: Session | None = SESSION
        self.connection = connection

    def put_realtime_ticket(self, ticket: RealtimeTicket) -> None:
        self.tickets[ticket.ticket_hash] = ticket

    def redeem_realtime_ticket(self, ticket_hash: str) -> RealtimeTicket | None:
        return self.tickets.pop(ticket_hash, None)

    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]:
        return (self.session if self.session and self.session.id == session_id else None), self.connection

    def open_socket(self, socket: LiveSocket) -> None:
        self.sockets[socket.id] = socket

    def socket(self, socket_id: str) -> LiveSocket | None:
        return self.sockets.get(socket_id)

    def forget_socket(self, socket: LiveSocket) -> None:
        self.sockets.pop(socket.id, None)

    def user_sockets(self, user_id: str) -> list[tuple[str, str]]:
        return [(s.id, s.session_id) for s in self.sockets.values() if s.user_id == user_id]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def world(connection: Connection) -> tuple[Realtime, FakeStore, Clock]:
    store, clock = FakeStore(connection), Clock()
    current = Current(SESSION, connection)
    realtime = Realtime(store=store, authenticate=lambda creds: current, clock=clock, url="wss://rt.example.com/live")
    return realtime, store, clock


@pytest.fixture
def connection() -> Connection:
    return Connection("u1", Profile("Ada", "ada@example.com", ""), ("current_user:read",))


def ticket_of(url: str) -> str:
    return url.split("?ticket=", 1)[1]


def test_a_ticket_opens_one_socket_for_its_session_and_is_stored_only_hashed(world) -> None:  # type: ignore[no-untyped-def]
    realtime, store, _ = world
    view = realtime.ticket(Credentials("token", "bearer"))
    ticket = ticket_of(view.url)

    assert view.expires_in == 60 and view.url.startswith("wss://rt.example.com/live?ticket=")
    assert ticket not in str(store.tickets)
    socket = realtime.connect("c1", ticket)
    assert (socket.user_id, socket.session_id) == ("u1", "sid")
    with pytest.raises(Unauthorized):
        realtime.connect("c2", ticket)  # used
    assert list(store.sockets) == ["c1"]


def test_a_ticket_works_until_its_60th_second_and_never_after(world) -> None:  # type: ignore[no-untyped-def]
    realtime, _, clock = world
    early, late = (ticket_of(realtime.ticket(Credentials("t", "bearer")).url) for _ in range(2))

    clock.now = T0 + timedelta(seconds=59, microseconds=999_999)
    realtime.connect("c1", early)
    clock.now = T0 + timedelta(seconds=60)
    with pytest.raises(Unauthorized, match="60 seconds"):
        realtime.connect("c2", late)


def test_a_ticket_of_an_ended_session_opens_nothing(world) -> None:  # type: ignore[no-untyped-def]
    realtime, store, clock = world
    ticket = ticket_of(realtime.ticket(Credentials("t", "bearer")).url)
    store.session = replace(SESSION, expires_at=T0 + timedelta(seconds=10))
    clock.now = T0 + timedelta(seconds=11)

    with pytest.raises(Unauthorized):
        realtime.connect("c1", ticket)
    assert store.sockets == {}


@pytest.mark.parametrize("ticket", [None, "", "short", "x" * 43 + "!", "A" * 43])
def test_a_missing_malformed_or_unknown_ticket_is_refused(world, ticket: str | None) -> None:  # type: ignore[no-untyped-def]
    realtime, store, _ = world
    with pytest.raises(Unauthorized):
        realtime.connect("c1", ticket)
    assert store.sockets == {}


def test_without_a_realtime_url_there_is_no_ticket(connection: Connection) -> None:
    realtime = Realtime(
        store=FakeStore(connection), authenticate=lambda c: Current(SESSION, connection), clock=Clock(), url=None
    )
    with pytest.raises(NotFound):
        realtime.ticket(Credentials("t", "bearer"))
