"""examples/protected-api locally, against `make run`: its routes and JWT authorizer read from
its template.yaml, each request checked as API Gateway's JWT authorizer checks it (the Bearer
token's ES256 signature with the keys found through the issuer's discovery document, ``iss``,
``aud``, ``exp``, ``nbf``), then its handler run with the verified claims in the event. A
missing or bad token gets API Gateway's own ``401 {"message": "Unauthorized"}``.

    make protected-api        # beside a running `make run`; PROTECTED_PORT (3300) to move it
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from devstack.serving import BackgroundServer
from devstack.template import ROOT, load
from devstack.workers import LambdaContext, load_module

EXAMPLE = ROOT / "examples" / "protected-api"
UNAUTHORIZED = b'{"message":"Unauthorized"}'


class JwtAuthorizer:
    """API Gateway's HTTP API JWT authorizer: issuer and audiences as the template configures."""

    def __init__(self, issuer: str, audience: list[str]) -> None:
        import httpx
        from jwt import PyJWKClient

        self.issuer, self.audience = issuer, audience
        discovery = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
        self.keys = PyJWKClient(discovery["jwks_uri"], cache_keys=True, lifespan=300)

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The verified claims, or None (401)."""
        import jwt

        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            key = self.keys.get_signing_key_from_jwt(token).key
            verified: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["ES256", "RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["iss", "aud", "exp"]},
            )
        except jwt.PyJWTError:
            return None
        return verified


def routes() -> tuple[dict[tuple[str, str], Any], list[str]]:
    """The example's routes (method, path) → handler, and its authorizer's issuer parameter and audience."""
    doc = load(EXAMPLE / "template.yaml")
    found = {}
    for res in doc["Resources"].values():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res["Properties"]
        module = load_module_from(EXAMPLE / props["CodeUri"], props["Handler"])
        for event in props.get("Events", {}).values():
            if event["Type"] == "HttpApi":
                found[(event["Properties"]["Method"].upper(), event["Properties"]["Path"])] = module
    return found, [doc["Parameters"]["Audience"].get("Default", "figma-auth")]


def load_module_from(code_dir: Path, handler: str) -> Any:
    from devstack.template import Function

    fn = Function(logical_id="Hello", code_dir=code_dir, handler=handler, timeout=5)
    return getattr(load_module(fn), handler.rpartition(".")[2])


def server(issuer: str, *, port: int, audience: list[str] | None = None) -> BackgroundServer:
    handlers, default_audience = routes()
    authorizer = JwtAuthorizer(issuer, audience or default_audience)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path, _, query = self.path.partition("?")
            handler = handlers.get(("GET", path))
            if handler is None:
                return self.answer(404, b'{"message":"Not Found"}')
            claims = authorizer.claims(self.headers.get("Authorization"))
            if claims is None:
                return self.answer(401, UNAUTHORIZED)
            event = {
                "version": "2.0",
                "routeKey": f"GET {path}",
                "rawPath": path,
                "rawQueryString": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "requestContext": {
                    "authorizer": {"jwt": {"claims": {k: str(v) for k, v in claims.items()}, "scopes": None}},
                    "http": {"method": "GET", "path": path, "sourceIp": self.client_address[0]},
                    "timeEpoch": int(time.time() * 1000),
                },
                "isBase64Encoded": False,
            }
            result = handler(event, LambdaContext("HelloFunction", 5))
            return self.answer(int(result["statusCode"]), str(result.get("body", "")).encode(), result.get("headers"))

        def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return BackgroundServer(Handler, host="127.0.0.1", port=port, name="protected-api")


def main(state_file: Path, port: int) -> int:
    try:
        issuer = json.loads(state_file.read_text())["api"]
    except (OSError, ValueError, KeyError):
        print("start `make run` first: the protected API trusts its JWTs", file=sys.stderr)
        return 1
    api = server(issuer, port=port)
    print(f"examples/protected-api on {api.url}/hello, trusting {issuer}'s JWTs (Ctrl-C stops it)")
    print(f'  curl -H "Authorization: Bearer $JWT" {api.url}/hello   # $JWT from the demo\'s "Get a JWT"', flush=True)
    try:
        api.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
