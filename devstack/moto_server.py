"""moto's server for KMS, EventBridge and Secrets Manager, with a reset that keeps the keys.

DynamoDB is not here: it runs on AWS's DynamoDB Local (devstack/dynamodb.py). moto's
conditional writes were not atomic (two concurrent refresh leases on one item could both
succeed), so this server used to answer one request at a time; with the table on AWS's engine,
moto serves only calls that carry no condition, concurrently.

``POST /_devstack/reset`` forgets everything but the KMS keys, which a stack keeps across
deploys (the functions' warm workers cache a key's public half, as Lambda containers do).
``POST /_devstack/reset?if_changed=1`` does so only when a request since ``POST
/_devstack/baseline`` may have changed what a reset forgets: the tests' fixture resets between
tests only after a test made a rule, a queue or a secret of its own (most make none: their
events land in the event log's queue, which the fixture drains).

S3 goes through devstack/s3_strict.py first: presigned URLs are checked and CORS is answered as
S3 does. Its object-level requests leave nothing a reset must forget (the bodies bucket keeps
its objects across tests: they are keyed by content); its bucket-level writes change the world.

``python -m devstack.moto_server HOST PORT`` serves it in its own process (the bench).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, ClassVar

from moto.server import ThreadedMotoServer

from devstack.s3_strict import S3Strict, is_s3, s3_leaves_nothing

RESET_PATH = "/_devstack/reset"
BASELINE_PATH = "/_devstack/baseline"
# Requests that leave nothing a reset would forget: KMS (its keys outlive resets), the events
# the functions publish (the baseline's one rule sends them to the event log's queue, which
# the tests' fixture drains) and the drain itself, and reads.
_LEAVES_NOTHING = (
    "TrentService.",
    "AWSEvents.PutEvents",
    "AmazonSQS.ReceiveMessage",
    "AmazonSQS.DeleteMessage",
    "AmazonSQS.DeleteMessageBatch",
)
_READS = ("Get", "List", "Describe")


def reset_keeping_keys() -> None:
    """moto's reset of every service, then the KMS keys and aliases as they were."""
    from moto.kms.models import kms_backends
    from moto.moto_api._internal.models import moto_api_backend

    kept = [
        (account, region, dict(backend.__dict__))
        for account, regions in kms_backends.items()
        for region, backend in regions.items()
    ]
    moto_api_backend.reset()
    for account, region, state in kept:
        kms_backends[account][region].__dict__.update(state)


def leaves_nothing(target: str) -> bool:
    """Whether a request with this ``X-Amz-Target`` leaves nothing a reset would forget."""
    action = target.rpartition(".")[2]
    return bool(target) and (target.startswith(_LEAVES_NOTHING) or action.startswith(_READS))


def request_leaves_nothing(environ: dict[str, Any]) -> bool:
    """Whether a request leaves nothing a reset would forget: by its ``X-Amz-Target``, or, for
    S3's REST calls (which have none), by what it touches (devstack/s3_strict.py)."""
    if leaves_nothing(environ.get("HTTP_X_AMZ_TARGET", "")):
        return True
    method, path = str(environ.get("REQUEST_METHOD", "")), str(environ.get("PATH_INFO", ""))
    return is_s3(environ) and s3_leaves_nothing(method, path, str(environ.get("QUERY_STRING", "")))


class WithReset:
    """moto's WSGI app, plus ``POST /_devstack/reset`` (everything but the KMS keys) and
    ``POST /_devstack/baseline`` (what ``reset?if_changed=1`` compares with).

    moto's backends are one per process: a change or a reset through any app served in this
    process (a test's own server beside the session's) is a change for every app here."""

    _apps: ClassVar[weakref.WeakSet[WithReset]] = weakref.WeakSet()

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.changed = True  # until a baseline is set, anything may have changed
        WithReset._apps.add(self)

    @classmethod
    def _changed_everywhere(cls) -> None:
        for app in list(cls._apps):
            app.changed = True

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == RESET_PATH and method == "POST":
            reset = self.changed or "if_changed" not in environ.get("QUERY_STRING", "")
            if reset:
                reset_keeping_keys()
                self._changed_everywhere()  # the baseline's own rule and queue are gone too, until made again
            return self._answer(start_response, b'{"reset": true}' if reset else b'{"reset": false}')
        if path == BASELINE_PATH and method == "POST":
            self.changed = False
            return self._answer(start_response, b"{}")
        if not request_leaves_nothing(environ):
            self._changed_everywhere()
        return self.app(environ, start_response)

    @staticmethod
    def _answer(start_response: Callable[..., Any], body: bytes) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


def make_app(*, clock: Callable[[], datetime] | None = None) -> WithReset:
    """moto's app behind S3's checks (``clock``: the presigned URLs' now) and the reset routes."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    return WithReset(S3Strict(DomainDispatcherApplication(create_backend_app), clock=clock))


class MotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        from moto.server import MotoRequestHandler
        from werkzeug.serving import make_server

        self._server = make_server(self._ip_address, self._port, make_app(), True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    server = MotoServer(ip_address=host, port=port, verbose=False)
    server._server_entry()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
