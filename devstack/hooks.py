"""Hooks that travel with an event: the AWS faults and call counters a test registers, applied
in whichever local worker serves the event, and what the worker consumed and counted, written
back when it answers."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from devstack.fault_plans import FaultPlan, answer_for

if TYPE_CHECKING:
    from devstack.counting import AwsCalls
    from devstack.faults import AwsFaults


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
TRANSACT = "transact:"  # a transaction's items by kind (IAM authorizes each: Put, Update, Delete, ConditionCheck)


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
