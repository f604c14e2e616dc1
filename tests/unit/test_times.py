"""Times (figma_auth.times): timezone-aware UTC whatever the process's zone, written with a Z and
read back from any offset."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

from figma_auth import times


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_utc_whatever_the_process_zone(new_york: Any) -> None:
    assert times.utcnow().tzinfo is UTC
    moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert times.iso(moment) == "2026-12-01T12:00:00Z"
    assert times.parse_iso("2026-12-01T12:00:00Z") == moment and times.parse_iso("2026-12-01T12:00:00Z").tzinfo is UTC


def test_parse_iso_reads_an_offset_too() -> None:
    assert times.parse_iso("2026-12-01T07:00:00-05:00") == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
