"""Sessions and the user's connection, the fake (MemoryStore) against the DynamoDB store: a
session read with its user's connection, deleted for its own user only, listed per user; the
connection deleted only with the marker of the sign-in that last joined it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from typing import Protocol

import pytest

from figma_auth.records import Connection, Session
from figma_auth.records.completion import SignInWrite
from figma_auth.tokens import hash_secret, new_session_token
from figma_auth.usecases.authenticate import SessionReader
from figma_auth.usecases.sessions import UserStore
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, real
from tests.support.fakes import MemoryStore


class SessionsStore(SessionReader, UserStore, Protocol):
    pass


@dataclass
class Users:
    store: SessionsStore
    sign_in: Callable[[str], Session]  # a sign-in's transaction: a new session, marking the user's connection


@pytest.fixture
def users(backend: str, request: pytest.FixtureRequest) -> Users:
    if backend == "fake":
        fake = MemoryStore()
        return Users(fake, lambda user_id: fake.sessions[hash_secret(fake.sign_in(user_id, NOW))])
    store = real(request).store
    sign_ins = count(1)

    def sign_in(user_id: str) -> Session:
        session = Session(hash_secret(new_session_token(user_id)), user_id, NOW, NOW + timedelta(days=30))
        grant = SealedBox(b"key", b"nonce-twelve", b"ciphertext")
        conn = Connection(
            user_id, ADA, ("current_user:read",), grant_box=grant, grant_expires_at=NOW, signed_in_ms=next(sign_ins)
        )
        assert store.sign_in(SignInWrite(session), conn)
        return session

    return Users(store, sign_in)


def test_a_session_is_read_with_its_users_connection(users: Users) -> None:
    session = users.sign_in("ada")
    found, conn = users.store.session_with_connection(session.id, "ada")
    assert found == session and conn is not None and conn.user_id == "ada"
    assert users.store.session_with_connection(hash_secret("gone"), "bob") == (None, None)


def test_a_session_is_deleted_for_its_own_user_only(users: Users) -> None:
    session = users.sign_in("ada")
    assert users.store.delete_session(session.id, user_id="bob") is False
    assert users.store.session_with_connection(session.id, "ada")[0] == session
    assert users.store.delete_session(session.id, user_id="ada") is True
    assert users.store.session_with_connection(session.id, "ada")[0] is None
    assert users.store.delete_session(session.id, user_id="ada") is False


def test_a_delete_without_a_user_answers_true_whether_or_not_the_session_was_there(users: Users) -> None:
    session = users.sign_in("ada")
    assert users.store.delete_session(session.id) is True
    assert users.store.delete_session(session.id) is True
    assert users.store.session_with_connection(session.id, "ada")[0] is None


def test_a_users_sessions_are_listed_and_deleted_by_id_and_nobody_elses(users: Users) -> None:
    first, second, bobs = users.sign_in("ada"), users.sign_in("ada"), users.sign_in("bob")
    assert {s.id for s in users.store.user_sessions("ada")} == {first.id, second.id}

    users.store.delete_sessions([first.id, hash_secret("gone")])

    assert [s.id for s in users.store.user_sessions("ada")] == [second.id]
    assert [s.id for s in users.store.user_sessions("bob")] == [bobs.id]


def test_a_connection_is_deleted_only_with_the_marker_of_the_sign_in_that_last_joined_it(users: Users) -> None:
    users.sign_in("ada")
    earlier = users.store.connection_touched("ada")
    users.sign_in("ada")
    latest = users.store.connection_touched("ada")
    assert earlier is not None and latest is not None and earlier != latest

    assert users.store.delete_connection("ada", touched=earlier) is False
    assert users.store.connection_touched("ada") == latest
    assert users.store.delete_connection("ada", touched=latest) is True
    assert users.store.connection_touched("ada") is None
    assert users.store.delete_connection("ada", touched=latest) is False


def test_a_delete_of_a_connection_without_a_marker_answers_true_whether_or_not_it_was_there(users: Users) -> None:
    users.sign_in("ada")
    assert users.store.delete_connection("ada") is True
    assert users.store.session_with_connection("x", "ada")[1] is None
    assert users.store.delete_connection("ada") is True
