"""Metrics never pile up in memory when they are disabled (the local stack, tests), and a
request that counted nothing flushes without a warning on stderr."""

from __future__ import annotations

import subprocess
import sys

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


def test_a_request_that_counted_nothing_writes_no_warning_to_stderr() -> None:
    from tests.support.handlers import INVOKE_NOT_FOUND, fresh_env

    env = fresh_env(POWERTOOLS_METRICS_DISABLED="false")
    ran = subprocess.run(
        [sys.executable, "-W", "default", "-c", INVOKE_NOT_FOUND], env=env, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0 and '"statusCode": 404' in ran.stdout, ran.stderr
    assert "Warning" not in ran.stderr, ran.stderr
