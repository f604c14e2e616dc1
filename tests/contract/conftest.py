"""The contract suite's two backends: each in-memory fake the unit tests use
(tests/support/fakes.py) and the DynamoDB ``Store`` on DynamoDB Local (AWS's engine), on a table
of its own, emptied before each case. Every case runs against both: ``backend`` names which."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from devstack import aws
from figma_auth import items
from figma_auth.records import Connection, Profile
from figma_auth.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)  # the table's TTL runs on the real clock: items live from now on
ADA = Profile("Ada Lovelace", "ada@example.com", "https://img.example/ada.png")
TABLE = "figma-auth-contract"


@dataclass
class Table:
    """The real store on its own table, and the table itself for arranging what a case needs."""

    store: Store
    client: Any
    name: str

    def put(self, item: dict[str, Any]) -> None:
        self.client.put_item(TableName=self.name, Item=item)

    def put_connection(self, conn: Connection) -> None:
        """The user's connection as a sign-in leaves it."""
        self.put(items.connection_item(conn, ttl=None))


@pytest.fixture(params=["fake", "dynamodb"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def contract_client(dynamodb_endpoint: str) -> Any:
    return aws.client("dynamodb", dynamodb_endpoint)


@pytest.fixture
def table(contract_client: Any) -> Iterator[Table]:
    """The DynamoDB store on an empty table (made on first use, emptied before each case)."""
    if TABLE not in contract_client.list_tables()["TableNames"]:
        aws.create_table(contract_client.meta.endpoint_url, TABLE)
    aws.empty_table(contract_client, TABLE)
    yield Table(Store(table_name=TABLE, client=contract_client), contract_client, TABLE)


def real(request: pytest.FixtureRequest) -> Table:
    """The ``table`` fixture, asked for only by the ``dynamodb`` cases (the fakes start no Java)."""
    found: Table = request.getfixturevalue("table")
    return found
