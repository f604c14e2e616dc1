"""AWS calls counted and AWS faults injected, through botocore's own event hooks on the stack's
botocore session (``figma_auth.aws.session()``, its public seam): a ``before-call`` handler that
returns a response short-circuits the call, exactly as if AWS had answered with that error after
the SDK's retries. No code of ours is patched.

A test registers ``AwsCalls`` or ``AwsFaults`` before its first request. They apply in this
process (handlers loaded in-process) and travel with every event to the local stack's workers
(``HOOKS`` here, ``WorkerHooks`` there), which write back what they consumed, fired and counted
when they answer.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from devstack.fault_plans import FaultPlan, answer_for

TRANSACT = "transact:"  # a transaction's items by kind (IAM authorizes each: Put, Update, Delete, ConditionCheck)


def _on_the_stacks_session(handler: Any) -> None:
    """``handler`` on every AWS call the layer's clients make in this process."""
    from figma_auth import aws

    aws.session().register("before-call", handler)


class AwsCalls:
    """Counts the AWS API calls the handlers make: every client the layer creates after this
    in-process (runtime.reset() clears them), and every worker of the local stack."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.by_function: defaultdict[str, Counter[str]] = defaultdict(Counter)  # the local stack's, per function
        self.transact_items: defaultdict[str, Counter[str]] = defaultdict(Counter)  # "transact:Put", … per function
        _on_the_stacks_session(self._count)  # handlers loaded in-process
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


@dataclass
class AwsFaults:
    """AWS faults a test plans (in-process clients created after carry the hook; the local
    stack's workers get the plans with each event)."""

    planned: list[FaultPlan] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        _on_the_stacks_session(self._maybe_fail)
        HOOKS.faults.append(self)

    def fail(
        self, service: str, operation: str, code: str, *, status: int = 400, times: int = 1, skip: int = 0
    ) -> None:
        """Fail the next ``times`` calls of ``service:operation`` (-1: all), after letting ``skip`` pass."""
        self.planned.append(FaultPlan(service, operation, code, status, times, skip))

    def _maybe_fail(self, model: Any, params: Any = None, **_: Any) -> Any:
        return answer_for(self.planned, model, self.fired, params)


class Hooks:
    """The test process's side: AWS faults and call counters registered by tests."""

    def __init__(self) -> None:
        self.faults: list[AwsFaults] = []
        self.counters: list[AwsCalls] = []
        self.lock = threading.Lock()

    def clear(self) -> None:
        self.faults.clear()
        self.counters.clear()

    def plans(self) -> list[FaultPlan]:
        return [plan for f in self.faults for plan in f.planned]

    def armed(self) -> bool:
        return any(plan.times != 0 for plan in self.plans())

    def apply(self, plans_after: list[FaultPlan], fired: list[str], calls: Counter[str], function: str) -> None:
        """Write back what the worker consumed of each plan, and what it fired and called."""
        for plan, after in zip(self.plans(), plans_after, strict=False):
            plan.times, plan.skip = after.times, after.skip
        for f in self.faults:
            f.fired.extend(fired)  # every AwsFaults of a test sees what fired
        items = Counter({k: v for k, v in calls.items() if k.startswith(TRANSACT)})
        api = Counter({k: v for k, v in calls.items() if not k.startswith(TRANSACT)})
        for counter in self.counters:
            counter.calls.update(api)
            counter.by_function[function].update(api)
            counter.transact_items[function].update(items)


HOOKS = Hooks()


class WorkerHooks:
    """The worker's side of Hooks: one botocore before-call handler, armed per event."""

    def __init__(self) -> None:
        self.plans: list[FaultPlan] = []
        self.count = False
        self.fired: list[str] = []
        self.calls: Counter[str] = Counter()

    def arm(self, plans: list[FaultPlan], count: bool) -> None:
        self.plans, self.count, self.fired, self.calls = plans, count, [], Counter()

    def __call__(self, model: Any, params: Any = None, **_: Any) -> Any:
        name = f"{model.service_model.service_name}:{model.name}"
        if self.count:
            self.calls[name] += 1
            if name == "dynamodb:TransactWriteItems":
                for item in (params or {}).get("TransactItems", []):
                    self.calls.update(TRANSACT + kind for kind in item)
        return answer_for(self.plans, model, self.fired, params)
