"""Metrics never pile up in memory when they are disabled (the local stack, tests)."""

from __future__ import annotations

import pytest

from figma_auth.observability import metrics, metrics_count


def test_counting_with_metrics_disabled_buffers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    metrics.clear_metrics()

    for _ in range(100):
        metrics_count("ProxyCalls2xx")

    assert metrics.metric_set == {}


def test_counting_with_metrics_enabled_buffers_until_the_flush(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.clear_metrics()

    metrics_count("ProxyCalls2xx")

    assert metrics.metric_set["ProxyCalls2xx"]["Value"] == [1.0]
    metrics.clear_metrics()
