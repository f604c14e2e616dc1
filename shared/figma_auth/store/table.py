"""What every part of the store shares: the table (its indexes), its client, and the one way a
single-item conditional write is made."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from figma_auth.errors import TemporarilyUnavailable
from figma_auth.store.codec import key, marshal, unmarshal, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

BY_USER = "by_user"  # GSI: user_key → the user's sessions (and every webhook)
BY_REFRESH_DUE = "by_refresh_due"  # GSI: due_day → connections by due_at
BY_LISTING = "by_listing"  # GSI: listing ("CONN", connections only) → connections by created_at


@dataclass(frozen=True)
class Kind:
    """An item kind keyed the table's usual way: ``<name>#<id>`` / ``<name>``. Each store module
    names its own kinds; nothing else spells their keys."""

    name: str

    def pk(self, ident: str) -> str:
        return f"{self.name}#{ident}"

    def ident(self, pk: str) -> str:
        """The id that ``pk``, this kind's partition key, names."""
        return pk.removeprefix(f"{self.name}#")

    def key(self, ident: str) -> dict[str, Any]:
        return key(self.pk(ident), self.name)

    def item(self, ident: str, **fields: Any) -> dict[str, Any]:
        """The item ``ident`` names, with ``fields`` (None: no such attribute)."""
        return {**self.key(ident), **marshal(**fields)}


class Table:
    def __init__(self, *, table_name: str, client: DynamoDBClient, sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table_name
        self.db = client
        self.sleep = sleep

    def _update(
        self,
        key: dict[str, Any],
        expression: str,
        condition: str | None = None,
        *,
        names: dict[str, str] | None = None,
        **named: Any,
    ) -> bool:
        """One UpdateItem with ``:name`` values (and ``#name`` names); False when ``condition`` did not hold."""
        extra: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        return self._conditional(self.db.update_item, key, condition, named, UpdateExpression=expression, **extra)

    def _delete(self, key: dict[str, Any], condition: str | None = None, **named: Any) -> bool:
        """One DeleteItem; False when ``condition`` did not hold."""
        return self._conditional(self.db.delete_item, key, condition, named)

    def _conditional(
        self,
        write: Callable[..., Any],
        key: dict[str, Any],
        condition: str | None,
        named: dict[str, Any],
        **extra: Any,
    ) -> bool:
        if condition:
            extra["ConditionExpression"] = condition
        if named:
            extra["ExpressionAttributeValues"] = values(named)
        try:
            write(TableName=self.table, Key=key, **extra)
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _query_pages(self, **query: Any) -> Iterator[list[dict[str, Any]]]:
        """One Query, a page of (unmarshalled) items at a time, until DynamoDB has no more."""
        while True:
            answer = self.db.query(TableName=self.table, **query)
            yield [unmarshal(item) for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                return
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def _get_many(
        self, keys: list[dict[str, Any]], *, consistent: bool = True
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """Up to 100 items in one BatchGetItem (what DynamoDB leaves unprocessed asked again, with
        backoff), unmarshalled, by (pk, sk); a key without an item is absent."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        if not keys:
            return found
        pending: Any = {self.table: {"Keys": keys, "ConsistentRead": consistent}}
        for attempt in range(4):
            answer = self.db.batch_get_item(RequestItems=pending)
            for raw in answer.get("Responses", {}).get(self.table, []):
                item = unmarshal(raw)
                found[(item["pk"], item["sk"])] = item
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                return found
            self.sleep(0.05 * 2**attempt)
        raise TemporarilyUnavailable(retry_after=1)

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        """A transaction's Put of an item that must not exist yet."""
        return {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def _transact(self, items: list[dict[str, Any]]) -> None:
        self.db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
