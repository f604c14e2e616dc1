"""A ThreadingHTTPServer run in a daemon thread: the plumbing the local servers share."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BackgroundServer:
    """Binds on construction (a busy port fails at once); ``start`` serves in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], *, host: str, port: int, name: str) -> None:
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self._serve, daemon=True, name=name)

    def _serve(self) -> None:
        self.httpd.serve_forever(poll_interval=0.05)  # stop() waits for the next poll: 0.5 s by default

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def serve(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
