"""An MCP server that reads Figma for the person using an AI tool, with figma-auth as its
authorization server (the MCP authorization specification, 2025-11-25), on the official MCP
Python SDK (streamable HTTP).

- ``/.well-known/oauth-protected-resource`` (RFC 9728) names figma-auth; a request without a
  valid token gets ``401`` with ``WWW-Authenticate: Bearer resource_metadata=…`` (the SDK's).
- Tokens are figma-auth's ES256 JWTs, verified with its JWKS: ``iss`` = figma-auth, ``aud`` =
  this server's own URL (a token for another resource is refused), ``exp``.
- The tools call Figma as the token's ``sub`` through figma-auth's backend routes
  (``/connections/{sub}/figma/…``, AWS IAM), so the rate-limit ledger, the read-once cache and
  refresh apply; this server never holds a Figma token.

Settings (environment): ``FIGMA_AUTH_URL`` (figma-auth's ISSUER), ``MCP_URL`` (this server's
URL, one of figma-auth's OAUTH_RESOURCES), AWS credentials allowed ``execute-api:Invoke`` on
``GET/connections/*/figma/*``; ``FIGMA_AUTH_REGION`` when figma-auth is on a custom domain (SigV4
signs for its region); ``LISTEN_PORT``: listen on 127.0.0.1 there, behind a proxy (Lambda Web
Adapter), not on ``MCP_URL``'s host (not ``PORT``: ``make run``'s, in the same shell); ``MCP_STATELESS=true`` where requests may reach different instances
and answers cannot stream (Lambda behind API Gateway): no MCP sessions, JSON answers.
``make mcp-example`` runs it beside ``make run``; ``template.yaml`` deploys it (README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

import anyio
import jwt
from jwt import PyJWKClient
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette

# The repository's helper; deployed, the template's layer puts it on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))
from figma_auth_backend import FigmaAuthBackend  # noqa: E402

SCOPES = ["current_user:read", "file_content:read"]


class FigmaAuthTokens:
    """The SDK's TokenVerifier: figma-auth's JWTs for this server, checked with its JWKS."""

    def __init__(self, issuer: str, resource: str) -> None:
        self.issuer, self.resource = issuer, resource
        self.keys = PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_keys=True, lifespan=300)

    async def verify_token(self, token: str) -> AccessToken | None:
        return await anyio.to_thread.run_sync(self._verify, token)

    def _verify(self, token: str) -> AccessToken | None:
        try:
            key = self.keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["ES256"],
                audience=self.resource,
                issuer=self.issuer,
                options={"require": ["iss", "aud", "sub", "exp", "client_id"]},
            )
        except jwt.PyJWTError:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims["client_id"]),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self.resource,
            subject=str(claims["sub"]),
        )


def build(
    issuer: str, resource: str, backend: FigmaAuthBackend, *, stateless: bool = False
) -> tuple[MCPServer[Any], Starlette]:
    """The server and its ASGI app (served at ``resource``'s path). ``stateless``: no MCP
    sessions and whole JSON answers (no SSE), for instances behind API Gateway."""
    server: MCPServer[Any] = MCPServer(
        "figma",
        instructions="Reads Figma files as the person who connected this tool.",
        token_verifier=FigmaAuthTokens(issuer, resource),
        auth=AuthSettings(
            issuer_url=issuer,  # type: ignore[arg-type]
            resource_server_url=resource,  # type: ignore[arg-type]
            required_scopes=["file_content:read"],
            validate_token_resource=True,  # and the verifier checks aud itself
        ),
    )

    def figma(path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        token = get_access_token()
        if token is None or token.subject is None:
            raise PermissionError("no signed-in person")
        answer = backend.figma(token.subject, "GET", path, params=params or {})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    @server.tool()
    async def file_name(file_key: str) -> dict[str, Any]:
        """A Figma file's name and its pages."""
        doc = await anyio.to_thread.run_sync(figma, f"/v1/files/{quote(file_key, safe='')}", {"depth": "1"})
        pages = [{"id": p.get("id"), "name": p.get("name")} for p in doc.get("document", {}).get("children", [])]
        return {"name": doc.get("name"), "pages": pages}

    @server.tool()
    async def list_components(file_key: str) -> list[dict[str, Any]]:
        """The components published in a Figma file."""
        found = await anyio.to_thread.run_sync(figma, f"/v1/files/{quote(file_key, safe='')}/components")
        return [{"key": c.get("key"), "name": c.get("name")} for c in found.get("meta", {}).get("components", [])]

    @server.tool()
    async def render_node(file_key: str, node_id: str) -> str:
        """A PNG URL of one node."""
        path = f"/v1/images/{quote(file_key, safe='')}"
        images = await anyio.to_thread.run_sync(figma, path, {"ids": node_id, "format": "png"})
        return str((images.get("images") or {}).get(node_id) or "")

    parts = urlsplit(resource)
    app = server.streamable_http_app(
        streamable_http_path=parts.path or "/mcp",
        stateless_http=stateless,
        json_response=stateless,
        transport_security=host_check(parts),
    )
    return server, app


def host_check(resource: SplitResult) -> TransportSecuritySettings:
    """DNS-rebinding protection: requests for this server's own host only (on loopback any port,
    as the SDK does locally); a browser's Origin only when it is that host too."""
    if resource.hostname in ("127.0.0.1", "localhost", "::1"):
        hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=[f"http://{h}" for h in hosts])
    origin = f"{resource.scheme}://{resource.netloc}"
    return TransportSecuritySettings(allowed_hosts=[resource.netloc], allowed_origins=[origin])


def main() -> None:
    import uvicorn

    issuer = os.environ.get("FIGMA_AUTH_URL", "http://127.0.0.1:3000")
    resource = os.environ.get("MCP_URL", "http://127.0.0.1:8765/mcp")
    backend = FigmaAuthBackend(issuer, region=os.environ.get("FIGMA_AUTH_REGION") or None)
    _, app = build(issuer, resource, backend, stateless=os.environ.get("MCP_STATELESS") == "true")
    parts = urlsplit(resource)
    behind = os.environ.get("LISTEN_PORT")  # Lambda Web Adapter forwards to 127.0.0.1:LISTEN_PORT
    host, port = ("127.0.0.1", int(behind)) if behind else (parts.hostname or "127.0.0.1", parts.port or 8765)
    print(f"MCP server on {resource} (authorization server {issuer})", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
