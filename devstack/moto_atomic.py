"""moto's server with DynamoDB's write atomicity: one request at a time.

moto checks a ConditionExpression and then applies the write without a lock, so two
concurrent conditional writes can both succeed (two refresh leases on one item), which real
DynamoDB never allows. Lambda-faithful workers make such concurrency real here, so the local
AWS answers requests one at a time, as one atomic step each. (A dev-stack fix in the dev stack:
the product relies on DynamoDB's documented semantics.)

``POST /_devstack/reset`` forgets everything but the KMS keys, which a stack keeps across
deploys (the functions' warm workers cache a key's public half, as Lambda containers do).

``python -m devstack.moto_atomic HOST PORT`` serves it in its own process (the bench).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.server import ThreadedMotoServer

RESET_PATH = "/_devstack/reset"


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


class Serialized:
    """A WSGI app that runs ``app`` for one request at a time, body included."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            if environ.get("PATH_INFO") == RESET_PATH and environ.get("REQUEST_METHOD") == "POST":
                reset_keeping_keys()
                start_response("200 OK", [("Content-Type", "application/json")])
                return [b"{}"]
            return list(self.app(environ, start_response))


def make_app() -> Serialized:
    from moto.server import DomainDispatcherApplication, create_backend_app

    return Serialized(DomainDispatcherApplication(create_backend_app))


class AtomicMotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        from moto.server import MotoRequestHandler
        from werkzeug.serving import make_server

        self._server = make_server(self._ip_address, self._port, make_app(), True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    server = AtomicMotoServer(ip_address=host, port=port, verbose=False)
    server._server_entry()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
