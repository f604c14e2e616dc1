"""DynamoDB's attribute-value format, and nothing of ours: plain values to ``{"S": …}`` and
back, a key from its ``pk`` and ``sk``, and why a transaction was cancelled. The store's modules
lay their items out with these; the local stack's seed and the bench write through the store's
shapes, so a stored item has one format wherever it was written."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@functools.cache
def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def marshal(**fields: Any) -> dict[str, Any]:
    """An item from plain values (None means: no such attribute)."""
    serialize = _serializer().serialize
    return {name: serialize(value) for name, value in fields.items() if value is not None}


def values(named: dict[str, Any]) -> dict[str, Any]:
    """``ExpressionAttributeValues`` for ``:name`` placeholders."""
    serialize = _serializer().serialize
    return {f":{name}": serialize(value) for name, value in named.items()}


def unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    deserialize = _deserializer().deserialize
    return {name: deserialize(value) for name, value in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def cancelled_by(exc: Any, index: int) -> bool:
    """Whether a cancelled transaction failed only on item ``index``'s condition."""
    reasons = cancellation_reasons(exc)
    return (
        len(reasons) > index
        and reasons[index] == "ConditionalCheckFailed"
        and all(code in ("None", None) for i, code in enumerate(reasons) if i != index)
    )


def cancellation_reasons(exc: Any) -> list[str | None]:
    return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
