"""The local AWS: DynamoDB Local (AWS's engine, devstack/dynamodb.py) for the table and moto in
server mode (a real HTTP endpoint) for KMS, EventBridge and Secrets Manager, with the table and
keys template.yaml declares."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import boto3

from devstack import template
from devstack.credentials import FAKE_CREDENTIALS as FAKE_CREDENTIALS  # defined where nothing imports back
from devstack.credentials import REGION as REGION

BODIES_BUCKET = "figma-auth-local-bodies"


@dataclass(frozen=True)
class Resources:
    endpoint: str  # moto: KMS, EventBridge, Secrets Manager
    table_name: str
    key_id: str
    jwt_key_id: str
    dynamodb: str  # DynamoDB Local
    bucket: str = BODIES_BUCKET  # on moto: large answers and the read-once cache's bodies

    def env(self) -> dict[str, str]:
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb,  # botocore's per-service endpoint setting
            "TABLE_NAME": self.table_name,
            "KMS_KEY_ID": self.key_id,
            "JWT_KEY_ID": self.jwt_key_id,
            "BODIES_BUCKET": self.bucket,
        }


def start_moto(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1 (devstack/moto_server.py); returns (server,
    endpoint URL)."""
    import logging

    from devstack.moto_server import MotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access line per AWS call
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    server = MotoServer(ip_address="127.0.0.1", port=port, verbose=False)
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
        [sys.executable, "-m", "devstack.moto_server", "127.0.0.1", str(port)],
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


@functools.cache
def _table_properties() -> dict[str, Any]:
    """template.yaml's table (parsed once: reading the template takes about 100 ms)."""
    return template.table_properties(template.load())


def create_table(dynamodb: str, table_name: str) -> None:
    """The table on DynamoDB Local, as template.yaml declares it: keys, GSIs, TTL."""
    props = _table_properties()
    ddb = client("dynamodb", dynamodb)
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


def table_indexes() -> list[str]:
    """The names of the table's global secondary indexes."""
    return [index["IndexName"] for index in _table_properties().get("GlobalSecondaryIndexes", [])]


def create_resources(endpoint: str, dynamodb: str, table_name: str = "figma-auth-local") -> Resources:
    """Create the table (keys, GSIs, TTL from template.yaml) on DynamoDB Local and the KMS keys
    on moto."""
    create_table(dynamodb, table_name)
    kms = client("kms", endpoint)
    # The functions name the keys by alias, and the keys outlive a reset (see ``reset``): the
    # functions' environment, warm workers and cached public keys stay right, as they do
    # across the deploys of a stack that keeps its keys.
    grant_key = _key_alias(kms, f"alias/{table_name}", Description="figma-auth local key")
    jwt_key = _key_alias(
        kms,
        f"alias/{table_name}-jwt",
        Description="figma-auth local JWT signing key",
        KeySpec="ECC_NIST_P256",
        KeyUsage="SIGN_VERIFY",
    )
    install_events(endpoint)
    return Resources(endpoint, table_name, grant_key, jwt_key, dynamodb)


def install_events(endpoint: str) -> None:
    """What a moto reset forgets and the stack needs: the event log's rule and queue (GET
    /_devstack/events) and the bodies bucket; again after each reset."""
    from devstack import events

    bus = os.environ.get("EVENT_BUS_NAME") or "default"
    events.install(client("sqs", endpoint), client("events", endpoint), bus)
    install_bucket(endpoint)


def install_bucket(endpoint: str, name: str = BODIES_BUCKET) -> None:
    """The bodies bucket as template.yaml's ``Bodies`` declares it (CORS for ALLOWED_ORIGINS and
    ``null``, lifecycle, encryption) on moto; its objects are kept when it exists."""
    origins = [o.strip() for o in os.environ.get("ALLOWED_ORIGINS", "").split(",") if o.strip()]
    create_bucket(endpoint, name, origins, doc=_template())


@functools.cache
def _template() -> dict[str, Any]:
    """template.yaml, parsed once (about 100 ms a parse)."""
    return template.load()


def _key_alias(kms: Any, alias: str, **spec: str) -> str:
    """``alias``, naming a key made with ``spec`` (made now unless the alias exists)."""
    if not any(a["AliasName"] == alias for a in kms.list_aliases()["Aliases"]):
        kms.create_alias(AliasName=alias, TargetKeyId=kms.create_key(**spec)["KeyMetadata"]["KeyId"])
    return alias


def reset(endpoint: str, dynamodb: str) -> None:
    """Forget every table and the events and queues moto holds; keep the KMS keys."""
    ddb = client("dynamodb", dynamodb)
    for name in ddb.list_tables()["TableNames"]:
        ddb.delete_table(TableName=name)
    reset_moto(endpoint)


def reset_moto(endpoint: str, *, if_changed: bool = False, http: Any = None) -> bool:
    """Forget what moto holds but the KMS keys. ``if_changed``: only when something changed it
    since ``moto_baseline`` beyond what the stack drains itself (devstack/moto_server.py). True
    when it did (the event log's rule and queue are gone then: ``install_events``). ``http``: an
    httpx.Client to reuse (a new one costs tens of milliseconds)."""
    from devstack.moto_server import RESET_PATH

    answer = _post(http, f"{endpoint}{RESET_PATH}", {"if_changed": "1"} if if_changed else {})
    return bool(answer.json()["reset"])


def moto_baseline(endpoint: str, *, http: Any = None) -> None:
    """What moto holds now is what ``reset_moto(if_changed=True)`` compares with."""
    from devstack.moto_server import BASELINE_PATH

    _post(http, f"{endpoint}{BASELINE_PATH}", {})


def _post(http: Any, url: str, params: dict[str, str]) -> Any:
    import httpx

    answer = (http or httpx).post(url, params=params)
    answer.raise_for_status()
    return answer


def empty_table(ddb: Any, table_name: str, *, recreate_over: int = 250) -> None:
    """Delete every item of ``table_name`` (``ddb``: a DynamoDB Local client), keeping the table:
    its name, indexes and TTL setting stay, so the functions' settings and warm workers do too.
    One consistent Scan of the keys, then BatchWriteItem deletes; a table holding more than
    ``recreate_over`` items (a load test's) is dropped and created again instead, which is then
    faster. The indexes follow the deletes at once on DynamoDB Local."""
    page = ddb.scan(TableName=table_name, ProjectionExpression="pk, sk", ConsistentRead=True, Limit=recreate_over + 1)
    keys = page["Items"]
    if len(keys) > recreate_over:
        ddb.delete_table(TableName=table_name)
        create_table(ddb.meta.endpoint_url, table_name)
        return
    for start in range(0, len(keys), 25):
        pending: Any = {table_name: [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]}
        while pending:  # DynamoDB Local processes whole batches; the loop is for its contract
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


BODIES = "Bodies"  # template.yaml's bucket for answers too large for Lambda and the file cache


def bucket_configuration(doc: dict[str, Any], origins: list[str], logical_id: str = BODIES) -> dict[str, Any]:
    """What template.yaml declares for the bucket, in the S3 API's shapes: ``cors`` (its
    AllowedOrigins ``!Split [",", !Sub "${AllowedOrigins},null"]`` made of ``origins``),
    ``lifecycle`` and ``encryption`` (its KMS key left out: each stack names its own)."""
    props = template.bucket_properties(doc, logical_id)
    values = template.parameter_values(doc, AllowedOrigins=",".join(origins))
    resolved = template.evaluate(props, values)
    cors = [_cors_rule(rule) for rule in (resolved.get("CorsConfiguration") or {}).get("CorsRules", [])]
    lifecycle = [_lifecycle_rule(rule) for rule in (resolved.get("LifecycleConfiguration") or {}).get("Rules", [])]
    encryption = [
        {
            "ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
            },
            "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
        }
        for rule in (resolved.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", [])
    ]
    return {"cors": cors, "lifecycle": lifecycle, "encryption": encryption}


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule as PutBucketCors takes it (the names differ)."""
    names = {
        "Id": "ID",
        "AllowedMethods": "AllowedMethods",
        "AllowedOrigins": "AllowedOrigins",
        "AllowedHeaders": "AllowedHeaders",
        "ExposedHeaders": "ExposeHeaders",
        "MaxAge": "MaxAgeSeconds",
    }
    out = {names[key]: value for key, value in rule.items() if key in names}
    if "MaxAgeSeconds" in out:
        out["MaxAgeSeconds"] = int(out["MaxAgeSeconds"])
    return out


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle Rule (Id, Status, Prefix, ExpirationInDays,
    AbortIncompleteMultipartUpload) as PutBucketLifecycleConfiguration takes it."""
    out: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    return out


def create_bucket(endpoint: str, name: str, origins: list[str], *, doc: dict[str, Any] | None = None) -> str:
    """The bucket ``name`` on moto as template.yaml's ``Bodies`` (``doc``: another template's
    parsed document): its CORS rules for ``origins`` and ``null`` (a browser following the
    API's 303 arrives with a tainted origin), its lifecycle rules and default encryption
    (aws:kms, the account's S3 key). An existing bucket is kept, its configuration put again
    (new origins included). Returns ``name``."""
    config = bucket_configuration(doc if doc is not None else template.load(), origins)
    s3 = client("s3", endpoint)
    if name not in {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=name)
    if config["cors"]:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": config["cors"]})
    if config["lifecycle"]:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": config["lifecycle"]})
    if config["encryption"]:
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": config["encryption"]})
    return name
