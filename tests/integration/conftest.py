"""Fixtures the integration tests share beyond tests/conftest.py's stack."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.agents import DocumentServer


@pytest.fixture(scope="module")
def documents() -> Iterator[DocumentServer]:
    """A server of Client ID Metadata Documents (an agent's identity), for a module's tests."""
    server = DocumentServer().start()
    yield server
    server.stop()
