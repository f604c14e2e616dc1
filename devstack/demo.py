"""Serves the demo SPA (demo/) and the JS client on their own origin (:5173), as a real app
would be hosted apart from the API; and, once built, the React example at /react/
(`cd examples/react && npm ci && BASE_PATH=/react/ npx vite build`)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

from devstack.serving import BackgroundServer
from devstack.template import ROOT

DEMO = ROOT / "demo"
CLIENT = ROOT / "clients" / "js"
REACT = ROOT / "examples" / "react" / "dist"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}


class DemoServer(BackgroundServer):
    def __init__(self, *, host: str = "127.0.0.1", port: int = 5173) -> None:
        self.handler = type("DemoHandler", (_Handler,), {"api": "", "bodies": ""})
        super().__init__(self.handler, host=host, port=port, name="demo")

    def start(self, api: str, bodies: str = "") -> DemoServer:
        """Serve the demo for ``api``; ``bodies``: the origin of the bucket large answers come
        from (after the API's 303), which the page's CSP must let it fetch (in AWS: the stack's
        ``BodiesOrigin`` output)."""
        self.handler.api, self.handler.bodies = api, bodies
        self.serve()
        return self


class _Handler(BaseHTTPRequestHandler):
    api: str
    bodies: str
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/config.js":
            body = f"export const endpoint = {self.api!r};\n".replace("'", '"').encode()
            return self.send(200, body, TYPES[".js"])
        files = {
            "/": DEMO / "index.html",
            "/index.html": DEMO / "index.html",
            "/app.js": DEMO / "app.js",
            "/style.css": DEMO / "style.css",
            "/figma-auth.js": CLIENT / "figma-auth.js",
            "/figma-auth.d.ts": CLIENT / "figma-auth.d.ts",
        }
        target = files.get(path) or _react_file(path)
        if target is None or not target.exists():
            return self.send(404, b"not found", "text/plain")
        return self.send(200, target.read_bytes(), TYPES[target.suffix])

    def send(self, status: int, body: bytes, ctype: str) -> None:
        import os
        from urllib.parse import urlsplit

        realtime = urlsplit(os.environ.get("REALTIME_URL", ""))  # the WebSocket API (auth.watch)
        sockets = f" {realtime.scheme}://{realtime.netloc}" if realtime.netloc else ""
        csp = (
            f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {self.api} {self.bodies}{sockets}; "
            "img-src 'self' http: https: data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
        )
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


def _react_file(path: str) -> Any:
    """A file of the built React example under /react/ (None outside it or for a path escape)."""
    if not path.startswith("/react/"):
        return None
    relative = path.removeprefix("/react/") or "index.html"
    target = (REACT / relative).resolve()
    if not target.is_relative_to(REACT.resolve()) or target.suffix not in TYPES:
        return None
    return target
