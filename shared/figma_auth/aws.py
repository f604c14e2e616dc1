"""boto3 clients, built once per container with the retry policy configured in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_kms import KMSClient


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

    # A 1 MB query page is not latency-sensitive (the scheduled refresh has minutes): wait
    # longer for it than the request path waits for a GetItem, rather than give up and re-read.
    return Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=30, max_pool_connections=2
    )


@functools.cache
def _session() -> Any:
    import boto3

    return boto3.session.Session()


@functools.cache
def dynamodb() -> DynamoDBClient:
    client: DynamoDBClient = _session().client("dynamodb", config=_config())
    return client


@functools.cache
def dynamodb_paging() -> DynamoDBClient:
    """DynamoDB for reading many pages in a batch job (the scheduled refresh's due-grant query)."""
    client: DynamoDBClient = _session().client("dynamodb", config=_paging_config())
    return client


@functools.cache
def kms() -> KMSClient:
    client: KMSClient = _session().client("kms", config=_config())
    return client


@functools.cache
def events() -> EventBridgeClient:
    client: EventBridgeClient = _session().client("events", config=_config())
    return client


class Deferred:
    """An injected client built on its first use, then kept. A function whose request never
    calls KMS (authorize, logout) never pays for KMS's client (its service model and endpoint
    rules, ≈ 15 ms of a cold start), nor one that never calls Figma for the Figma client's module."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._built: Any = None

    def __getattr__(self, name: str) -> Any:  # only for names the proxy itself lacks
        if self._built is None:
            self._built = self._build()
        return getattr(self._built, name)


def deferred_kms() -> KMSClient:
    client: KMSClient = cast("KMSClient", Deferred(kms))
    return client


def reset() -> None:
    """Forget cached clients (tests that point boto3 at a new endpoint)."""
    for factory in (_session, dynamodb, dynamodb_paging, kms, events):
        factory.cache_clear()
