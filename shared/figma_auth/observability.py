"""Logger and Metrics, configured once and stacked the same way on every handler.

Tracing (X-Ray SDK) is left out on purpose: it costs cold-start import time and the
per-request spans would be 2-3 network calls we already count in metrics.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "figma-auth"
NAMESPACE = "FigmaAuth"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def metrics_count(name: str, value: int = 1) -> None:
    """Add a count metric (flushed by the handler's ``log_metrics``; a no-op when disabled)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
