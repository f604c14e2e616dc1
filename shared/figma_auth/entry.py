"""The one way a function's ``lambda_handler`` is made: each ``functions/*/app.py`` ends in one
line, ``lambda_handler = entry.http(app)``, ``entry.scheduled(job)`` or ``entry.event(handle)``.

Both stack the same things in the same order, so none can be forgotten: the Lambda context in
every log line (Powertools Logger), the request's deadline (``figma_auth.deadline``), the
metrics the invocation counted flushed at its end, answered or failed (Powertools Metrics:
without it they wait for 100 values, and alarms count some of them), and the cold start's two
ends (``figma_auth.boot``): the init's, once the handler is made, and the first request's,
after an HTTP function's answer or before a scheduled job (a batch may run for minutes, and
collects as it goes). Errors: an HTTP function maps every exception to the
contract's ``{"error", "message"}`` in ``web``; a scheduled job's escape to Lambda, which
retries it and counts it for the alarms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from figma_auth import boot, deadline
from figma_auth.observability import logger, metrics

if TYPE_CHECKING:
    from figma_auth.web import App

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def http(app: App) -> Handler:
    """An API Gateway HTTP API function: ``app`` resolves the event (``web.handle``)."""
    from figma_auth import web

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        bound = deadline.start(_remaining_ms(context))
        try:
            return web.handle(app, event, context)
        finally:
            deadline.finish(bound)
            boot.end()

    boot.end_of_init()
    return _observed(invoke, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)


def scheduled(job: Callable[[Any], dict[str, Any]]) -> Handler:
    """An EventBridge-scheduled function: ``job(context)`` runs the batch and returns its report."""

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        boot.end()
        bound = deadline.start(_remaining_ms(context))
        try:
            return job(context)
        finally:
            deadline.finish(bound)

    boot.end_of_init()
    return _observed(invoke)


def event(handle: Callable[[dict[str, Any]], dict[str, Any]]) -> Handler:
    """A function invoked with an event that is no HTTP request: the WebSocket API's routes
    (``$connect``, ``$disconnect``, ``$default``) or an EventBridge rule's events. ``handle``
    answers; the cold start ends after it, as an HTTP function's does."""

    def invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
        bound = deadline.start(_remaining_ms(context))
        try:
            return handle(event)
        finally:
            deadline.finish(bound)
            boot.end()

    boot.end_of_init()
    return _observed(invoke)


def _observed(invoke: Handler, **logging: Any) -> Handler:
    """``invoke`` with the Lambda context in its log lines and its metrics flushed at its end
    (raise_on_empty_metrics off: a request that counted nothing is the usual case)."""
    flushed: Handler = metrics.log_metrics(invoke, raise_on_empty_metrics=False)
    handler: Handler = logger.inject_lambda_context(flushed, clear_state=True, **logging)
    return handler


def _remaining_ms(context: Any) -> int | None:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() if callable(remaining) else None
