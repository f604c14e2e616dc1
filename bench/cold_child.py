"""One cold start, as a whole process: `python -m bench.cold_child MODE FUNCTION EVENT_FILE`.

figma-auth: import the function's handler (its init: settings, resolver, routes), then serve
            the event once, against the local stack: its AWS clients are created and used.
baseline:   a minimal handler doing the same work with plain boto3 (and urllib for Figma): the
            same AWS calls the function makes for that event, listed in BASELINE_CALLS.
count:      figma-auth's run, untimed, reporting the AWS calls it made (botocore's own
            before-call event): the parent checks BASELINE_CALLS against it.
warm:N:     one cold call, then N warm calls of the same event, each timed (the peer comparison).
snapshot:   SnapStart's imitation: the function's init runs first (the snapshot), then a fork
            (the restore) runs the after-restore hooks and serves the event; the child reports
            the milliseconds from the fork to its answer.

The parent times the whole process, spawn to exit, alternating the two modes; the child leaves
with ``os._exit`` once its answer is printed (no interpreter teardown: Lambda never runs one).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from typing import Any

# (service, operation) per function: what the figma-auth handler calls for its bench event,
# checked against a counted run of the function before timing; "figma" is one HTTP call to the emulator.
BASELINE_CALLS: dict[str, list[str]] = {
    "authorize": ["dynamodb:PutItem"],
    "callback": [
        "dynamodb:DeleteItem",
        "figma",
        "figma",
        "dynamodb:GetItem",
        "kms:GenerateDataKey",
        "dynamodb:TransactWriteItems",
    ],
    "session": ["dynamodb:BatchGetItem", "kms:Decrypt"],
    "refresh": ["dynamodb:BatchGetItem", "dynamodb:UpdateItem", "kms:Decrypt", "figma", "dynamodb:UpdateItem"],
    "figma_proxy": ["dynamodb:BatchGetItem", "kms:Decrypt", "figma"],
    "logout": [
        "dynamodb:BatchGetItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Query",  # the session's sockets (the realtime API): closed with it
        "dynamodb:DeleteItem",
        "events:PutEvents",
        "events:PutEvents",
    ],
    "backend": ["dynamodb:BatchGetItem", "kms:Decrypt"],
    # the bench's one connection is always due (the emulator's tokens last an hour): one refresh
    "refresh_scheduler": [
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "kms:Decrypt",
        "figma",
        "dynamodb:UpdateItem",
    ],
}


class Context:
    function_name = "bench"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def figma_auth(function: str, event: dict[str, Any]) -> Any:
    import importlib

    module = importlib.import_module(f"functions.{function}.app")
    return module.lambda_handler(event, Context())


def counted_calls(function: str, event: dict[str, Any]) -> list[str]:
    """The AWS calls figma-auth makes for ``event``, "service:Operation", in order."""
    import botocore.session

    calls: list[str] = []
    create = botocore.session.Session.create_client

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create(self, *args, **kwargs)
        prefix = client.meta.service_model.endpoint_prefix

        def record(model: Any, **_: Any) -> None:
            calls.append(f"{prefix}:{model.name}")

        client.meta.events.register("before-call", record)
        return client

    botocore.session.Session.create_client = counting  # type: ignore[method-assign]
    figma_auth(function, event)
    return calls


def baseline(function: str) -> None:
    import urllib.request

    import boto3

    table = os.environ["TABLE_NAME"]
    ddb = boto3.client("dynamodb")
    kms = boto3.client("kms") if any(c.startswith("kms:") for c in BASELINE_CALLS[function]) else None
    events = boto3.client("events") if "events:PutEvents" in BASELINE_CALLS[function] else None
    # Spelled by hand, as a plain boto3 handler would: the layer's codec would bring the layer's
    # imports (≈ 40 ms) into the comparator the full cold start is measured against.
    key = {"pk": {"S": f"BENCH#{uuid.uuid4().hex}"}, "sk": {"S": "BENCH"}}
    for call in BASELINE_CALLS[function]:
        if call == "figma":
            urllib.request.urlopen(os.environ["FIGMA_API_URL"] + "/_emulator/stats", timeout=5).read()  # noqa: S310
        elif call == "dynamodb:PutItem":
            ddb.put_item(TableName=table, Item=key)
        elif call == "dynamodb:DeleteItem":
            ddb.delete_item(TableName=table, Key=key)
        elif call == "dynamodb:GetItem":
            ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
        elif call == "dynamodb:BatchGetItem":
            ddb.batch_get_item(RequestItems={table: {"Keys": [key], "ConsistentRead": True}})
        elif call == "dynamodb:UpdateItem":
            ddb.update_item(
                TableName=table, Key=key, UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"N": "1"}}
            )
        elif call == "dynamodb:Query":
            ddb.query(
                TableName=table,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": key["pk"]},
            )
        elif call == "dynamodb:TransactWriteItems":
            ddb.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": key}}])
        elif call == "events:PutEvents" and events is not None:
            events.put_events(
                Entries=[
                    {
                        "Source": "bench",
                        "DetailType": "Bench",
                        "Detail": "{}",
                        "EventBusName": os.environ.get("EVENT_BUS_NAME", "default"),
                    }
                ]
            )
        elif call == "kms:GenerateDataKey" and kms is not None:
            kms.generate_data_key(KeyId=os.environ["KMS_KEY_ID"], KeySpec="AES_256")
        elif call == "kms:Decrypt" and kms is not None:
            import base64

            kms.decrypt(CiphertextBlob=base64.b64decode(os.environ["BENCH_KMS_BLOB"]))


def restored_first_request(function: str, event: dict[str, Any]) -> dict[str, Any]:
    import importlib
    import time

    os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start"  # as Lambda sets it for a snapshotted init
    module = importlib.import_module(f"functions.{function}.app")  # init, then the "snapshot"
    os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
    from figma_auth import boot

    read, write = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        boot.restored()
        result = module.lambda_handler(event, Context())
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200
        os.write(write, json.dumps({"status": status, "ms": (time.perf_counter() - started) * 1000}).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        return dict(json.loads(answer.read()))


def warm_calls(function: str, event: dict[str, Any], n: int) -> list[float]:
    """One cold call, then ``n`` warm ones of the same event: each call's milliseconds."""
    import importlib
    import time

    module = importlib.import_module(f"functions.{function}.app")
    first = module.lambda_handler(event, Context())
    assert first.get("statusCode") == 200, first
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        module.lambda_handler(event, Context())
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main(argv: list[str]) -> int:
    mode, function, event_path = argv
    if mode.startswith("warm:"):
        with open(event_path) as f:
            print(json.dumps({"status": 200, "samples": warm_calls(function, json.load(f), int(mode[5:]))}))
    elif mode == "snapshot":
        with open(event_path) as f:
            print(json.dumps(restored_first_request(function, json.load(f))))
    elif mode == "count":
        with open(event_path) as f:
            print(json.dumps({"status": 0, "calls": counted_calls(function, json.load(f))}))
    elif mode == "figma-auth":
        with open(event_path) as f:
            result = figma_auth(function, json.load(f))
        status = result.get("statusCode", 200) if isinstance(result, dict) else 200  # the scheduler: a report
        print(json.dumps({"status": status}))
    else:
        baseline(function)
        print(json.dumps({"status": 0}))
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    # The answer is out: a cold start ends here. Lambda never runs an interpreter's exit (an
    # environment is frozen after its answer, later killed), and tearing down every module
    # costs a figma-auth process ≈ 45 ms and a plain boto3 one ≈ 25 ms. Both sides skip it.
    os._exit(code)
