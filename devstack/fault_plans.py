"""What a test plans to go wrong at AWS, and the answer botocore gets when a plan fires. Plain
data and one function: the plans travel with every event to the local stack's workers
(``devstack.hooks``), which answer from them and report back what they consumed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class FaultPlan:
    """Fail the next ``times`` calls of ``service:operation`` with ``code`` (-1: all), after
    letting ``skip`` calls pass."""

    service: str
    operation: str
    code: str
    status: int = 400
    times: int = 1
    skip: int = 0


class _FakeHttp:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


def answer_for(plans: list[FaultPlan], model: Any, fired: list[str], params: Any = None) -> Any:
    """The injected answer for this call, or None to let it through; consumes the plan.

    Besides AWS error codes: ``CRASH`` (the Lambda dies at this call) and ``UNPROCESSED``
    (a BatchWriteItem that DynamoDB accepted but processed none of: all ``UnprocessedItems``)."""
    service = model.service_model.service_name
    for plan in plans:
        if plan.service == service and plan.operation == model.name and plan.times != 0:
            if plan.skip > 0:
                plan.skip -= 1
                return None
            plan.times -= 1
            fired.append(f"{service}:{plan.operation}:{plan.code}")
            return _answer(plan, params)
    return None


def _answer(plan: FaultPlan, params: Any) -> Any:
    if plan.code == "CRASH":  # a Lambda dying mid-flow: not an AWS answer at all
        raise RuntimeError("simulated crash at " + plan.operation)
    if plan.code == "UNPROCESSED":
        items = json.loads((params or {}).get("body") or b"{}").get("RequestItems", {})
        return _FakeHttp(200), {"UnprocessedItems": items, "ResponseMetadata": {"HTTPStatusCode": 200}}
    body: dict[str, Any] = {
        "Error": {"Code": plan.code, "Message": f"injected {plan.code}"},
        "ResponseMetadata": {"HTTPStatusCode": plan.status},
    }
    if plan.code == "TransactionCanceledException":
        body["CancellationReasons"] = [{"Code": "TransactionConflict"}]
    return _FakeHttp(plan.status), body
