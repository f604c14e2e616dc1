"""Logger and Metrics, configured once; every handler's entry wrapper (``figma_auth.entry``) puts
them around its invocation.

Tracing (X-Ray SDK) is left out on purpose: it costs cold-start import time and the
per-request spans would be 2-3 network calls we already count in metrics.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

# Every handler flushes with raise_on_empty_metrics=False: a request that counted nothing (most
# reads) is expected, and Powertools' UserWarning about it was one stderr line per container.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)

SERVICE = "figma-auth"
NAMESPACE = "FigmaAuth"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def metrics_count(name: str, value: int = 1) -> None:
    """Add a count metric (flushed at the end of the invocation by ``figma_auth.entry``).

    A no-op when metrics are disabled (local stack, tests): Powertools then never flushes,
    so buffering would grow without bound in a long-running dev server.
    """
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        return
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
