"""moto in server mode (a real HTTP endpoint) with the table and key template.yaml declares."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import boto3

from devstack import template

REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class Resources:
    endpoint: str
    table_name: str
    key_id: str

    def env(self) -> dict[str, str]:
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "TABLE_NAME": self.table_name,
            "KMS_KEY_ID": self.key_id,
        }


def start_moto(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1 (atomic per request, as DynamoDB's writes
    are: devstack/moto_atomic.py); returns (server, endpoint URL)."""
    import logging

    from devstack.moto_atomic import AtomicMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per AWS call
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    server = AtomicMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    return server, f"http://{host}:{bound}"


def start_moto_process(port: int = 0) -> tuple[Any, str]:
    """moto's server in its own process (its own core and GIL), for benchmarks at scale.
    Returns (Popen, endpoint); stop it with .terminate()."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    if port == 0:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack.moto_atomic", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # readiness: the server answers its API
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=1)
            return proc, endpoint
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto server did not start")


def client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )  # noqa: S106


def create_resources(endpoint: str, table_name: str = "figma-auth-local") -> Resources:
    """Create the table (keys, GSIs, TTL from template.yaml) and the KMS key."""
    props = template.table_properties(template.load())
    ddb = client("dynamodb", endpoint)
    create: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        create["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    ddb.create_table(**create)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=table_name, TimeToLiveSpecification=ttl)
    kms = client("kms", endpoint)
    key = kms.create_key(Description="figma-auth local key")["KeyMetadata"]
    # The functions name the key by alias: a moto reset and a new key keep their environment
    # (and so their warm workers) the same, as a redeploy that keeps the key would.
    alias = f"alias/{table_name}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return Resources(endpoint, table_name, alias)


def reset(endpoint: str) -> None:
    """Forget everything moto holds (between tests)."""
    import httpx

    httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
