"""Sessions and the reads and deletes of a user's connection that sessions need."""

from __future__ import annotations

from typing import Any

from figma_auth import items
from figma_auth.errors import SessionsLeft, TemporarilyUnavailable
from figma_auth.records import Connection, Session
from figma_auth.store.table import Table


class SessionsTable(Table):
    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]:
        """The session and its user's connection in one consistent BatchGetItem."""
        keys = [items.session_key(session_id), items.connection_key(user_id)]
        found: dict[str, dict[str, Any]] = {}
        pending: Any = {self.table: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(4):
            answer = self.db.batch_get_item(RequestItems=pending)
            for raw in answer.get("Responses", {}).get(self.table, []):
                item = items.unmarshal(raw)
                found[item["pk"]] = item
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            self.sleep(0.05 * 2**attempt)
        else:
            raise TemporarilyUnavailable(retry_after=1)
        session = found.get(f"SESSION#{session_id}")
        conn = found.get(f"CONN#{user_id}")
        return (items.session_from(session) if session else None, items.connection_from(conn) if conn else None)

    def get_connection(self, user_id: str) -> Connection | None:
        answer = self.db.get_item(TableName=self.table, Key=items.connection_key(user_id), ConsistentRead=True)
        return items.connection_from(items.unmarshal(answer["Item"])) if "Item" in answer else None

    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool:
        """Delete one session; with ``user_id``, only if it is that user's."""
        key = items.session_key(session_id)
        if user_id is None:
            return self._delete(key)
        return self._delete(key, "user_id = :u", u=user_id)

    def user_sessions(self, user_id: str) -> list[Session]:
        """Every session of the user, as the by_user index has them (eventually consistent)."""
        pages = self._query_pages(
            IndexName=items.BY_USER,
            KeyConditionExpression="user_key = :u",
            ExpressionAttributeValues=items.values({"u": f"USER#{user_id}"}),
        )
        return [items.session_from(item) for page in pages for item in page]

    def delete_sessions(self, session_ids: list[str], *, attempts: int = 6) -> None:
        """Delete many sessions, 25 a batch, retrying what DynamoDB leaves unprocessed with
        backoff. Raises SessionsLeft (503) if anything is still left (a retry finishes)."""
        for start in range(0, len(session_ids), 25):
            pending: Any = {
                self.table: [
                    {"DeleteRequest": {"Key": items.session_key(sid)}} for sid in session_ids[start : start + 25]
                ]
            }
            for attempt in range(attempts):
                pending = self.db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                self.sleep(min(0.05 * 2**attempt, 1.0))
            if pending:
                raise SessionsLeft(retry_after=1)

    def delete_connection(self, user_id: str, *, touched: str | None = None) -> bool:
        """Delete the connection (its grant with it); with ``touched``, only if no sign-in
        joined it since it was read."""
        key = items.connection_key(user_id)
        if touched is None:
            return self._delete(key)
        return self._delete(key, "touched = :t", t=touched)

    def connection_scopes(self, user_id: str) -> tuple[str, ...] | None:
        """The scopes the user's connection holds (None: no connection)."""
        found = self._connection_attribute(user_id, "scopes")
        return tuple(found.get("scopes", ())) if found is not None else None

    def connection_touched(self, user_id: str) -> str | None:
        """The marker the last sign-in left on the connection (None: no connection)."""
        found = self._connection_attribute(user_id, "touched")
        return str(found.get("touched", "")) if found is not None else None

    def _connection_attribute(self, user_id: str, name: str) -> dict[str, Any] | None:
        """One attribute of the user's connection, read consistently ({} without it; None: no connection)."""
        item = self.db.get_item(
            TableName=self.table, Key=items.connection_key(user_id), ConsistentRead=True, ProjectionExpression=name
        ).get("Item")
        return items.unmarshal(item) if item else None
