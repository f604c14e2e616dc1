"""What every part of the store shares: the table, its client, and the one way a single-item
conditional write is made."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from figma_auth.items import unmarshal, values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


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

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        """A transaction's Put of an item that must not exist yet."""
        return {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}

    def _transact(self, items: list[dict[str, Any]]) -> None:
        self.db.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
