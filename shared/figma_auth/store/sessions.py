"""Sessions (``SESSION#<hash of the token>`` / ``SESSION``, in the by_user index under
``USER#<user id>``): their key and shape, and their reads (one with the user's connection and
rate-limit ledger) and deletes."""

from __future__ import annotations

from typing import Any

from figma_auth.errors import SessionsLeft
from figma_auth.records import CLIENTS, Connection, Session
from figma_auth.store.codec import values
from figma_auth.store.connections import connection_in, connection_keys
from figma_auth.store.table import BY_USER, Kind, Table
from figma_auth.times import iso, parse_iso

SESSION = Kind("SESSION")  # by the SHA-256 of the session token


def user_key(user_id: str) -> str:
    """The user's sessions' partition in the by_user index."""
    return f"USER#{user_id}"


def session_item(s: Session) -> dict[str, Any]:
    return SESSION.item(
        s.id,
        user_id=s.user_id,
        user_key=user_key(s.user_id),
        created_at=iso(s.created_at),
        expires_at=iso(s.expires_at),
        ttl=int(s.expires_at.timestamp()),
        # An agent's name rides in ``client`` ("agent:<name>"): the by_user index projects
        # ``client``, and a deployed index's projection cannot change in place.
        client=f"agent:{s.client_name}" if s.client == "agent" and s.client_name else s.client,
        activated=s.activated,
    )


def session_from(item: dict[str, Any]) -> Session:
    client, _, name = str(item.get("client", "")).partition(":")
    return Session(
        id=SESSION.ident(item["pk"]),
        user_id=item["user_id"],
        created_at=parse_iso(item["created_at"]),
        expires_at=parse_iso(item["expires_at"]),
        client=client if client in CLIENTS else "web",  # type: ignore[arg-type]
        activated=item.get("activated", True),
        client_name=name if client == "agent" and name else None,
    )


class SessionsTable(Table):
    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]:
        """The session, its user's connection and their rate-limit ledger in one consistent
        BatchGetItem."""
        found = self._get_many([SESSION.key(session_id), *connection_keys(user_id)])
        session = found.get((SESSION.pk(session_id), SESSION.name))
        return (session_from(session) if session else None, connection_in(found, user_id))

    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool:
        """Delete one session; with ``user_id``, only if it is that user's."""
        found = SESSION.key(session_id)
        if user_id is None:
            return self._delete(found)
        return self._delete(found, "user_id = :u", u=user_id)

    def user_sessions(self, user_id: str) -> list[Session]:
        """Every session of the user, as the by_user index has them (eventually consistent)."""
        pages = self._query_pages(
            IndexName=BY_USER,
            KeyConditionExpression="user_key = :u",
            ExpressionAttributeValues=values({"u": user_key(user_id)}),
        )
        return [session_from(item) for page in pages for item in page]

    def delete_sessions(self, session_ids: list[str], *, attempts: int = 6) -> None:
        """Delete many sessions, 25 a batch, retrying what DynamoDB leaves unprocessed with
        backoff. Raises SessionsLeft (503) if anything is still left (a retry finishes)."""
        for start in range(0, len(session_ids), 25):
            pending: Any = {
                self.table: [{"DeleteRequest": {"Key": SESSION.key(sid)}} for sid in session_ids[start : start + 25]]
            }
            for attempt in range(attempts):
                pending = self.db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                self.sleep(min(0.05 * 2**attempt, 1.0))
            if pending:
                raise SessionsLeft(retry_after=1)

    def activate_session(self, session_id: str) -> bool:
        return self._update(SESSION.key(session_id), "SET activated = :t", "attribute_exists(pk)", t=True)
