"""DynamoDB's attribute-value format, and nothing of ours: plain values to ``{"S": …}`` and
back, a key from its ``pk`` and ``sk``, and why a transaction was cancelled. The store's modules
lay their items out with these; the local stack's seed and the bench write through the store's
shapes, so a stored item has one format wherever it was written.

The same format and the same Python types as boto3's ``TypeSerializer``/``TypeDeserializer``
(``tests/unit/test_codec.py`` holds them side by side), except that a binary value reads back as
``bytes``, not boto3's ``Binary`` wrapper. Written here because importing ``boto3.dynamodb.types``
imports boto3's package, its session and s3transfer: ≈ 25 ms of every cold start, for a codec of some
sixty lines (docs/BENCHMARKS.md, section 3b)."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping, Set
from typing import Any

# DynamoDB's numbers: 38 digits, exponents -128..126, never rounded (boto3's DYNAMODB_CONTEXT).
_NUMBERS = decimal.Context(
    Emin=-128,
    Emax=126,
    prec=38,
    traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded, decimal.Underflow],
)


def _number(value: int | decimal.Decimal) -> str:
    number = str(_NUMBERS.create_decimal(value))
    if number in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return isinstance(value, (int, decimal.Decimal))


def _is_binary(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray))


def serialize(value: Any) -> dict[str, Any]:
    """One value as DynamoDB's ``{"TYPE": value}``, its type chosen in boto3's order;
    ``TypeError`` for what DynamoDB cannot hold (a float: use ``Decimal``)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if _is_binary(value):
        return {"B": value}
    if isinstance(value, Set):
        if all(_is_number(v) for v in value):
            return {"NS": [_number(v) for v in value]}
        if all(isinstance(v, str) for v in value):
            return {"SS": list(value)}
        if all(_is_binary(v) for v in value):
            return {"BS": list(value)}
    if isinstance(value, Mapping):
        return {"M": {k: serialize(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


_READ: dict[str, Callable[[Any], Any]] = {
    "s": lambda value: value,
    "bool": lambda value: value,
    "null": lambda value: None,
    "n": _NUMBERS.create_decimal,
    "b": bytes,
    "ss": set,
    "ns": lambda value: {_NUMBERS.create_decimal(v) for v in value},
    "bs": lambda value: {bytes(v) for v in value},
    "l": lambda value: [deserialize(v) for v in value],
    "m": lambda value: {k: deserialize(v) for k, v in value.items()},
}


def deserialize(attribute: dict[str, Any]) -> Any:
    """A ``{"TYPE": value}`` as a Python value: numbers as ``Decimal``, binaries as ``bytes``."""
    if not attribute:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind = next(iter(attribute))
    read = _READ.get(kind.lower())
    if read is None:
        raise TypeError(f"Dynamodb type {kind} is not supported")
    return read(attribute[kind])


def marshal(**fields: Any) -> dict[str, Any]:
    """An item from plain values (None means: no such attribute)."""
    return {name: serialize(value) for name, value in fields.items() if value is not None}


def values(named: dict[str, Any]) -> dict[str, Any]:
    """``ExpressionAttributeValues`` for ``:name`` placeholders."""
    return {f":{name}": serialize(value) for name, value in named.items()}


def unmarshal(item: dict[str, Any]) -> dict[str, Any]:
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
