"""AWS fault injection through botocore's own event system: a `before-call` handler that
returns a response short-circuits the call, exactly as if AWS had answered with that error
after the SDK's retries. No code of ours is patched.

Plans registered here apply in this process (handlers loaded in-process) and travel with
every event to the local stack's workers (``devstack.hooks``), which report back what fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devstack.fault_plans import FaultPlan, answer_for
from devstack.hooks import HOOKS


@dataclass
class AwsFaults:
    """Register before the first request of a test (in-process clients created after carry the
    hook; the local stack's workers get the plans with each event)."""

    planned: list[FaultPlan] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from figma_auth import aws

        aws.session().events.register("before-call", self._maybe_fail)
        HOOKS.faults.append(self)

    def fail(
        self, service: str, operation: str, code: str, *, status: int = 400, times: int = 1, skip: int = 0
    ) -> None:
        """Fail the next ``times`` calls of ``service:operation`` (-1: all), after letting ``skip`` pass."""
        self.planned.append(FaultPlan(service, operation, code, status, times, skip))

    def _maybe_fail(self, model: Any, params: Any = None, **_: Any) -> Any:
        return answer_for(self.planned, model, self.fired, params)
