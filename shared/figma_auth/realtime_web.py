"""API Gateway's WebSocket API and EventBridge <-> the realtime use cases: what the realtime
and push functions run (``entry.event`` wraps them). The Lambda events are read here, as
``web`` reads the HTTP API's; the use cases see socket ids, tickets and messages.

Nothing the container builds is touched before the input is checked: a malformed message is
answered ``invalid_request`` on the socket without an AWS call; anything unexpected is the
contract's error shape, never a crash."""

from __future__ import annotations

import json
from typing import Any

from figma_auth import runtime
from figma_auth.observability import logger


def route(event: dict[str, Any]) -> dict[str, Any]:
    """The realtime function: ``$connect`` (the ticket, else 401: the handshake fails),
    ``$disconnect``, and ``$default`` (a message; the reply goes back on the socket)."""
    from figma_auth.usecases.live import error, parse

    context = event.get("requestContext") or {}
    route_key, socket_id = context.get("routeKey"), str(context.get("connectionId", ""))
    try:
        if route_key == "$connect":
            ticket = (event.get("queryStringParameters") or {}).get("ticket")
            runtime.container().realtime.connect(socket_id, ticket)
            return {"statusCode": 200}
        if route_key == "$disconnect":
            runtime.container().realtime.disconnect(socket_id)
            return {"statusCode": 200}
        action, file_key = parse(event.get("body"))
        if action == "ping":
            return {"statusCode": 200, "body": json.dumps({"type": "pong"})}  # no AWS call
        reply = runtime.container().live.message(socket_id, action, file_key)
    except Exception as exc:  # noqa: BLE001 - every failure answers the contract's error shape
        from figma_auth.web import classify

        problem = classify(exc)
        logger.info("realtime refused", extra={"route": route_key, "error": problem.code})
        status = problem.status if route_key == "$connect" else 200  # a message's error is told on the socket
        return {"statusCode": status, "body": json.dumps(error(problem))}
    logger.info(
        "realtime message", extra={"route": route_key, "reply": reply.get("type"), "status": reply.get("status")}
    )
    return {"statusCode": 200, "body": json.dumps(reply)}


def push(event: dict[str, Any]) -> dict[str, Any]:
    """The push function: one EventBridge event to the sockets it concerns."""
    if not isinstance(event.get("detail-type"), str) or not isinstance(event.get("detail"), dict):
        return {"sent": 0, "gone": 0}  # not an EventBridge event: nothing to push, no AWS call
    report = runtime.container().push(event)
    logger.info("pushed", extra={"detail_type": event["detail-type"], **report})
    return report
