"""The local stack for tests: in-process (DynamoDB Local + moto server + emulator + local API threads, all
over real HTTP) or as a subprocess running exactly what `make run` runs."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devstack import aws
from devstack.template import ROOT
from figma_auth.store.codec import key
from figma_auth.store.connections import CONNECTION, ledger_key
from figma_auth.store.sessions import SESSION
from tests.support import httpclient

SESSION_COOKIE = "__Host-figma_auth_session"


@dataclass
class Table:
    """Read-only look at the DynamoDB table, for asserting what is (not) stored."""

    endpoint: str
    name: str

    @functools.cached_property
    def client(self) -> Any:
        return aws.client("dynamodb", self.endpoint)

    def items(self) -> list[dict[str, Any]]:
        client = self.client
        out: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            page = client.scan(TableName=self.name, **kwargs)
            out.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def kinds(self) -> Counter[str]:
        return Counter(item["pk"]["S"].split("#")[0] for item in self.items())


@dataclass
class Baseline:
    """Where every test that takes ``stack`` starts: the session's table emptied (not created
    again: its name, indexes and TTL stay, and with them the functions' settings and warm
    workers), moto as the stack installed it (reset, but for the KMS keys, only after a test
    changed more than the events the functions publish), and no event logged."""

    table: Table
    moto: str
    bus: str = "default"

    def __post_init__(self) -> None:
        from devstack import events

        self.ddb = self.table.client
        self.sqs = aws.client("sqs", self.moto)
        self.events = aws.client("events", self.moto)
        self.http = httpclient.client(timeout=10)
        self.expected = ([events.RULE], [events.QUEUE])  # on moto: the event log's, nothing else

    def restore(self, event_log: Any) -> None:
        """Back to the baseline: what an earlier test left is gone (``event_log``: the local
        API's, devstack.api.EVENT_LOG, drained)."""
        aws.empty_table(self.ddb, self.table.name)
        if aws.reset_moto(self.moto, if_changed=True, http=self.http):
            aws.install_events(self.moto)
            aws.moto_baseline(self.moto, http=self.http)
        event_log.clear(self.sqs)

    def left_behind(self, *, indexes: bool = False) -> list[str]:
        """What is here beyond the baseline: items in the table (``indexes``: in its indexes
        too), or a rule or a queue the stack does not make (nothing, after ``restore``)."""
        found = []
        for index in [None, *(aws.table_indexes() if indexes else [])]:
            where = {"IndexName": index} if index else {"ConsistentRead": True}
            count = self.ddb.scan(TableName=self.table.name, Select="COUNT", **where)["Count"]
            if count:
                found.append(f"{count} items in {f'the index {index}' if index else 'the table'}")
        rules = [r["Name"] for r in self.events.list_rules(EventBusName=self.bus)["Rules"]]
        queues = [url.rpartition("/")[2] for url in self.sqs.list_queues().get("QueueUrls", [])]
        if (rules, queues) != self.expected:
            found.append(f"rules {rules} and queues {queues} on moto")
        return found


@dataclass
class EmulatorControl:
    """The Figma emulator's knobs, over HTTP."""

    url: str
    http: httpx.Client = field(default_factory=lambda: httpclient.client(timeout=10))

    def reset(self) -> None:
        self.http.post(f"{self.url}/_emulator/reset").raise_for_status()

    def fault(self, endpoint: str, kind: str, times: int = 1, retry_after: int = 1) -> None:
        body = {"endpoint": endpoint, "kind": kind, "times": times, "retry_after": retry_after}
        self.http.post(f"{self.url}/_emulator/faults", json=body).raise_for_status()

    def config(self, **knobs: Any) -> None:
        self.http.post(f"{self.url}/_emulator/config", json=knobs).raise_for_status()

    def calls(self) -> dict[str, int]:
        return dict(self.http.get(f"{self.url}/_emulator/stats").json()["calls"])

    def revoke(self, user_id: str | None = None) -> None:
        self.http.post(f"{self.url}/_emulator/revoke", json={"user_id": user_id} if user_id else {}).raise_for_status()

    def limits(self, **knobs: Any) -> None:
        """Figma's rate limits: enabled, seats {user: seat}, user_plans, file_plans {key: plan},
        advance_seconds (the emulator's clock moves on)."""
        self.http.post(f"{self.url}/_emulator/limits", json=knobs).raise_for_status()

    def make_file(self, key: str, size: int, **spec: Any) -> dict[str, Any]:
        """A file of ``size`` bytes of JSON at Figma (spec: name, plan, readers)."""
        answer = self.http.post(f"{self.url}/_emulator/files", json={"key": key, "size": size, **spec}, timeout=120)
        answer.raise_for_status()
        return dict(answer.json())

    def edit_file(self, key: str) -> str:
        """An edit at Figma: the file's new version (its webhooks fire)."""
        answer = self.http.post(f"{self.url}/_emulator/files/edit", json={"key": key})
        answer.raise_for_status()
        return str(answer.json()["version"])

    def narrow(self, user_id: str, scopes: list[str]) -> None:
        """The user's grant at Figma keeps only ``scopes`` (its refreshes then say so)."""
        self.http.post(f"{self.url}/_emulator/narrow", json={"user_id": user_id, "scopes": scopes}).raise_for_status()

    def me(self, token: str) -> httpx.Response:
        return self.http.get(f"{self.url}/v1/me", headers={"Authorization": f"Bearer {token}"})


@dataclass
class Stack:
    api: str
    emulator: EmulatorControl
    table: Table
    moto: str
    demo: str = ""
    containers: Any = None  # devstack.lambdas.Containers when the API runs in this process

    def cold_start(self) -> None:
        """Retire every warm worker: the next request to each function is a new container."""
        self.containers.recycle()


class SubprocessStack:
    """`python -m devstack run` in a child process, as `make run` starts it."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.state_file = tmp / "devstack.json"
        self.log_path = tmp / "devstack.log"
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("FIGMA_", "AWS_"))}
        # No schedule fires in the middle of a test unless the test asks for one.
        child_env.update(
            {"PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}", "PORT": "0", "DEVSTACK_SCHEDULE_SECONDS": "0", **(env or {})}
        )
        self.log = self.log_path.open("w")
        self.output: list[str] = []
        self.drainer: threading.Thread | None = None
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "devstack",
                "run",
                "--port",
                "0",
                "--demo-port",
                "0",
                "--ws-port",
                "0",
                "--json",
                "--state-file",
                str(self.state_file),
            ],
            cwd=ROOT,
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def wait_ready(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # blocks until the stack prints its endpoints
            if line.startswith("{") and '"ready"' in line:
                info: dict[str, Any] = json.loads(line)
                # Keep reading: the handlers log to stdout, and a full pipe would block the stack.
                self.drainer = threading.Thread(target=self._drain, name="devstack-stdout", daemon=True)
                self.drainer.start()
                return info
        raise RuntimeError(f"local stack exited early:\n{self.log_path.read_text()}")

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        if self.drainer is not None:
            self.drainer.join(timeout=5)
        return "".join(self.output) + self.log_path.read_text()


class EventCapture:
    """An EventBridge rule on the default bus sending figma-auth events to an SQS queue."""

    def __init__(self, endpoint: str) -> None:
        self.sqs = aws.client("sqs", endpoint)
        events = aws.client("events", endpoint)
        self.queue_url = self.sqs.create_queue(QueueName="figma-auth-events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="figma-auth-to-queue", EventPattern=json.dumps({"source": ["figma-auth"]}))
        events.put_targets(Rule="figma-auth-to-queue", Targets=[{"Id": "queue", "Arn": arn}])

    def received(self) -> list[dict[str, Any]]:
        out = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return out
            out.extend(json.loads(m["Body"]) for m in batch)
            for m in batch:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])


def _item(table: Table, found: dict[str, Any]) -> dict[str, Any] | None:
    return table.client.get_item(TableName=table.name, Key=found, ConsistentRead=True).get("Item")


def _update(table: Table, pk: str, sk: str, expression: str, values: dict[str, Any]) -> None:
    _update_item(table, key(pk, sk), expression, values)


def _update_item(table: Table, found: dict[str, Any], expression: str, values: dict[str, Any]) -> None:
    table.client.update_item(
        TableName=table.name, Key=found, UpdateExpression=expression, ExpressionAttributeValues=values
    )


def session_item(table: Table, session_id: str) -> dict[str, Any] | None:
    return _item(table, SESSION.key(session_id))


def update_session(table: Table, session_id: str, expression: str, values: dict[str, Any]) -> None:
    _update_item(table, SESSION.key(session_id), expression, values)


def connection_item(table: Table, user_id: str) -> dict[str, Any] | None:
    return _item(table, CONNECTION.key(user_id))


def ledger_item(table: Table, user_id: str) -> dict[str, Any] | None:
    """The user's rate-limit ledger (beside the connection, in its partition)."""
    return _item(table, ledger_key(user_id))


def update_connection(table: Table, user_id: str, expression: str, values: dict[str, Any]) -> None:
    _update_item(table, CONNECTION.key(user_id), expression, values)


def published(stack: Stack, detail_type: str | None = None) -> list[dict[str, Any]]:
    """The events the stack published (GET /_devstack/events), oldest first."""
    events: list[dict[str, Any]] = httpx.get(f"{stack.api}/_devstack/events", verify=httpclient.tls()).json()["events"]
    return [e for e in events if detail_type is None or e["detail_type"] == detail_type]


def last_figma_request(stack: Stack) -> dict[str, Any]:
    return dict(stack.emulator.http.get(f"{stack.emulator.url}/_emulator/last_request").json())


def delete_item(table: Table, pk: str, sk: str) -> None:
    """An item gone, as DynamoDB's TTL (or an operator) deletes it."""
    table.client.delete_item(TableName=table.name, Key=key(pk, sk))


def item(table: Table, pk: str, sk: str) -> dict[str, Any] | None:
    return _item(table, key(pk, sk))
