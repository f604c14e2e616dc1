"""The Figma app's client secret, where the deployment keeps it, and the Figma client made with it.

Locally ``FIGMA_CLIENT_SECRET`` holds it; in AWS ``FIGMA_CLIENT_SECRET_ARN`` names the Secrets
Manager secret, read on first use and kept for five minutes, so a rotated secret is picked up
without a redeploy and a function that never calls Figma's OAuth endpoints never reads it. The
read is one ``GetSecretValue`` on the container's client (botocore: Powertools' parameters
utility would import boto3's package, ≈ 18 ms, into the first sign-in of every cold start or
SnapStart restore); the container holds the reader, so a restore or a test drops its cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from figma_auth.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from figma_auth.figma import FigmaClient

CACHE_SECONDS = 300


class SecretsManagerSecret:
    """A Secrets Manager secret's string, fetched when first asked for and again once it is
    ``CACHE_SECONDS`` old (one fetch at a time: threads that ask meanwhile wait for it)."""

    def __init__(
        self, arn: str, secrets: Callable[[], SecretsManagerClient], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._arn, self._secrets, self._clock = arn, secrets, clock
        self._lock = threading.Lock()
        self._value: str | None = None
        self._fetched_at = 0.0

    def __call__(self) -> str:
        with self._lock:
            if self._value is None or self._clock() - self._fetched_at >= CACHE_SECONDS:
                answer = self._secrets().get_secret_value(SecretId=self._arn)
                text = answer.get("SecretString")
                if text is None:  # a secret stored as bytes: the Client Secret is ASCII
                    text = answer["SecretBinary"].decode("utf-8")
                self._value, self._fetched_at = text.strip(), self._clock()
            return self._value


def client_secret(config: Settings, secrets: Callable[[], SecretsManagerClient]) -> Callable[[], str]:
    """A reader of the client secret (called at each OAuth call; cached where it is fetched).
    ``secrets`` gives the Secrets Manager client, built when the secret is first read."""
    if config.client_secret:
        secret = config.client_secret
        return lambda: secret
    return SecretsManagerSecret(config.figma_client_secret_arn or "", secrets)  # Settings requires one


def figma_client(config: Settings, secret: Callable[[], str]) -> FigmaClient:
    from figma_auth.figma import FigmaClient

    return FigmaClient(
        api_url=config.figma_api_url,
        client_id=config.figma_client_id,
        client_secret=secret,
        refresh_style=config.figma_refresh_style,
    )
