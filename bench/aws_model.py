"""An AWS *latency model* for the scheduler benchmark: in-memory stand-ins for exactly the
DynamoDB and KMS calls the scheduled refresh makes, each taking a fixed time, injected into
the layer's own Store and Vault (the same seams the tests use).

Why: the moto server answers ~125 requests/s on one core here, so at 5,000+ grants the
real-parts run measures moto, not the scheduler (see BENCHMARKS.md). With AWS modelled at
published single-digit-millisecond latencies, the run shows what the scheduler itself costs.
Only used by `make bench`; never by tests.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from types import SimpleNamespace
from typing import Any

DYNAMODB_MS = 5.0  # a DynamoDB UpdateItem/Query in-region (AWS: "single-digit milliseconds")
KMS_MS = 10.0  # a KMS Decrypt/GenerateDataKey in-region


class _ConditionFailed(Exception):
    pass


class ModelDynamoDB:
    """``query`` on the by_refresh_due index (by due_day, 100 items a page), ``update_item``
    (always succeeds: one scheduler, no contention) and the scheduler's pause marker
    (``get_item``/``put_item``). Counts calls."""

    exceptions = SimpleNamespace(ConditionalCheckFailedException=_ConditionFailed)

    def __init__(self, items: list[dict[str, Any]], latency_ms: float = DYNAMODB_MS) -> None:
        self.latency = latency_ms / 1000
        self.by_day: dict[str, list[dict[str, Any]]] = {}
        for item in sorted(items, key=lambda i: i["due_at"]["S"]):
            self.by_day.setdefault(item["due_day"]["S"], []).append(item)
        self.calls: dict[str, int] = {"Query": 0, "UpdateItem": 0, "GetItem": 0, "PutItem": 0}
        self.pages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _call(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1
        time.sleep(self.latency)

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self._call("Query")
        values = kwargs["ExpressionAttributeValues"]
        low, high = values[":a"]["S"], values[":b"]["S"]
        rows = [i for i in self.by_day.get(values[":d"]["S"], []) if low <= i["due_at"]["S"] <= high]
        start = int(kwargs.get("ExclusiveStartKey", {}).get("offset", {}).get("N", 0))
        page = rows[start : start + 100]
        answer: dict[str, Any] = {"Items": page, "Count": len(page), "ScannedCount": len(page)}
        if start + 100 < len(rows):
            answer["LastEvaluatedKey"] = {"offset": {"N": str(start + 100)}}
        self.pages.append({"Count": len(page)})
        return answer

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        self._call("UpdateItem")
        return {}

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self._call("GetItem")
        return {}  # no pause: Figma has not asked the scheduler to wait

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        self._call("PutItem")
        return {}


class ModelKMS:
    """``generate_data_key`` / ``decrypt``: one data key per blob, as KMS would give back."""

    exceptions = SimpleNamespace(InvalidCiphertextException=_ConditionFailed)

    def __init__(self, latency_ms: float = KMS_MS) -> None:
        self.latency = latency_ms / 1000
        self.calls: dict[str, int] = {"GenerateDataKey": 0, "Decrypt": 0}
        self._lock = threading.Lock()

    @staticmethod
    def _key(blob: bytes) -> bytes:
        return hashlib.sha256(b"model-kms:" + blob).digest()

    def generate_data_key(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.calls["GenerateDataKey"] += 1
        time.sleep(self.latency)
        blob = os.urandom(48)
        return {"Plaintext": self._key(blob), "CiphertextBlob": blob}

    def decrypt(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.calls["Decrypt"] += 1
        time.sleep(self.latency)
        return {"Plaintext": self._key(kwargs["CiphertextBlob"])}
