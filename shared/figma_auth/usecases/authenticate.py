"""Who a request is: the session its token names and the user's connection, in one DynamoDB
read (Appwrite's session check). Its own module: sign-in's start (authorize) asks it whether the
browser is already signed in without loading the session views, the refresh engine or Figma's
client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from figma_auth.credentials import Credentials
from figma_auth.errors import Unauthorized
from figma_auth.records import Connection, Current, Session
from figma_auth.tokens import hash_secret, user_of_token

Clock = Callable[[], datetime]


class SessionReader(Protocol):
    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]: ...
    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool: ...


class Authenticate:
    """The session a token names and its user's connection (one DynamoDB read); an expired
    session is deleted on sight."""

    def __init__(self, *, store: SessionReader, clock: Clock) -> None:
        self.store, self.clock = store, clock

    def __call__(self, creds: Credentials) -> Current:
        token = creds.token
        user_id = user_of_token(token) if token else None
        if token is None or user_id is None:
            raise Unauthorized()
        session, connection = self.store.session_with_connection(hash_secret(token), user_id)
        if session is None or not session.activated or session.user_id != user_id:
            raise Unauthorized()
        if session.expires_at <= self.clock():
            self.store.delete_session(session.id)
            raise Unauthorized("Your session expired. Sign in with Figma again.")
        if connection is None:
            raise Unauthorized("This Figma connection was disconnected. Sign in with Figma again.")
        return Current(session, connection)
