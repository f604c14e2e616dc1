"""A Figma emulator: a real HTTP server that behaves like Figma's documented OAuth and REST
endpoints, with knobs for latency, injected faults, token lifetime and revocation.

OAuth:  GET /oauth (consent page) -> POST /oauth/decide -> redirect_uri?code=&state=
        POST /v1/oauth/token   (HTTP Basic, form: redirect_uri, code, grant_type[, code_verifier])
        POST /v1/oauth/refresh (HTTP Basic, form: refresh_token) -> no new refresh token
        POST /v1/oauth/token   (HTTP Basic, form: grant_type=refresh_token, refresh_token): the same
        (the refresh_styles knob serves either or both: a style not served answers as Figma would
        answer an endpoint it lacks — 404, or 400 unsupported_grant_type)
        One active access token per user (a new exchange or refresh kills the previous one),
        as Figma documents; the one_token_per_user knob switches it off.
REST:   every endpoint of Figma's REST spec (devstack/figma_api.py), each refused 403 without its
        scope as Figma does; GET /v1/me and comments answer data here; files, nodes, images, meta,
        versions and variables answer generated files of a chosen size (devstack/figma_files.py,
        devstack/figma_document.py), gzipped when asked; the others Figma's shape with little in
        it; an unknown path is 404.
Knobs:  GET /_emulator/stats, POST /_emulator/reset, POST /_emulator/config {latency_ms, slow_body_ms,
        token_lifetime, rotate_refresh_tokens, hang_seconds, one_token_per_user, refresh_styles}, POST /_emulator/faults {endpoint, kind, times,
        retry_after}, POST /_emulator/revoke {user_id?}, POST /_emulator/expire_access_tokens,
        POST /_emulator/narrow {user_id, scopes} (the grant keeps only those; refreshes say so in `scope`),
        POST /_emulator/limits {enabled, seats, user_plans, file_plans, advance_seconds}: Figma's rate
        limits per user, plan and tier (devstack/figma_limits.py), on by default (Full seat, Pro plan),
        POST /_emulator/webhooks/{trigger,fail,forbid}: Webhooks V2 events (devstack/figma_webhooks.py),
        POST /_emulator/files {key, size, name?, plan?, readers?}, /_emulator/files/edit {key, user?},
        /_emulator/files/delete {key, user?}, /_emulator/files/too_large {bytes}, GET /_emulator/files/{key}
        (devstack/figma_files.py); GET /_emulator/render/{key}/{id}.png: the images /v1/images names
        POST /_emulator/files/access {file_key, user, role}: who may open and edit a file (devstack/figma_access.py)
Fault kinds: 500, 502, 503, 429, hang (no answer), stall (answers once released), malformed, html, missing_fields, negative_expires,
        invalid_grant, 401, 403 (invalid token), 403_no_access, 404.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from devstack import figma_api, figma_files, figma_webhooks
from devstack.figma_access import FileAccess
from devstack.figma_limits import PLANS, SEATS, Limits
from devstack.figma_users import USERS, user_profile
from devstack.figma_webhooks import Webhooks
from devstack.serving import BackgroundServer

# Figma's scope list, kept apart from figma_auth.oauth on purpose: the emulator plays Figma, so a
# mistake in our own list must not be mirrored here.
SCOPES = {
    "current_user:read",
    "file_comments:read",
    "file_comments:write",
    "file_content:read",
    "file_dev_resources:read",
    "file_dev_resources:write",
    "file_metadata:read",
    "file_variables:read",
    "file_variables:write",
    "file_versions:read",
    "files:read",
    "library_analytics:read",
    "library_assets:read",
    "library_content:read",
    "team_library_content:read",
    "projects:read",
    "webhooks:read",
    "webhooks:write",
    "selections:read",
    "org:activity_log_read",
}

AVATAR_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
    '<rect width="96" height="96" rx="48" fill="#a259ff"/><text x="48" y="60" font-size="40" '
    'text-anchor="middle" fill="#fff" font-family="sans-serif">{initial}</text></svg>'
)

CONSENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'"


@dataclass
class Fault:
    endpoint: str  # authorize|token|refresh|me|files|any
    kind: str
    times: int = 1
    retry_after: int = 1


# The OAuth client the emulator knows, as the local stack's environment names it.
EMULATOR_CLIENT = {"FIGMA_CLIENT_ID": "local-client-id", "FIGMA_CLIENT_SECRET": "local-client-secret"}


@dataclass
class EmulatorState:
    client_id: str = EMULATOR_CLIENT["FIGMA_CLIENT_ID"]
    client_secret: str = EMULATOR_CLIENT["FIGMA_CLIENT_SECRET"]
    redirect_uris: set[str] = field(default_factory=set)
    latency_ms: int = 0
    slow_body_ms: int = 0  # REST and OAuth answers' bodies, one byte every slow_body_ms
    token_lifetime: int = 3600
    rotate_refresh_tokens: bool = False
    # Figma keeps one active access token per user per app: a new exchange or refresh kills the
    # user's previous access token (a new exchange their previous refresh token too).
    one_token_per_user: bool = True
    refresh_styles: list[str] = field(default_factory=lambda: ["token", "refresh"])
    hang_seconds: float = 30.0
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    # each user's live tokens, so one-token mode costs O(1) per call however many users there are
    user_access: dict[str, set[str]] = field(default_factory=dict)
    user_refresh: dict[str, set[str]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    in_flight: Counter[str] = field(default_factory=Counter)  # requests being answered now
    peak_in_flight: Counter[str] = field(default_factory=Counter)  # the most at once since reset
    comments: list[dict[str, Any]] = field(default_factory=list)
    revoked_grants: set[str] = field(default_factory=set)
    last_rest_request: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)  # Figma's rate limits (devstack/figma_limits.py)
    webhooks: Webhooks = field(default_factory=Webhooks)  # Webhooks V2 (devstack/figma_webhooks.py)
    files: figma_files.Files = field(default_factory=figma_files.Files)  # devstack/figma_files.py
    access: FileAccess = field(default_factory=FileAccess)  # who may open which file (devstack/figma_access.py)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)  # notified on every call

    def wait_for_call(self, endpoint: str, count: int = 1, timeout: float = 10) -> bool:
        """Block until ``endpoint`` has been called ``count`` times (tests synchronise on this)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.calls[endpoint] >= count, timeout)

    def wait_for_deliveries(self, count: int, timeout: float = 10) -> bool:
        """Block until ``count`` webhook deliveries have been attempted (and answered)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.webhooks.delivered >= count, timeout)

    def take_fault(self, endpoint: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.endpoint in (endpoint, "any") and fault.times != 0:
                    fault.times -= 1
                    return fault
        return None

    def reset(self) -> None:
        self.webhooks.settle()
        with self.lock:
            self.codes.clear()
            self.access_tokens.clear()
            self.refresh_tokens.clear()
            self.user_access.clear()
            self.user_refresh.clear()
            self.faults.clear()
            self.calls.clear()
            self.in_flight.clear()
            self.peak_in_flight.clear()
            self.comments.clear()
            self.revoked_grants.clear()
            self.last_rest_request = {}
            self.limits.reset()
            self.webhooks.reset()
            self.files.reset()
            self.access.reset()
            self.latency_ms = 0
            self.slow_body_ms = 0
            self.token_lifetime = 3600
            self.rotate_refresh_tokens = False
            self.one_token_per_user = True
            self.refresh_styles = ["token", "refresh"]
        self.release.set()  # free any request hanging on a fault
        self.release = threading.Event()

    def issue(self, user_key: str, scopes: list[str], grant_id: str) -> dict[str, Any]:
        """A code exchange: a new grant (call with the lock held)."""
        if self.one_token_per_user:
            for old in self.user_refresh.pop(user_key, set()):
                self.refresh_tokens[old]["revoked"] = True
        refresh = "figr_" + secrets.token_urlsafe(32)
        self.refresh_tokens[refresh] = {"user": user_key, "scopes": scopes, "grant": grant_id, "revoked": False}
        self.user_refresh.setdefault(user_key, set()).add(refresh)
        return {"access": self.new_access_token(user_key, scopes, grant_id), "refresh": refresh}

    def new_access_token(self, user_key: str, scopes: list[str], grant_id: str) -> str:
        """An access token for the user (call with the lock held); in one-token mode the
        user's previous access tokens stop working."""
        if self.one_token_per_user:
            for old in self.user_access.pop(user_key, set()):
                self.access_tokens.pop(old, None)
        access = "figu_" + secrets.token_urlsafe(32)
        self.access_tokens[access] = {
            "user": user_key,
            "scopes": scopes,
            "expires": time.time() + self.token_lifetime,
            "grant": grant_id,
        }
        self.user_access.setdefault(user_key, set()).add(access)
        return access


class FigmaEmulator(BackgroundServer):
    """Run with ``start()``; ``url`` is its base (both the auth and the API host)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, state: EmulatorState | None = None) -> None:
        self.state = state or EmulatorState()
        super().__init__(
            type("Handler", (_Handler,), {"state": self.state}), host=host, port=port, name="figma-emulator"
        )

    def start(self) -> FigmaEmulator:
        self.serve()
        return self

    def stop(self) -> None:
        self.state.release.set()  # free requests hanging on a fault first
        super().stop()


class _Handler(BaseHTTPRequestHandler):
    state: EmulatorState
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms ACK stall

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        pass

    # -- dispatch ------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, self.query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        self.raw_body = self.rfile.read(length) if length else b""
        refreshing = b"grant_type=refresh_token" in self.raw_body  # the token endpoint's other form
        routes = {
            ("GET", "/oauth"): ("authorize", self.authorize),
            ("POST", "/oauth/decide"): ("authorize", self.decide),
            ("POST", "/v1/oauth/token"): ("refresh", self.refresh_token_style) if refreshing else ("token", self.token),
            ("POST", "/v1/oauth/refresh"): ("refresh", self.refresh_refresh_style),
            ("GET", "/v1/me"): ("me", self.me),
        }
        if path.startswith("/_emulator/"):
            return self.control(method, path)
        if (method, path) in routes:
            endpoint, fn = routes[(method, path)]
        elif path.startswith(("/v1/", "/v2/")):
            endpoint, fn = "files", self.rest
        else:
            return self.send_json(404, {"status": 404, "err": "Not found"})
        known = figma_api.find(method, path) if endpoint == "files" else None
        with self.state.lock:
            self.state.calls[endpoint] += 1
            if known is not None:  # and by Figma's endpoint: "GET /v1/files/{file_key}/meta"
                self.state.calls[f"{known.method} {known.template}"] += 1
            self.state.arrived.notify_all()
            if endpoint in ("me", "files"):
                self.state.last_rest_request = {
                    "method": method,
                    "path": path,
                    "query": dict(self.query),
                    "headers": dict(self.headers.items()),
                    "body": self.raw_body.decode(errors="replace"),
                }
        if endpoint != "authorize" and self.state.latency_ms:
            # Counted while waiting out the latency, before the answer is written: a client
            # cannot have its next request in flight yet, so the peak is exact.
            with self.state.lock:
                self.state.in_flight[endpoint] += 1
                self.state.peak_in_flight[endpoint] = max(
                    self.state.peak_in_flight[endpoint], self.state.in_flight[endpoint]
                )
            time.sleep(self.state.latency_ms / 1000)
            with self.state.lock:
                self.state.in_flight[endpoint] -= 1
        fault = self.state.take_fault(endpoint)
        if fault is not None and self.inject(fault):
            return None
        try:
            fn(path) if fn == self.rest else fn()
        except Exception as exc:  # an emulator bug must show, not hang the client
            self.send_json(500, {"status": 500, "err": f"emulator error: {type(exc).__name__}"})
        return None

    def inject(self, fault: Fault) -> bool:
        kind = fault.kind
        if kind in ("500", "502", "503"):
            self.send_json(int(kind), {"status": int(kind), "err": "Internal server error"})
        elif kind == "429":
            self.send_json(
                429,
                {"status": 429, "err": "Rate limit exceeded"},
                {
                    "Retry-After": str(fault.retry_after),
                    "X-Figma-Plan-Tier": "starter",
                    "X-Figma-Rate-Limit-Type": "low",
                },
            )
        elif kind == "hang":
            self.state.release.wait(self.state.hang_seconds)
            self.close_connection = True
            return True
        elif kind == "stall":  # hold the request until released, then answer it as usual
            self.state.release.wait(self.state.hang_seconds)
            return False
        elif kind == "malformed":
            self.send_raw(200, b'{"access_token": "abc", ', "application/json")
        elif kind == "html":
            self.send_raw(200, b"<html><body>Figma is down</body></html>", "text/html")
        elif kind == "missing_fields":
            self.send_json(200, {"token_type": "bearer"})
        elif kind == "negative_expires":
            self.send_json(
                200,
                {
                    "access_token": "figu_x" * 4,
                    "refresh_token": "figr_x" * 4,
                    "expires_in": -5,
                    "token_type": "bearer",
                    "user_id_string": "1",
                },
            )
        elif kind == "invalid_grant":
            self.send_json(400, {"error": "invalid_grant", "error_description": "Refresh token revoked"})
        elif kind in ("401", "403"):
            self.send_json(int(kind), {"status": int(kind), "err": "Invalid token"})
        elif kind == "403_no_access":
            self.send_json(403, {"status": 403, "err": "Forbidden"})
        elif kind == "404":
            self.send_json(404, {"status": 404, "err": "Not found"})
        else:
            return False
        return True

    # -- OAuth ---------------------------------------------------------------------------

    def _authorize_problem(self, q: dict[str, str]) -> str | None:
        s = self.state
        if q.get("client_id") != s.client_id:
            return "Invalid client_id."
        if q.get("redirect_uri") not in s.redirect_uris:
            return "Invalid redirect_uri: it does not match a redirect URL registered for this app."
        if q.get("response_type") != "code":
            return "response_type must be code."
        scopes = [x for x in q.get("scope", "").replace(",", " ").split() if x]
        if not scopes or any(x not in SCOPES for x in scopes):
            return "Invalid scopes for app."
        if not q.get("state"):
            return "Missing state."
        if "code_challenge" in q and q.get("code_challenge_method") != "S256":
            return "Unsupported code_challenge_method."
        return None

    def authorize(self) -> None:
        q = self.query
        problem = self._authorize_problem(q)
        if problem:
            return self.send_html(400, f"<h1>Figma</h1><p class=error>{html.escape(problem)}</p>")
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in q.items()
        )
        users = "".join(
            f'<option value="{k}">{html.escape(u["handle"])} ({u["email"]})</option>' for k, u in USERS.items()
        )
        scopes = "".join(f"<li><code>{html.escape(x)}</code></li>" for x in q["scope"].replace(",", " ").split())
        page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Figma - Authorize app</title>
<style>body{{font-family:system-ui,sans-serif;background:#f5f5f5;display:grid;place-items:center;
min-height:100vh;margin:0}}main{{background:#fff;padding:32px 40px;border-radius:12px;
box-shadow:0 2px 12px #0002;max-width:420px}}h1{{font-size:20px}}button{{font-size:15px;padding:10px 18px;
border-radius:8px;border:0;margin-right:8px;cursor:pointer}}#allow{{background:#0d99ff;color:#fff}}
#deny{{background:#eee}}.badge{{font-size:12px;color:#888}}</style></head><body><main>
<p class="badge">Figma emulator (local development)</p>
<h1>Allow access to your Figma account?</h1>
<form method="post" action="/oauth/decide">{hidden}
<label>Sign in as <select name="user">{users}</select></label>
<p>The app asks for:</p><ul>{scopes}</ul>
<button id="allow" name="decision" value="allow" type="submit">Allow access</button>
<button id="deny" name="decision" value="deny" type="submit">Deny</button>
</form></main></body></html>"""
        return self.send_html(200, page)

    def decide(self) -> None:
        form = dict(parse_qsl(self.raw_body.decode(), keep_blank_values=True))
        problem = self._authorize_problem(form)
        if problem:
            return self.send_html(400, f"<p class=error>{html.escape(problem)}</p>")
        target = form["redirect_uri"]
        sep = "&" if "?" in target else "?"
        if form.get("decision") != "allow":
            location = target + sep + urlencode({"error": "access_denied", "state": form["state"]})
            return self.send_redirect(location)
        code = secrets.token_urlsafe(24)
        user = form.get("user") or "ada"
        if not (user.isascii() and user.isalnum() and len(user) <= 32):
            return self.send_html(400, "<p class=error>Unknown user.</p>")
        with self.state.lock:
            self.state.codes[code] = {
                "redirect_uri": target,
                "scopes": form["scope"].replace(",", " ").split(),
                "user": user,
                "challenge": form.get("code_challenge"),
                "expires": time.time() + 300,
            }
        return self.send_redirect(target + sep + urlencode({"code": code, "state": form["state"]}))

    def _client_ok(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            cid, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return cid == self.state.client_id and secrets.compare_digest(secret, self.state.client_secret)

    def token(self) -> None:
        if not self._client_ok():
            return self.send_json(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        form = dict(parse_qsl(self.raw_body.decode(), keep_blank_values=True))
        if form.get("grant_type") != "authorization_code":
            return self.send_json(400, {"error": True, "status": 400, "message": "Invalid grant_type", "i18n": None})
        with self.state.lock:
            record = self.state.codes.pop(form.get("code", ""), None)  # single use, even on failure
        if record is None or record["expires"] < time.time():
            return self.send_json(400, {"error": "invalid_grant", "error_description": "Invalid or used code"})
        if form.get("redirect_uri") != record["redirect_uri"]:
            return self.send_json(400, {"error": True, "status": 400, "message": "Invalid redirect_uri", "i18n": None})
        if record["challenge"]:
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if digest != record["challenge"]:
                return self.send_json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        with self.state.lock:
            tokens = self.state.issue(record["user"], record["scopes"], secrets.token_hex(8))
        user_id = user_profile(record["user"])["id"]
        return self.send_json(
            200,
            {
                "user_id_string": user_id,
                "user_id": int(user_id),
                "access_token": tokens["access"],
                "refresh_token": tokens["refresh"],
                "expires_in": self.state.token_lifetime,
                "token_type": "bearer",
            },
        )

    def refresh_token_style(self) -> None:
        with self.state.lock:
            self.state.calls["refresh_token_style"] += 1
            served = "token" in self.state.refresh_styles
        if not served:
            return self.send_json(
                400,
                {"error": "unsupported_grant_type", "error_description": "grant_type refresh_token is not supported"},
            )
        return self.refresh()

    def refresh_refresh_style(self) -> None:
        with self.state.lock:
            self.state.calls["refresh_refresh_style"] += 1
            served = "refresh" in self.state.refresh_styles
        if not served:
            return self.send_json(404, {"status": 404, "err": "Not found"})
        return self.refresh()

    def refresh(self) -> None:
        if not self._client_ok():
            return self.send_json(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        form = dict(parse_qsl(self.raw_body.decode(), keep_blank_values=True))
        with self.state.lock:
            record = self.state.refresh_tokens.get(form.get("refresh_token", ""))
            if record is None or record["revoked"] or record["grant"] in self.state.revoked_grants:
                return self.send_json(
                    400, {"error": True, "status": 400, "message": "Invalid refresh token", "i18n": None}
                )
            access = self.state.new_access_token(record["user"], record["scopes"], record["grant"])
            body = {"access_token": access, "expires_in": self.state.token_lifetime, "token_type": "bearer"}
            if record.get("narrowed"):  # RFC 6749 §5.1: scope is sent when it differs from the grant's
                body["scope"] = " ".join(record["scopes"])
            if self.state.rotate_refresh_tokens:
                record["revoked"] = True
                new = "figr_" + secrets.token_urlsafe(32)
                self.state.refresh_tokens[new] = {**record, "revoked": False}
                self.state.user_refresh.setdefault(record["user"], set()).add(new)
                body["refresh_token"] = new
        return self.send_json(200, body)

    # -- REST ----------------------------------------------------------------------------

    def _bearer(self) -> dict[str, Any] | None:
        """The access token's record (user, scopes), if the token is live."""
        header = self.headers.get("Authorization", "")
        # OAuth tokens work only as a Bearer token: in X-Figma-Token (personal tokens' header)
        # Figma answers 403 "Invalid token" (figma/code-connect #371).
        token = header[7:] if header.startswith("Bearer ") else ""
        with self.state.lock:
            record = self.state.access_tokens.get(token)
            grant_dead = record is not None and record["grant"] in self.state.revoked_grants
        if record is None or record["expires"] < time.time() or grant_dead:
            return None
        return record

    def _allowed(self, path: str) -> str | None:
        """The caller's user when the token is live and holds the endpoint's scope; otherwise
        Figma's refusal has been sent (403 invalid token, 403 scope, 404 no such endpoint)."""
        endpoint = figma_api.find(self.command, path)
        if endpoint is None:
            self.send_json(404, {"status": 404, "err": "Not found"})
            return None
        record = self._bearer()
        if record is None:
            self.send_json(403, {"status": 403, "err": "Invalid token"})
            return None
        refusal = figma_api.scope_refusal(endpoint, list(record["scopes"]))
        if refusal is not None:
            with self.state.lock:
                self.state.calls["scope_refused"] += 1
            self.send_json(403, refusal)
            return None
        user = str(record["user"])
        with self.state.lock:
            limited = self.state.limits.spend(user, endpoint.tier, figma_api.file_key(endpoint, path), time.time())
            if limited is not None:
                self.state.calls["rate_limited"] += 1
        if limited is not None:
            self.send_json(429, {"status": 429, "err": "Rate limit exceeded"}, limited.headers())
            return None
        return user

    def me(self) -> None:
        user = self._allowed("/v1/me")
        if user is None:
            return None
        u = user_profile(user)
        host = self.headers.get("Host", "127.0.0.1")
        return self.send_json(200, {**u, "img_url": f"http://{host}/_emulator/avatar/{user}.svg"})

    def rest(self, path: str) -> None:
        user = self._allowed(path)
        if user is None:
            return None
        segments = path.strip("/").split("/")
        if segments[:2] == ["v2", "webhooks"]:
            return self.webhooks_api(user, segments[2:])
        call = figma_files.Call(user, self.command, path, dict(self.query), self.headers.get("Host", "127.0.0.1"))
        answer = figma_files.rest(self.state, call)  # files, nodes, meta, versions, images, variables
        if answer is not None:
            return self.send_answer(answer)
        if len(segments) == 4 and segments[1] == "files" and segments[3] == "comments":
            return self.comments(user, segments[2])
        if len(segments) == 4 and segments[1] == "files" and segments[3] == "images":
            return self.send_json(200, {"error": False, "status": 200, "meta": {"images": {}}})
        return self.send_json(200, {"status": 200, "error": False, "meta": {}})  # Figma's shape, little in it

    def comments(self, user: str, key: str) -> None:
        """GET and POST /v1/files/{key}/comments (the file exists and the user may read it)."""
        if self.command == "POST":
            try:
                payload = json.loads(self.raw_body or b"{}")
            except ValueError:
                return self.send_json(400, {"status": 400, "err": "Invalid JSON"})
            with self.state.lock:
                comment = {
                    "id": str(len(self.state.comments) + 1),
                    "message": payload.get("message"),
                    "file_key": key,
                    "user": user_profile(user),
                }
                self.state.comments.append(comment)
            return self.send_json(200, comment)
        with self.state.lock:
            found = [c for c in self.state.comments if c["file_key"] == key]
        return self.send_json(200, {"comments": found})

    def webhooks_api(self, user: str, rest: list[str]) -> None:
        """/v2/webhooks[/{id}[/requests]] (Figma's shapes; the token's scope was checked)."""
        s, method = self.state, self.command
        body = figma_webhooks.json_body(self.raw_body) if method in ("POST", "PUT") else None
        with s.lock:
            if not rest and method == "POST":
                if isinstance(body, dict) and str(body.get("context", "")).lower() == "file":
                    if not s.access.may_edit(str(body.get("context_id")), user):
                        return self.send_json(
                            403, {"status": 403, "err": "You need edit access to this file to create a webhook"}
                        )
                status, answer = s.webhooks.create(user, s.client_id, body)
                if status == 200 and answer["status"] == "ACTIVE":
                    figma_webhooks.ping_later(s, s.webhooks.hooks[answer["id"]])
                return self.send_json(status, answer)
            if not rest and method == "GET":
                return self.send_json(200, {"webhooks": s.webhooks.listed(user, self.query), "pagination": {}})
            hook = s.webhooks.get(user, rest[0])
            if hook is None:
                return self.send_json(404, {"status": 404, "err": "Webhook not found"})
            if len(rest) == 2 and rest[1] == "requests":
                return self.send_json(200, {"requests": list(s.webhooks.requests.get(hook["id"], []))})
            if method == "PUT" and isinstance(body, dict):
                for name in ("status", "description", "endpoint", "passcode"):
                    if name in body:
                        hook[name] = body[name]
            if method == "DELETE":
                s.webhooks.hooks.pop(hook["id"], None)
            # Figma redacts the passcode on GET ("webhooks security": "an empty string is returned")
            return self.send_json(200, figma_webhooks.public(hook, redact=method == "GET"))

    # -- control -------------------------------------------------------------------------

    def control(self, method: str, path: str) -> None:
        if method == "GET":
            return self.control_get(path)
        knob = _KNOBS.get(path)
        if knob is None:
            return self.send_json(404, {"status": 404, "err": "Not found"})
        try:
            body = json.loads(self.raw_body or b"{}") if method == "POST" else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            answer = knob(self.state, body)
        except figma_files.NoSuchFile as exc:
            return self.send_json(404, {"status": 404, "err": f"Not found: file {exc}"})
        except (ValueError, KeyError, TypeError) as exc:
            return self.send_json(400, {"status": 400, "err": f"bad knob: {exc}"})
        return self.send_json(200, {"ok": True} if answer is None else answer)

    def control_get(self, path: str) -> None:
        s = self.state
        if path.startswith("/_emulator/avatar/"):
            key = path.rsplit("/", 1)[-1].removesuffix(".svg")
            initial = USERS.get(key, USERS["ada"])["handle"][0]
            return self.send_raw(200, AVATAR_SVG.format(initial=initial).encode(), "image/svg+xml")
        if path.startswith("/_emulator/render/"):
            image = figma_files.render(s, path, self.query)
            return self.send_raw(image.status, image.body, image.content_type)
        if path.startswith("/_emulator/files/"):
            return self.send_answer(figma_files.describe(s, path.removeprefix("/_emulator/files/")))
        if path == "/_emulator/last_request":
            with s.lock:
                return self.send_json(200, s.last_rest_request)
        if path == "/_emulator/stats":
            with s.lock:
                return self.send_json(
                    200,
                    {
                        "calls": dict(s.calls),
                        "peak_in_flight": dict(s.peak_in_flight),
                        "access_tokens": len(s.access_tokens),
                        "rate_limited": s.limits.refused,
                        "webhooks": len(s.webhooks.hooks),
                        "deliveries": s.webhooks.delivered,
                        "refresh_tokens": len(s.refresh_tokens),
                    },
                )
        return self.send_json(404, {"status": 404, "err": "Not found"})

    # -- responses -----------------------------------------------------------------------

    def send_raw(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        drip = self.state.slow_body_ms / 1000 if self.path.startswith("/v1/") else 0
        if not drip:
            self.wfile.write(body)
            return
        for byte in body:  # a body sent one byte at a time (slow_body_ms between bytes)
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(drip)

    def send_answer(self, answer: figma_files.Answer) -> None:
        """A files answer: gzipped when the request accepts gzip (devstack/figma_files.py)."""
        body, headers = answer.encoded(self.headers.get("Accept-Encoding", ""))
        self.send_raw(answer.status, body, answer.content_type, headers)

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.send_raw(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def send_html(self, status: int, page: str) -> None:
        self.send_raw(status, page.encode(), "text/html; charset=utf-8", {"Content-Security-Policy": CONSENT_CSP})

    def send_redirect(self, location: str) -> None:
        self.send_raw(302, b"", "text/plain", {"Location": location})


# -- knobs (POST /_emulator/...) ---------------------------------------------------------------

_CONFIGURABLE = (
    "latency_ms",
    "slow_body_ms",
    "token_lifetime",
    "rotate_refresh_tokens",
    "hang_seconds",
    "one_token_per_user",
    "refresh_styles",
)


def _reset(s: EmulatorState, body: dict[str, Any]) -> None:
    s.reset()


def _config(s: EmulatorState, body: dict[str, Any]) -> None:
    with s.lock:
        for name in _CONFIGURABLE:
            if name in body:
                setattr(s, name, body[name])


def _fault(s: EmulatorState, body: dict[str, Any]) -> None:
    with s.lock:
        s.faults.append(
            Fault(body["endpoint"], str(body["kind"]), int(body.get("times", 1)), int(body.get("retry_after", 1)))
        )


def _revoke(s: EmulatorState, body: dict[str, Any]) -> None:
    with s.lock:
        user_id = body.get("user_id")
        for record in s.refresh_tokens.values():
            if user_id is None or user_profile(record["user"])["id"] == user_id:
                s.revoked_grants.add(record["grant"])


def _narrow(s: EmulatorState, body: dict[str, Any]) -> None:
    """The user's grant keeps only ``scopes`` from now on (its refreshes say so in ``scope``)."""
    with s.lock:
        user_id, kept = body["user_id"], set(body["scopes"])
        for table in (s.refresh_tokens, s.access_tokens):
            for record in table.values():
                if user_profile(record["user"])["id"] == user_id:
                    record["scopes"] = [x for x in record["scopes"] if x in kept]
                    record["narrowed"] = True


def _limits(s: EmulatorState, body: dict[str, Any]) -> None:
    """{enabled?, seats?: {user: seat}, user_plans?: {user: plan}, file_plans?: {file_key: plan},
    advance_seconds?: N (the rate limits' clock moves on)}; users by key (ada) or Figma id."""
    ids = {u["id"]: key for key, u in USERS.items()}
    with s.lock:
        limits = s.limits
        if "enabled" in body:
            limits.enabled = bool(body["enabled"])
        for user, seat in body.get("seats", {}).items():
            if seat not in SEATS:
                raise ValueError(f"seat {seat!r}: one of {SEATS}")
            limits.seats[ids.get(user, user)] = seat
        for user, plan in body.get("user_plans", {}).items():
            if plan not in PLANS:
                raise ValueError(f"plan {plan!r}: one of {PLANS}")
            limits.user_plans[ids.get(user, user)] = plan
        for key, plan in body.get("file_plans", {}).items():
            if plan not in PLANS:
                raise ValueError(f"plan {plan!r}: one of {PLANS}")
            limits.file_plans[key] = plan
        limits.clock_offset += float(body.get("advance_seconds", 0))


def _webhooks_trigger(s: EmulatorState, body: dict[str, Any]) -> None:
    """A user edits (versions, comments on, deletes…) a file: the event goes to every matching
    webhook, one delivery each, in order."""
    figma_webhooks.fire(s, body)


def _webhooks_fail(s: EmulatorState, body: dict[str, Any]) -> None:
    with s.lock:
        s.webhooks.failing = bool(body.get("on", True))


def _webhooks_forbid(s: EmulatorState, body: dict[str, Any]) -> None:
    with s.lock:
        s.webhooks.forbidden.add(str(body["context_id"]))


def _expire_access_tokens(s: EmulatorState, body: dict[str, Any]) -> None:
    with s.lock:
        for record in s.access_tokens.values():
            record["expires"] = 0


_KNOBS: dict[str, Callable[[EmulatorState, dict[str, Any]], dict[str, Any] | None]] = {
    "/_emulator/reset": _reset,
    "/_emulator/config": _config,
    "/_emulator/faults": _fault,
    "/_emulator/revoke": _revoke,
    "/_emulator/narrow": _narrow,
    "/_emulator/limits": _limits,
    "/_emulator/webhooks/trigger": _webhooks_trigger,
    "/_emulator/webhooks/fail": _webhooks_fail,
    "/_emulator/webhooks/forbid": _webhooks_forbid,
    "/_emulator/expire_access_tokens": _expire_access_tokens,
    "/_emulator/files": figma_files.create,
    "/_emulator/files/edit": figma_files.edit,
    "/_emulator/files/delete": figma_files.delete,
    "/_emulator/files/too_large": figma_files.set_too_large,
    "/_emulator/files/access": lambda s, body: s.access.set(body, {u["id"]: k for k, u in USERS.items()}),
}
