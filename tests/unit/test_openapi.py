"""The OpenAPI document: generated from the handlers' routes and pydantic models, equal to the
contract's routes and error codes, and the copy in docs/ never stale."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from devstack import template

ROOT = Path(__file__).resolve().parents[2]
DOC = json.loads((ROOT / "docs" / "openapi.json").read_text())
CONTRACT_CODES = {
    "invalid_request",
    "invalid_redirect",
    "invalid_scope",
    "invalid_state",
    "invalid_grant",
    "invalid_target",
    "invalid_path",
    "unauthorized",
    "reauth_required",
    "csrf_rejected",
    "figma_error",
    "figma_unavailable",
    "response_too_large",
    "temporarily_unavailable",
    "server_error",
    "not_found",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    "rate_limited",
    "webhook_quota",
    "webhook_forbidden",
    "insufficient_scope",
}
PROXY_METHODS = {"get", "post", "put", "patch", "delete"}


def _error_enums(operation: dict[str, Any]) -> dict[str, set[str]]:
    out = {}
    for status, response in operation["responses"].items():
        schema = response.get("content", {}).get("application/json", {}).get("schema", {})
        for part in schema.get("anyOf", [schema]):  # ours, beside API Gateway's own {"message"}
            codes = part.get("properties", {}).get("error", {}).get("enum")
            if codes:
                out[status] = set(codes)
    return out


def test_the_copy_in_docs_is_what_the_handlers_generate() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TABLE_NAME", "KMS_KEY_ID")}
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "openapi", "--check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_it_is_openapi_3_1_with_every_template_route_and_no_other() -> None:
    routes = template.routes(template.load())
    documented = {
        (method, path) for path, item in DOC["paths"].items() for method in item if not method.startswith("x-")
    }
    expected = set()
    for route in routes:
        if route.method == "OPTIONS":  # CORS preflights: answered by every function, not an operation
            continue
        path = re.sub(r"\{([a-z_]+)\+\}", r"{\1}", route.path)
        methods = PROXY_METHODS if route.method == "ANY" else {route.method.lower()}
        expected |= {(m, path) for m in methods}
    assert DOC["openapi"] == "3.1.0"
    assert documented == expected


def test_error_codes_are_the_contracts_with_the_contracts_statuses() -> None:
    seen: set[str] = set()
    for item in DOC["paths"].values():
        for operation in item.values():
            for status, codes in _error_enums(operation).items():
                seen |= codes
                for code in codes:
                    allowed = {"figma_unavailable": {"502", "503"}}.get(code)
                    if allowed:
                        assert status in allowed
                    else:
                        assert (
                            status
                            == {
                                "invalid_request": "400",
                                "invalid_redirect": "400",
                                "invalid_scope": "400",
                                "invalid_state": "400",
                                "invalid_grant": "400",
                                "invalid_target": "400",
                                "invalid_path": "400",
                                "unauthorized": "401",
                                "reauth_required": "401",
                                "csrf_rejected": "403",
                                "figma_error": "502",
                                "response_too_large": "502",
                                "temporarily_unavailable": "503",
                                "server_error": "500",
                                "not_found": "404",
                                "authorization_pending": "400",
                                "slow_down": "400",
                                "access_denied": "400",
                                "expired_token": "400",
                                "rate_limited": "429",
                                "webhook_quota": "400",
                                "webhook_forbidden": "403",
                                "insufficient_scope": "403",
                            }[code]
                        ), (code, status)
    assert seen == CONTRACT_CODES


def test_the_session_view_schema_has_the_contracts_fields_and_no_refresh_token() -> None:
    schemas = DOC["components"]["schemas"]
    view = schemas["SessionView"]
    assert set(view["required"]) == {"session", "user", "provider"}
    assert set(schemas["ProviderInfo"]["properties"]) == {
        "name",
        "access_token",
        "expires_at",
        "scopes",
        "revoked_scopes",
        "rate_limits",
        "status",
    }
    assert set(schemas["RateLimitInfo"]["properties"]) == {
        "tier",
        "scope",
        "until",
        "type",
        "plan_tier",
        "upgrade_link",
    }
    assert set(schemas["UserInfo"]["properties"]) == {"id", "handle", "email", "img_url"}
    assert set(schemas["SessionInfo"]["properties"]) == {"id", "created_at", "expires_at"}
    assert "session_token" in schemas["TokenResponse"]["required"]
    assert set(schemas["SessionSummary"]["properties"]) == {
        "id",
        "created_at",
        "expires_at",
        "current",
        "client",
        "client_name",
    }
    # Figma's refresh token never appears; an agent's own (rotating) one only in its token answer.
    assert "refresh_token" not in json.dumps({k: v for k, v in schemas.items() if k != "AgentTokenResponse"})


def test_session_routes_declare_cookie_or_bearer_backend_routes_sigv4_and_login_routes_none() -> None:
    session_paths = (
        "/auth/session",
        "/auth/sessions",
        "/auth/refresh",
        "/auth/jwt",
        "/auth/realtime",
        "/auth/webhooks",
        "/auth/webhooks/{id}",
        "/auth/rate_limits",
    )
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if path.startswith("/connections"):
                assert operation["security"] == [{"awsSigV4": []}], (method, path)
            elif path in session_paths or path.startswith("/figma/"):
                assert operation["security"] == [{"sessionCookie": []}, {"bearerToken": []}], (method, path)
            else:
                assert "security" not in operation, (method, path)
    assert DOC["components"]["securitySchemes"]["sessionCookie"]["name"] == "__Host-figma_auth_session"


def test_the_authorize_parameters_are_the_contracts() -> None:
    params = {p["name"]: p for p in DOC["paths"]["/auth/figma/authorize"]["get"]["parameters"]}
    assert set(params) == {"success", "failure", "scopes", "mode", "code_challenge"}
    assert params["success"]["required"] and params["failure"]["required"]
    assert params["mode"]["schema"]["enum"] == ["cookie", "token"]
    assert not any("null" in json.dumps(p["schema"]) for p in params.values())


def test_every_operation_documents_what_api_gateway_answers_itself() -> None:
    for item in DOC["paths"].values():
        for operation in item.values():
            for status in ("400", "413", "429", "503"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert {"message"} in [set(part.get("required", [])) for part in schema.get("anyOf", [schema])]


def test_the_js_types_name_every_error_code_the_server_and_the_client_can_give() -> None:
    import re

    from figma_auth.errors import FigmaAuthError, _all

    typed = (ROOT / "clients" / "js" / "figma-auth.d.ts").read_text()
    union = typed[typed.index("export type ErrorCode") : typed.index("export class FigmaAuthError")]
    named = set(re.findall(r'\| "([a-z_]+)"', union))
    server = {cls.code for cls in _all(FigmaAuthError)} - {"too_many_attempts"}  # an HTML page's, not JSON
    assert server <= named, server - named
    assert {"network_error", "aborted"} <= named and "`http_${number}`" in union
    assert "handle: string | null" in typed and "email: string | null" in typed and "img_url: string | null" in typed
