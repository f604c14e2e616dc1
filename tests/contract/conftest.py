"""The contract suite's two backends: each in-memory fake the unit tests use
(tests/support/fakes.py) and the DynamoDB ``Store`` on DynamoDB Local (AWS's engine), on a table
of its own, emptied before each case. Every case runs against both: ``backend`` names which."""

from __future__ import annotations

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


@pytest.fixture
def table(contract_client: Any) -> Iterator[Table]:
    """The DynamoDB store on an empty table (made on first use, emptied before each case)."""
    if TABLE not in contract_client.list_tables()["TableNames"]:
        aws.create_table(contract_client.meta.endpoint_url, TABLE)
    aws.empty_table(contract_client, TABLE)
    yield Table(Store(table_name=TABLE, client=contract_client), contract_client, TABLE)
