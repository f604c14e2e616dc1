"""The template's EventBridge rules, played by the local stack: each function's
``EventBridgeRule`` event becomes a rule on moto's bus with the template's pattern (moto matches
it, as EventBridge would), sending to an SQS queue of its own; a thread per rule long-polls the
queue and invokes the function with each event, as EventBridge invokes a target (the push
function gets every ``figma-auth`` event it matches, moments after it was published).

Nothing here is in the product: the functions publish with PutEvents as in AWS, and the rule is
the template's. After a moto reset the rule and queue are made again on the next poll.
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from devstack import template

PREFIX = "devstack-rule-"


class RulePlayer:
    def __init__(self, containers: Any, moto: str, *, bus: str = "default") -> None:
        from devstack import aws

        self.containers, self.bus = containers, bus
        self.rules = template.rules(template.load())
        self.sqs = aws.client("sqs", moto)
        self.events = aws.client("events", moto)
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.pool = ThreadPoolExecutor(
            max_workers=4, thread_name_prefix="rule-target"
        )  # EventBridge invokes in parallel

    def install(self, rule: template.Rule) -> str:
        """The rule on moto's bus and its queue; the queue's URL."""
        name = PREFIX + rule.name
        url: str = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_rule(Name=name, EventBusName=self.bus, EventPattern=json.dumps(rule.pattern))
        self.events.put_targets(Rule=name, EventBusName=self.bus, Targets=[{"Id": "target", "Arn": arn}])
        return url

    def uninstall(self) -> None:
        for rule in self.rules:
            name = PREFIX + rule.name
            try:
                self.events.remove_targets(Rule=name, EventBusName=self.bus, Ids=["target"])
                self.events.delete_rule(Name=name, EventBusName=self.bus)
                self.sqs.delete_queue(QueueUrl=self.sqs.get_queue_url(QueueName=name)["QueueUrl"])
            except Exception:  # noqa: BLE001,S112 - gone already (a moto reset)
                continue

    def start(self) -> RulePlayer:
        for rule in self.rules:
            url = self.install(rule)
            thread = threading.Thread(target=self._play, args=(rule, url), daemon=True, name=f"rule-{rule.name}")
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=3)
        self.pool.shutdown(wait=True)  # the pushes under way finish first

    def _play(self, rule: template.Rule, url: str) -> None:
        fn = self.containers.functions[rule.function]
        while not self.stopping.is_set():
            try:
                batch = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            except Exception:  # noqa: BLE001 - moto was reset: the rule and queue again
                if self.stopping.wait(0.2):
                    return
                try:
                    url = self.install(rule)
                except Exception:  # noqa: BLE001,S112 - moto not back yet
                    continue
                continue
            for message in batch.get("Messages", []):
                self.pool.submit(self._target, rule, fn, url, message)

    def _target(self, rule: template.Rule, fn: Any, url: str, message: dict[str, Any]) -> None:
        try:
            self.containers.invoke(fn, json.loads(message["Body"]))
        except Exception as exc:  # noqa: BLE001 - EventBridge would retry; locally it is logged
            print(f"[rules] {rule.name}: {type(exc).__name__}", file=sys.stderr)
        try:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        except Exception:  # noqa: BLE001 - the queue went with a moto reset
            pass
