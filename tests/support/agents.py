"""An agent (an MCP client) as the tests play it: its Client ID Metadata Document served from
this machine, its PKCE pair, and a person going through /oauth/authorize in a scripted browser
(the Figma sign-in when the browser has none, then our consent page)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.support.browser import Browser, _back_to_figma, decide_at_figma, hidden_fields, query_of

RESOURCE = "https://mcp.example.com/mcp"
REDIRECT = "http://127.0.0.1:33418/callback"


@dataclass
class DocumentServer:
    """Serves client documents by path on 127.0.0.1; ``hits`` counts the fetches of each path."""

    documents: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None  # https (else http)

    def start(self) -> DocumentServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                body, headers = server.documents.get(self.path, (b"not found", {"status": "404"}))
                self.send_response(int(headers.get("status", "200")))
                for name, value in headers.items():
                    if name != "status":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if self.tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def client(self, path: str = "/client.json", *, headers: dict[str, str] | None = None, **fields: Any) -> str:
        """Publish a document at ``path``; its URL (the client_id)."""
        client_id = self.url + path
        doc = {"client_id": client_id, "client_name": "Claude Code", "redirect_uris": [REDIRECT], **fields}
        self.documents[path] = (json.dumps(doc).encode(), {"Content-Type": "application/json", **(headers or {})})
        return client_id


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def pkce() -> Pkce:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return Pkce(verifier, challenge)


def authorize_query(client_id: str, challenge: str | None, **overrides: str | None) -> dict[str, str]:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "state": "st-" + secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "resource": RESOURCE,
        "scope": "current_user:read file_content:read",
        **overrides,
    }
    return {k: v for k, v in query.items() if v is not None}


def open_consent(browser: Browser, api: str, query: dict[str, str], *, user: str = "ada") -> httpx.Response:
    """A person opening the agent's link: signs in with Figma first when this browser has no
    session; returns our answer after that (the consent page, or a redirect)."""
    url = f"{api}/oauth/authorize?{urlencode(query)}"
    answer = browser.get(url)
    if answer.status_code == 302 and answer.headers["location"].startswith(api):
        return answer  # straight back to the client (an error)
    if answer.status_code != 302:
        return answer
    done = browser.get(decide_at_figma(browser, answer.headers["location"], user=user))
    if _back_to_figma(done, api):
        done = browser.get(decide_at_figma(browser, done.headers["location"], user=user))
    assert done.status_code in (302, 303) and done.headers["location"].startswith(api), done.text
    return browser.get(done.headers["location"])


def decide(browser: Browser, api: str, page: httpx.Response, decision: str = "allow") -> httpx.Response:
    """Press Allow (or Deny) on our consent page."""
    assert page.status_code == 200 and 'name="decision" value="allow"' in page.text, page.text
    return browser.post(f"{api}/oauth/authorize", data={**hidden_fields(page), "decision": decision})


def code_of(answer: httpx.Response, state: str) -> str:
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(REDIRECT + "?")
    back = query_of(answer.headers["location"])
    assert back["state"] == state
    return back["code"]


def exchange(api: str, client_id: str, code: str, verifier: str, **extra: str) -> httpx.Response:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
        "code_verifier": verifier,
        "resource": RESOURCE,
        **extra,
    }
    return httpx.post(f"{api}/auth/token", data=body)


def refresh(api: str, client_id: str, refresh_token: str, **extra: str) -> httpx.Response:
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id, **extra}
    return httpx.post(f"{api}/auth/token", data=body)


def https_documents(folder: Path) -> tuple[DocumentServer, Path]:
    """A document server on https://127.0.0.1 (the SDK's client accepts only https client_ids),
    its certificate signed by a test CA; the CA's file (for SSL_CERT_FILE)."""
    import datetime as dt
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "figma-auth agents test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "leaf.pem", folder / "leaf.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server = DocumentServer(tls=context).start()
    return server, ca_file
