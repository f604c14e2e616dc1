"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from figma_auth import observability


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the CloudWatch metrics the code under test counts, in order: metrics on
    (as in Lambda), Powertools' add_metric recording instead of buffering for a flush."""
    names: list[str] = []

    def add_metric(*, name: str, unit: Any, value: float, **_: Any) -> None:
        names.extend([name] * int(value))

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setattr(observability.metrics, "add_metric", add_metric)
    yield names
