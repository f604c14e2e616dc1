"""The AWS SDK: one botocore session per process and the clients the container builds from it,
with the retry policy configured in one place.

botocore, not boto3: a boto3 session is a botocore session plus what the functions never use
(resources, S3's transfer manager), and importing boto3 imports those too, ≈ 25 ms of every cold
start (docs/BENCHMARKS.md, section 3b). The clients are the same: boto3's ``client()`` is
botocore's ``create_client()``. ``session()`` is the process's session: the local stack and the
bench register their botocore event hooks on it (counting calls, injecting faults). ``reset()``
forgets it (tests that point the SDK at a new endpoint, a SnapStart restore).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient


@functools.cache
def _config() -> Any:
    from botocore.config import Config

    # Standard retry mode: jittered backoff on throttling and transient errors, 3 attempts.
    return Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=5,
        max_pool_connections=50,
    )


@functools.cache
def _paging_config() -> Any:
    from botocore.config import Config

    # A 1 MB query page is not latency-sensitive (the scheduled jobs have minutes): wait longer
    # for it than the request path waits for a GetItem, rather than give up and re-read.
    return Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=30, max_pool_connections=2
    )


@functools.cache
def session() -> Any:
    """The process's botocore session (every client of the container is made from it)."""
    import botocore.session

    return botocore.session.Session()


def reset() -> None:
    """Forget the session (its clients go with the container that holds them)."""
    session.cache_clear()


def dynamodb(on: Any) -> DynamoDBClient:
    client: DynamoDBClient = on.create_client("dynamodb", config=_config())
    return client


def dynamodb_paging(on: Any) -> DynamoDBClient:
    """DynamoDB for reading many pages in a batch job (the scheduled jobs' queries)."""
    client: DynamoDBClient = on.create_client("dynamodb", config=_paging_config())
    return client


def kms(on: Any) -> KMSClient:
    client: KMSClient = on.create_client("kms", config=_config())
    return client


def secretsmanager(on: Any) -> SecretsManagerClient:
    client: SecretsManagerClient = on.create_client("secretsmanager", config=_config())
    return client


def events(on: Any) -> EventBridgeClient:
    client: EventBridgeClient = on.create_client("events", config=_config())
    return client


@functools.cache
def _s3_config() -> Any:
    from botocore.config import Config

    # SigV4 presigned URLs (KMS-encrypted objects need them); reads of a stored answer may be
    # tens of MB, so a longer read timeout than a GetItem's.
    return Config(
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=20,
        max_pool_connections=10,
    )


def s3(on: Any) -> S3Client:
    """S3, its presigned URLs on the bucket's regional host (``BUCKET.s3.REGION.amazonaws.com``:
    the global host answers a bucket made in another Region with a redirect that breaks the
    signature for a day); against a local endpoint (moto), path-style URLs on it."""
    from botocore.config import Config

    client: S3Client = on.create_client("s3", config=_s3_config())
    if client.meta.endpoint_url.endswith(".amazonaws.com"):
        virtual = _s3_config().merge(Config(s3={"addressing_style": "virtual"}))
        client = on.create_client("s3", config=virtual)
    return client


def management(on: Any, endpoint: str) -> Any:
    """The WebSocket API's management API (PostToConnection, DeleteConnection) at ``endpoint``
    (``https://{api}.execute-api.{region}.amazonaws.com/{stage}``; locally the dev stack's)."""
    return on.create_client("apigatewaymanagementapi", endpoint_url=endpoint, config=_config())
