"""The store's attribute codec writes what boto3's TypeSerializer writes and reads what its
TypeDeserializer reads (figma_auth.store.codec: the layer's own, so a cold start never imports
boto3): the same format, the same Python types, the same refusals."""

from __future__ import annotations

import decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from figma_auth.store import codec

# boto3's own codec, the reference (Any: its stubs type the attributes more narrowly than a test needs)
BOTO_WRITE: Any = TypeSerializer()
BOTO_READ: Any = TypeDeserializer()

VALUES: dict[str, Any] = {
    "string": "héllo",
    "empty string": "",
    "int": 1_767_225_600,
    "negative int": -42,
    "zero": 0,
    "big int (38 digits)": 10**37,
    "decimal": decimal.Decimal("3.14"),
    "tiny decimal": decimal.Decimal("1E-128"),
    "true": True,
    "false": False,
    "none": None,
    "bytes": b"\x00\xffsealed",
    "bytearray": bytearray(b"nonce"),
    "string set": {"a", "b"},
    "number set": {1, 2, 3},
    "binary set": {b"x", b"y"},
    "empty set": set(),
    "list": ["a", 1, True, None, b"k", {"nested": [decimal.Decimal("0.5")]}],
    "tuple": ("a", 2),
    "map": {"k": b"key", "n": b"nonce", "c": b"cipher", "scopes": ["file_content:read"], "at": 5},
    "empty map": {},
}


def _bytes(binary: Any) -> bytes:
    return bytes(binary.value)


def _same(ours: Any, boto: Any) -> None:
    if isinstance(boto, Binary):
        assert ours == _bytes(boto) and type(ours) is bytes
    elif isinstance(boto, dict):
        assert ours.keys() == boto.keys()
        for k in boto:
            _same(ours[k], boto[k])
    elif isinstance(boto, list):
        assert len(ours) == len(boto)
        for a, b in zip(ours, boto, strict=True):
            _same(a, b)
    elif isinstance(boto, set) and any(isinstance(v, Binary) for v in boto):
        assert ours == {_bytes(v) for v in boto}
    else:
        assert ours == boto and type(ours) is type(boto)


def _sorted_sets(attribute: dict[str, Any]) -> dict[str, Any]:
    [(kind, value)] = attribute.items()
    if kind in ("SS", "NS", "BS"):
        return {kind: sorted(value)}
    if kind == "M":
        return {kind: {k: _sorted_sets(v) for k, v in value.items()}}
    if kind == "L":
        return {kind: [_sorted_sets(v) for v in value]}
    return attribute


@pytest.mark.parametrize("name", list(VALUES))
def test_a_value_is_written_as_boto3_writes_it_and_read_back_as_boto3_reads_it(name: str) -> None:
    value = VALUES[name]
    written = codec.serialize(value)
    assert _sorted_sets(written) == _sorted_sets(BOTO_WRITE.serialize(value))
    _same(codec.deserialize(written), BOTO_READ.deserialize(written))


@pytest.mark.parametrize(
    "value",
    [1.5, decimal.Decimal("Infinity"), decimal.Decimal("NaN"), 10**38 + 1, decimal.Decimal("1E+127"), object(), {1.5}],
    ids=["float", "infinity", "nan", "39 digits", "exponent too big", "object", "set of floats"],
)
def test_what_dynamodb_cannot_hold_is_refused_as_boto3_refuses_it(value: Any) -> None:
    with pytest.raises((TypeError, decimal.DecimalException)) as boto:
        BOTO_WRITE.serialize(value)
    with pytest.raises(boto.type) as ours:
        codec.serialize(value)
    assert str(ours.value) == str(boto.value)  # the same words: what to fix


@pytest.mark.parametrize("attribute", [{}, {"X": "1"}], ids=["empty", "unknown type"])
def test_an_attribute_that_is_no_dynamodb_type_is_refused(attribute: dict[str, Any]) -> None:
    with pytest.raises(TypeError, match="nonempty dictionary|not supported") as boto:
        BOTO_READ.deserialize(attribute)
    with pytest.raises(TypeError) as ours:
        codec.deserialize(attribute)
    assert str(ours.value) == str(boto.value)


def test_an_item_and_expression_values_are_whole_items_of_those_attributes() -> None:
    assert codec.marshal(pk="USER#1", ttl=5, gone=None, sealed=b"x") == {
        "pk": {"S": "USER#1"},
        "ttl": {"N": "5"},
        "sealed": {"B": b"x"},
    }
    assert codec.values({"now": 7, "none": None}) == {":now": {"N": "7"}, ":none": {"NULL": True}}
    assert codec.unmarshal({"n": {"N": "7"}, "b": {"B": b"x"}}) == {"n": decimal.Decimal(7), "b": b"x"}
