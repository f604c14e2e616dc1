"""What the contract suite's cases share (tests/contract): the moment they start from, a
profile, and the DynamoDB store's table with a way to arrange items on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from figma_auth.records import Connection, Profile
from figma_auth.store import Store
from figma_auth.store.codec import unmarshal
from figma_auth.store.connections import connection_item

NOW = datetime.now(UTC).replace(microsecond=0)  # the table's TTL runs on the real clock: items live from now on
ADA = Profile("Ada Lovelace", "ada@example.com", "https://img.example/ada.png")


@dataclass
class Table:
    """The real store on its own table, and the table itself for arranging what a case needs."""

    store: Store
    client: Any
    name: str

    def item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item at ``key`` (a store module's key for it), as plain values; None when absent."""
        found = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True).get("Item")
        return unmarshal(found) if found is not None else None

    def put_connection(self, conn: Connection) -> None:
        """The user's connection as a sign-in leaves it."""
        self.client.put_item(TableName=self.name, Item=connection_item(conn, ttl=None))


def real(request: pytest.FixtureRequest) -> Table:
    """The ``table`` fixture (tests/contract/conftest.py), asked for by the ``dynamodb`` cases
    only: the fakes' cases start no DynamoDB Local."""
    found: Table = request.getfixturevalue("table")
    return found
