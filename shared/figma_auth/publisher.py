"""Events to the app's EventBridge bus (source ``figma-auth``): the one adapter that publishes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from figma_auth.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "figma-auth"


def publisher(
    events: Callable[[], EventBridgeClient], bus: str, *, strict: bool = False
) -> Callable[[str, dict[str, Any]], None]:
    """PutEvents to ``bus``, with the client ``events`` gives on first use. A notification never
    fails the user's request (a failure is logged); ``strict`` (the webhook relay, whose event is
    the whole point) raises instead."""

    def publish(detail_type: str, detail: dict[str, Any]) -> None:
        try:
            answer = events().put_events(
                Entries=[
                    {"Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(detail), "EventBusName": bus}
                ]
            )
            if answer.get("FailedEntryCount"):
                raise RuntimeError("EventBridge refused the event")
        except Exception:
            if strict:
                raise
            logger.warning("could not publish event", extra={"detail_type": detail_type})

    return publish
