"""The Figma app's client secret as the functions read it: the local value as given, or in AWS
the Secrets Manager secret the ARN names (the session's moto server, real HTTP), fetched on first
use, kept five minutes, once for all threads, and never through boto3's package."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devstack import aws
from figma_auth.client_secret import CACHE_SECONDS, SecretsManagerSecret, client_secret
from figma_auth.settings import Settings
from tests.support.counting import CountingClient
from tests.support.environment import GOOD
from tests.support.fakes import Clock
from tests.support.handlers import fresh_python


@pytest.fixture
def secrets(moto_endpoint: str) -> Iterator[Any]:
    yield aws.client("secretsmanager", moto_endpoint)


def new_secret(secrets: Any, **value: Any) -> str:
    return str(secrets.create_secret(Name=f"figma-{uuid.uuid4().hex}", **value)["ARN"])


def test_a_local_secret_is_read_as_given_and_secrets_manager_never_asked() -> None:
    def no_client() -> Any:
        raise AssertionError("Secrets Manager asked for a local secret")

    read = client_secret(Settings.from_env({**GOOD, "FIGMA_CLIENT_SECRET": "local-s3cr3t"}), no_client)
    assert read() == "local-s3cr3t"


def test_the_arns_secret_is_read_on_first_use_trimmed_and_kept_five_minutes(secrets: Any) -> None:
    arn, clock = new_secret(secrets, SecretString="  first-s3cr3t\n"), Clock()
    counting: Any = CountingClient(secrets)
    settings = Settings.from_env(
        {**{k: v for k, v in GOOD.items() if k != "FIGMA_CLIENT_SECRET"}, "FIGMA_CLIENT_SECRET_ARN": arn}
    )
    read = client_secret(settings, lambda: counting)
    assert counting.calls == []  # made, not read: a function that never calls Figma's OAuth never reads it
    assert isinstance(read, SecretsManagerSecret)
    read._clock = clock.monotonic  # noqa: SLF001 - the test's clock
    assert read() == "first-s3cr3t" and counting.calls == ["get_secret_value"]
    secrets.put_secret_value(SecretId=arn, SecretString="rotated-s3cr3t")
    clock.sleep(CACHE_SECONDS - 1)
    assert read() == "first-s3cr3t" and counting.calls == ["get_secret_value"]  # kept
    clock.sleep(1)
    assert (
        read() == "rotated-s3cr3t" and counting.calls == ["get_secret_value"] * 2
    )  # five minutes on: the rotation is picked up


def test_a_secret_stored_as_bytes_is_read_as_text(secrets: Any) -> None:
    arn = new_secret(secrets, SecretBinary=b"binary-s3cr3t")
    assert SecretsManagerSecret(arn, lambda: secrets)() == "binary-s3cr3t"


def test_threads_asking_at_once_make_one_read(secrets: Any) -> None:
    arn = new_secret(secrets, SecretString="shared-s3cr3t")
    counting: Any = CountingClient(secrets)
    read, start, seen = SecretsManagerSecret(arn, lambda: counting), threading.Barrier(8), []

    def ask() -> None:
        start.wait()
        seen.append(read())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["shared-s3cr3t"] * 8 and counting.calls == ["get_secret_value"]


def test_a_missing_secret_fails_the_read_and_the_next_read_tries_again(secrets: Any) -> None:
    arn = new_secret(secrets, SecretString="x").replace("figma-", "gone-")
    read = SecretsManagerSecret(arn, lambda: secrets)
    for _ in range(2):
        with pytest.raises(secrets.exceptions.ResourceNotFoundException):
            read()


def test_a_cold_start_reads_the_secret_and_its_figma_client_and_cursors_share_one_read(
    secrets: Any, moto_endpoint: str
) -> None:
    """In a fresh interpreter, as in Lambda: the container's one reader serves the Figma client
    and the listing's cursor key, through botocore alone (boto3's package is never imported)."""
    arn = new_secret(secrets, SecretString="cold-s3cr3t")
    seen = fresh_python(
        "import json, sys\n"
        "import functions.backend.app\n"
        "from figma_auth import aws, runtime\n"
        "from figma_auth.cursors import cursor_key\n"
        "reads = []\n"
        "aws.session().register('before-call.secrets-manager.GetSecretValue', lambda **_: reads.append(1))\n"
        "parts = runtime.container()\n"
        "secret = parts.client_secret()\n"
        "key = parts.connection_list.key()\n"
        "figma = parts.figma.client  # built with the container's reader (it reads only at an OAuth call)\n"
        "print(json.dumps({'secret': secret, 'cursor_key_from_it': key == cursor_key(secret, parts.settings.table_name),\n"
        "                  'reads': len(reads), 'same_reader': parts.client_secret is parts.client_secret,\n"
        "                  'boto3': sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 's3transfer'))}))",
        FIGMA_CLIENT_SECRET_ARN=arn,
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    assert seen == {"secret": "cold-s3cr3t", "cursor_key_from_it": True, "reads": 1, "same_reader": True, "boto3": []}
