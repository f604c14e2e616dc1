"""AWS fault injection through botocore's own event system: a `before-call` handler that
returns a response short-circuits the call, exactly as if AWS had answered with that error
after the SDK's retries. No code of ours is patched.

Plans registered here apply in this process (handlers loaded in-process) and travel with
every event to the local stack's workers (devstack/workers.py), which report back what fired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class _FakeHttp:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def answer_for(plans: list[list[Any]], model: Any, fired: list[str], params: Any = None) -> Any:
    """The injected answer for this call, or None to let it through; consumes the plan.

    Besides AWS error codes: ``CRASH`` (the Lambda dies at this call) and ``UNPROCESSED``
    (a BatchWriteItem that DynamoDB accepted but processed none of: all ``UnprocessedItems``)."""
    service = model.service_model.service_name
    for plan in plans:
        svc, op, code, status, times, skip = plan
        if svc == service and op == model.name and times != 0:
            if skip > 0:
                plan[5] = skip - 1
                return None
            plan[4] = times - 1
            fired.append(f"{service}:{op}:{code}")
            if code == "CRASH":  # a Lambda dying mid-flow: not an AWS answer at all
                raise RuntimeError("simulated crash at " + op)
            if code == "UNPROCESSED":
                import json

                items = json.loads((params or {}).get("body") or b"{}").get("RequestItems", {})
                return _FakeHttp(200), {"UnprocessedItems": items, "ResponseMetadata": {"HTTPStatusCode": 200}}
            body: dict[str, Any] = {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
            if code == "TransactionCanceledException":
                body["CancellationReasons"] = [{"Code": "TransactionConflict"}]
            return _FakeHttp(status), body
    return None


@dataclass
class AwsFaults:
    """Register before the first request of a test (in-process clients created after carry the
    hook; the local stack's workers get the plans with each event)."""

    planned: list[list[Any]] = field(default_factory=list)  # [service, op, code, status, times, skip]
    fired: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from devstack.workers import HOOKS
        from figma_auth import aws

        aws._session().events.register("before-call", self._maybe_fail)
        HOOKS.faults.append(self)

    def fail(
        self, service: str, operation: str, code: str, *, status: int = 400, times: int = 1, skip: int = 0
    ) -> None:
        """Fail the next ``times`` calls of ``service:operation`` (-1: all), after letting ``skip`` pass."""
        self.planned.append([service, operation, code, status, times, skip])

    def _maybe_fail(self, model: Any, params: Any = None, **_: Any) -> Any:
        return answer_for(self.planned, model, self.fired, params)
