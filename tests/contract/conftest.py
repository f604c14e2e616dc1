"""The contract suite's two backends: each in-memory fake the unit tests use
(tests/support/fakes.py) and the DynamoDB ``Store`` on DynamoDB Local (AWS's engine), on a table
of its own, emptied before each case. Every case runs against both: ``backend`` names which."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import aws
from figma_auth.store import Store
from tests.support.contract import Table

TABLE = "figma-auth-contract"


@pytest.fixture(params=["fake", "dynamodb"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def contract_client(dynamodb_endpoint: str) -> Any:
    return aws.client("dynamodb", dynamodb_endpoint)


@pytest.fixture(scope="session")
def contract_table(contract_client: Any) -> Iterator[str]:
    """The table's name. On a DynamoDB Local of this run's own, one fixed name; on one named by
    ``FIGMA_AUTH_DYNAMODB_ENDPOINT`` (`make mutate`'s, shared by its test runs) one per process,
    dropped at the end, so runs side by side never empty each other's table."""
    if not os.environ.get("FIGMA_AUTH_DYNAMODB_ENDPOINT"):
        yield TABLE
        return
    name = f"{TABLE}-{os.getpid()}"
    yield name
    if name in contract_client.list_tables()["TableNames"]:
        contract_client.delete_table(TableName=name)


@pytest.fixture
def table(contract_client: Any, contract_table: str) -> Iterator[Table]:
    """The DynamoDB store on an empty table (made on first use, emptied before each case)."""
    if contract_table not in contract_client.list_tables()["TableNames"]:
        aws.create_table(contract_client.meta.endpoint_url, contract_table)
    aws.empty_table(contract_client, contract_table)
    yield Table(Store(table_name=contract_table, client=contract_client), contract_client, contract_table)
