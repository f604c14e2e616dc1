"""A test function for the local stack itself: it remembers what it served (module state)
and can be asked to run longer than its Timeout."""

from __future__ import annotations

import os
import threading
from typing import Any

served: list[str] = []


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    served.append(event["id"])
    if event.get("stall"):
        threading.Event().wait(event["stall"])  # a handler stuck on a slow dependency
    return {"pid": os.getpid(), "served": list(served), "remaining_ms": context.get_remaining_time_in_millis()}
