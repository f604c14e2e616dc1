"""Schemathesis (4.32, on pytest 9) gives every operation's test the test function's node id alone,
without its operation (pytest builds the id from ``originalname``); pytest-xdist
(`make test` runs two workers) tells its items apart by node id and would run one operation per
fuzzer. Each item's node id gets its operation (``…[GET /auth/session]``), as plain parametrize
would; ``test_the_fuzzing_ran_its_share…`` fails when the fuzzers run less than their share."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        label = getattr(item, "operation_label", None)
        if label and not item.nodeid.endswith("]"):
            item._id = item._id.with_params(label)  # pytest's NodeId (pytest is pinned)
