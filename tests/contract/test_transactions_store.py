"""Why DynamoDB cancelled a transaction, as the store reads it (``codec.cancelled_by``) from
DynamoDB Local's own TransactionCanceledException: a transaction is cancelled *by* an item only
when that item's condition failed and nothing else did (the store then goes on: a user code
taken, a later sign-in's grant kept); anything more is an error it raises."""

from __future__ import annotations

from typing import Any

import pytest

from figma_auth.store.codec import cancellation_reasons, cancelled_by, key
from tests.support.contract import Table


def new_items_transaction(table: Table, *names: str) -> Any:
    """The exception of one transaction putting ``names`` as items that must not exist yet."""
    puts = [
        {"Put": {"TableName": table.name, "Item": key(name, "X"), "ConditionExpression": "attribute_not_exists(pk)"}}
        for name in names
    ]
    with pytest.raises(table.client.exceptions.TransactionCanceledException) as cancelled:
        table.client.transact_write_items(TransactItems=puts)
    return cancelled.value


def test_a_transaction_is_cancelled_by_the_one_item_whose_condition_alone_failed(table: Table) -> None:
    table.client.put_item(TableName=table.name, Item=key("taken", "X"))

    exc = new_items_transaction(table, "new", "taken")

    assert cancellation_reasons(exc) == ["None", "ConditionalCheckFailed"]
    assert cancelled_by(exc, 1) is True
    assert cancelled_by(exc, 0) is False
    assert cancelled_by(exc, 2) is False  # no third item: nothing of it failed


def test_a_transaction_whose_two_conditions_failed_is_cancelled_by_neither_alone(table: Table) -> None:
    for name in ("taken", "also-taken"):
        table.client.put_item(TableName=table.name, Item=key(name, "X"))

    exc = new_items_transaction(table, "taken", "also-taken")

    assert cancellation_reasons(exc) == ["ConditionalCheckFailed", "ConditionalCheckFailed"]
    assert cancelled_by(exc, 0) is False
    assert cancelled_by(exc, 1) is False
