"""Counts the AWS API calls the handlers make, with botocore's own event hooks."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from devstack.hooks import HOOKS


class AwsCalls:
    """Register before the first request of a test: every client the layer creates after
    this in-process (runtime.reset() clears them), and every worker of the local stack,
    reports each API call it makes."""

    def __init__(self) -> None:
        from figma_auth import aws

        self.calls: Counter[str] = Counter()
        self.by_function: defaultdict[str, Counter[str]] = defaultdict(Counter)  # the local stack's, per function
        self.transact_items: defaultdict[str, Counter[str]] = defaultdict(Counter)  # "transact:Put", … per function
        aws.session().events.register("before-call", self._count)  # handlers loaded in-process
        HOOKS.counters.append(self)  # and the local stack's workers

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    def by_service(self, service: str) -> dict[str, int]:
        prefix = f"{service}:"
        return {k.removeprefix(prefix): v for k, v in self.calls.items() if k.startswith(prefix)}

    def total(self, service: str) -> int:
        return sum(self.by_service(service).values())

    def reset(self) -> None:
        self.calls.clear()
        self.by_function.clear()
        self.transact_items.clear()
