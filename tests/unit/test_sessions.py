"""Session tokens, and the sessions use case's logout rules with an in-memory store typed
against the use case's Protocols: what ends, and when the user's connection (their Figma
grant) goes with it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from figma_auth import tokens
from figma_auth.credentials import Credentials
from figma_auth.engine import Fresh
from figma_auth.errors import InvalidRequest
from figma_auth.models.sessions import LogoutRequest
from figma_auth.records import Connection
from figma_auth.tokens import new_session_token, user_of_token
from figma_auth.usecases.sessions import Authenticate, EndUser, Sessions
from tests.support.fakes import MemoryStore
from tests.support.publisher import Published

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("user_id", ["1143925780461227139", "9", "user.with.dots", "x" * 128])
def test_a_session_token_names_its_user(user_id: str) -> None:
    token = new_session_token(user_id)
    assert user_of_token(token) == user_id and token != new_session_token(user_id)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "no-dot-at-all",
        "MTE0." + "a" * 42,  # secret too short
        "MTE0." + "a" * 44,  # too long
        "." + "a" * 43,  # no user
        "!!!!." + "a" * 43,  # not base64url
        tokens.b64url(b"\xff\xfe") + "." + "a" * 43,  # not UTF-8
        tokens.b64url(b"a\nb") + "." + "a" * 43,  # not printable
        tokens.b64url(b"x" * 129) + "." + "a" * 43,  # longer than any Figma id
    ],
)
def test_a_malformed_session_token_names_nobody(token: str) -> None:
    assert user_of_token(token) is None


class NoRefresh:
    """Logout never renews a grant: a call here fails the test."""

    def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh:
        raise AssertionError("logout refreshed a grant")


class World:
    """The sessions use case over ``store``, as runtime wires it."""

    def __init__(self, store: MemoryStore, *, offline: bool = False) -> None:
        self.published = Published()
        self.authenticate = Authenticate(store=store, clock=lambda: NOW)
        end_user = EndUser(store=store, publish=self.published, offline_access=offline, clock=lambda: NOW)
        self.sessions = Sessions(
            store=store,
            authenticate=self.authenticate,
            engine=NoRefresh(),
            end_user=end_user,
            clock=lambda: NOW,
            leeway_seconds=300,
            expose_token=True,
        )

    def logout(self, creds: Credentials, request: LogoutRequest) -> bool:
        return self.sessions.logout(creds, request)


def service(store: MemoryStore, *, offline: bool = False) -> World:
    return World(store, offline=offline)


def cookie(token: str) -> Credentials:
    return Credentials(token, "cookie")


def test_ending_one_of_two_sessions_keeps_the_connection_and_the_last_one_takes_it() -> None:
    store = MemoryStore()
    laptop, phone = store.sign_in("42"), store.sign_in("42")
    auth = service(store)

    assert auth.logout(cookie(laptop), LogoutRequest()) is True
    assert "42" in store.connections
    assert auth.logout(cookie(phone), LogoutRequest()) is True
    assert store.connections == {} and store.sessions == {}


def test_offline_access_keeps_the_connection_after_the_last_session() -> None:
    store = MemoryStore()
    auth = service(store, offline=True)

    auth.logout(cookie(store.sign_in("42")), LogoutRequest())

    assert "42" in store.connections and store.sessions == {}


def test_all_ends_every_session_of_the_user_and_nobody_elses() -> None:
    store = MemoryStore()
    mine, _ = store.sign_in("42"), store.sign_in("42")
    theirs = store.sign_in("7")

    service(store).logout(cookie(mine), LogoutRequest(all=True))

    assert [s.user_id for s in store.sessions.values()] == ["7"] and set(store.connections) == {"7"}
    assert service(store).authenticate(cookie(theirs)).session.user_id == "7"


def test_disconnect_deletes_the_connection_even_with_offline_access() -> None:
    store = MemoryStore()
    auth = service(store, offline=True)

    auth.logout(cookie(store.sign_in("42")), LogoutRequest(all=True, disconnect=True))

    assert store.connections == {} and store.deleted_connections == ["42"]


def test_disconnect_without_all_is_invalid_request() -> None:
    store = MemoryStore()
    with pytest.raises(InvalidRequest):
        service(store).logout(cookie(store.sign_in("42")), LogoutRequest(disconnect=True))
    assert len(store.sessions) == 1


def test_a_sign_in_that_joined_meanwhile_keeps_the_connection_on_logout_all() -> None:
    store = MemoryStore()
    token = store.sign_in("42")
    auth = service(store)
    store.joins_while_listing = True  # a sign-in joins the connection while we delete its sessions
    auth.logout(cookie(token), LogoutRequest(all=True))

    assert "42" in store.connections  # the newcomer's session still has its grant


def test_hardening_7_every_ended_session_is_announced_with_its_sid_so_jwts_naming_it_can_be_refused() -> None:
    store = MemoryStore()
    laptop, phone, other = store.sign_in("42"), store.sign_in("42"), store.sign_in("42")
    auth = service(store)
    sid = {token: tokens.hash_secret(token) for token in (laptop, phone, other)}

    auth.logout(cookie(laptop), LogoutRequest(session_id=sid[other]))  # one of the user's other sessions
    auth.logout(cookie(laptop), LogoutRequest())  # this one
    auth.logout(cookie(phone), LogoutRequest(all=True, disconnect=True))  # the rest

    ended = [(d["sid"], d["reason"]) for t, d in auth.published.events if t == "SessionEnded"]
    assert ended == [(sid[other], "logout"), (sid[laptop], "logout"), (sid[phone], "disconnect")]
    assert all(d["user_id"] == "42" for t, d in auth.published.events if t == "SessionEnded")


def test_hardening_7_a_session_that_was_not_deleted_is_not_announced() -> None:
    store = MemoryStore()
    mine, theirs = store.sign_in("42"), store.sign_in("7")
    auth = service(store)

    auth.logout(cookie(mine), LogoutRequest(session_id=tokens.hash_secret(theirs)))  # not this user's

    assert [t for t, _ in auth.published.events] == [] and len(store.sessions) == 2
