"""One scheduled-refresh run in its own process, so its peak RSS can be measured alone.
Prints a JSON line: the batch report, wall seconds and DynamoDB items read by queries.

Default: the refresh_scheduler function's own handler against the moto server (real parts).
With BENCH_MODEL_ITEMS=<file>: the same RefreshScheduler, refresh engine and runtime Parts, with
the AWS latency model (bench/aws_model.py) injected as the Store's and Vault's clients.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any

from devstack.lambdas import Containers, LambdaContext, load_module


def main() -> None:
    model_items = os.environ.get("BENCH_MODEL_ITEMS")
    result = run_model(model_items) if model_items else run_handler()
    print(json.dumps({**result, "rss_mb": peak_rss_mb()}))


def run_handler() -> dict[str, Any]:
    from figma_auth import aws

    read = [0]
    aws.session().register(
        "after-call.dynamodb.Query", lambda parsed, **_: read.__setitem__(0, read[0] + parsed.get("ScannedCount", 0))
    )
    fn = Containers().by_name("refresh_scheduler")
    handler = load_module(fn).lambda_handler
    started = time.perf_counter()
    report = handler({"source": "aws.events", "detail": {}}, LambdaContext(fn.logical_id, 900))
    return {"report": report, "seconds": time.perf_counter() - started, "items_read": read[0]}


def run_model(path: str) -> dict[str, Any]:
    from bench.aws_model import ModelDynamoDB, ModelKMS
    from figma_auth import jobs
    from figma_auth.client_secret import figma_client
    from figma_auth.container import Container
    from figma_auth.settings import Settings
    from figma_auth.store import Store
    from figma_auth.vault import Vault

    with open(path) as f:
        items = [decode(item) for item in json.load(f)]
    config = Settings.from_env()
    db, kms = ModelDynamoDB(items), ModelKMS()
    del items
    table_mb = reset_peak_rss()  # the in-memory table is the model's, not the scheduler's
    store = Store(table_name="model", client=db)
    parts = Container(config)
    container = parts.given(
        store=store,
        pages=store,
        vault=Vault(kms=lambda: kms, key_id="model"),  # type: ignore[arg-type,return-value]
        figma=figma_client(config, parts.client_secret),
        publish=lambda detail_type, detail: None,
    )
    started = time.perf_counter()
    report = jobs.refresh_batch(container, remaining_ms=lambda: 900_000)
    seconds = time.perf_counter() - started
    read = sum(int(i["Count"]) for i in db.pages)
    return {
        "report": report,
        "seconds": seconds,
        "items_read": read,
        "calls": {**db.calls, **kms.calls},
        "scheduler_mb": peak_rss_mb() - table_mb,
    }


def encode(value: Any) -> Any:
    """A DynamoDB item as JSON: bytes become {"$b64": ...}."""
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b64"}:
            return base64.b64decode(value["$b64"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def reset_peak_rss() -> float:
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); returns that RSS in MB."""
    import gc

    gc.collect()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's own high-water mark (VmHWM resets at exec; getrusage's ru_maxrss does not)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
