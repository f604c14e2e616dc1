"""moto's server (devstack/moto_server.py's app, S3's checks included) in this process on a
port of its own, with a clock the test moves, and what it was sent, recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.config import Config

from devstack import aws


@dataclass
class Clock:
    """The server's now: real time plus what the test added."""

    ahead: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass
class Recorder:
    """A WSGI wrapper keeping every request's method, path and headers."""

    app: Callable[..., Iterable[bytes]]
    seen: list[Seen] = field(default_factory=list)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        self.seen.append(Seen(method, path, environ.get("QUERY_STRING", ""), headers))
        return self.app(environ, start_response)


class StrictMoto:
    """The app of ``make run``'s moto, served on 127.0.0.1 by werkzeug (as MotoServer does)."""

    def __init__(self) -> None:
        from moto.server import MotoRequestHandler
        from werkzeug.serving import make_server

        from devstack.moto_server import make_app

        self.clock = Clock()
        self.app = make_app(clock=self.clock)
        self.recorder = Recorder(self.app)
        self.server = make_server("127.0.0.1", 0, self.recorder, True, request_handler=MotoRequestHandler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def s3(self, *, key: str = "testing", secret: str = "testing") -> Any:  # noqa: S107
        """boto3's S3 client for this server: SigV4 (presigned URLs too), path-style."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=aws.REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
