"""The local EventBridge you can see: every event the stack publishes, at GET /_devstack/events.

An EventBridge rule on the stack's bus (every event whose source is ``figma-auth``) sends to an
SQS queue in moto, as an app's own rule would; the local API drains that queue into a list,
oldest first, and serves it as ``{"events": [{"source", "detail_type", "detail", "time"}]}``.
``DELETE /_devstack/events`` clears it. Nothing here is in the product: the functions publish
with PutEvents exactly as they do in AWS.
"""

from __future__ import annotations

import json
import threading
from typing import Any

RULE = "devstack-event-log"
QUEUE = "devstack-event-log"


def install(sqs: Any, events: Any, bus: str = "default") -> None:
    """The rule and its queue, with moto's SQS and EventBridge clients (after every reset:
    moto forgets both)."""
    url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=RULE, EventBusName=bus, EventPattern=json.dumps({"source": ["figma-auth"]}))
    events.put_targets(Rule=RULE, EventBusName=bus, Targets=[{"Id": "event-log", "Arn": arn}])


class EventLog:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def read(self, sqs: Any) -> list[dict[str, Any]]:
        with self.lock:
            self.events.extend(_drain(sqs))
            return list(self.events)

    def clear(self, sqs: Any) -> None:
        with self.lock:
            _drain(sqs)
            self.events.clear()


def _drain(sqs: Any) -> list[dict[str, Any]]:
    try:
        url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        return []
    out: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return out
        for message in batch:
            event = json.loads(message["Body"])
            out.append(
                {
                    "source": event.get("source"),
                    "detail_type": event.get("detail-type"),
                    "detail": event.get("detail"),
                    "time": event.get("time"),
                }
            )
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        )
