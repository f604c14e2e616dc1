"""The OpenAPI 3.1 document of the HTTP API, generated from the routers the functions register
and the pydantic models they parse and answer with (``models.py``). Pure: no AWS, no I/O.

``python -m devstack openapi`` writes ``docs/openapi.json``; the local stack serves it at
``/openapi.json``; a test fails when the copy in ``docs/`` is stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from figma_auth import errors
from figma_auth.models import ErrorBody
from figma_auth.service import SESSION_COOKIE
from figma_auth.web import Route, Router

REF = "#/components/schemas/{model}"
# Any route may answer these: the query check in web.handle runs before routing, storage can be
# throttled, and a bug is a 500 (never for bad input).
COMMON_ERRORS = ("invalid_request", "temporarily_unavailable", "server_error")
_STATUS_TEXT = {
    400: "Bad input",
    401: "No valid session, or the Figma grant is dead",
    403: "Cross-site request refused",
    404: "Not found",
    500: "A bug on our side",
    502: "Figma answered badly",
    503: "Try again shortly (see Retry-After)",
}


def error_statuses() -> dict[str, int]:
    """Each public error code with its HTTP status, from ``errors.py``."""
    table: dict[str, int] = {}
    pending: list[type[errors.FigmaAuthError]] = [errors.FigmaAuthError]
    while pending:
        cls = pending.pop()
        table.setdefault(cls.code, cls.status)
        pending.extend(cls.__subclasses__())
    return table


def openapi_path(path: str) -> str:
    """``/figma/{proxy+}`` (API Gateway) → ``/figma/{proxy}`` (OpenAPI)."""
    return re.sub(r"\{([a-z_]+)\+\}", r"{\1}", path)


def document(routers: Iterable[Router], *, version: str, server: str | None = None) -> dict[str, Any]:
    routes = sorted((r for router in routers for r in router.routes), key=lambda r: r.path)
    models = _models(routes)
    mapping, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    del mapping
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, Any] = {}
    for route in routes:
        item = paths.setdefault(openapi_path(route.path), {})
        for method in sorted(route.methods):
            item[method.lower()] = _operation(route, method, schemas)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "figma-auth",
            "version": version,
            "description": "Sign in with Figma for web apps: the login dance, the app's own session, "
            "encrypted Figma tokens refreshed ahead of expiry, and a proxy to Figma's REST API. "
            "Errors are JSON {error, message}; the README lists every code.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "Token mode's session_token."},
            },
        },
    }
    if server:
        doc["servers"] = [{"url": server}]
    return doc


def _models(routes: list[Route]) -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {"ErrorBody": ErrorBody}
    for route in routes:  # query models become parameters, not components
        for model in (route.body, *route.responses.values()):
            if isinstance(model, type) and issubclass(model, BaseModel):
                seen.setdefault(model.__name__, model)
    return sorted(seen.values(), key=lambda m: m.__name__)


def _operation(route: Route, method: str, schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": _operation_id(route, method),
        "summary": route.summary,
        "parameters": _parameters(route, schemas),
        "responses": {**_success(route), **_errors(route)},
    }
    if route.auth:
        op["security"] = [{"sessionCookie": []}, {"bearerToken": []}]
    if route.body is not None:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=route.body.__name__)}}},
        }
    elif method in ("POST", "PUT", "PATCH") and "{" in route.path:
        op["requestBody"] = {
            "required": False,
            "description": "Passed to Figma as is (JSON, 1 MB at most).",
            "content": {"application/json": {"schema": {}}},
        }
    if not op["parameters"]:
        del op["parameters"]
    return op


def _operation_id(route: Route, method: str) -> str:
    words = re.findall(r"[a-z]+", openapi_path(route.path).replace("{proxy}", ""))
    return method.lower() + "".join(w.capitalize() for w in words)


def _parameters(route: Route, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in re.findall(r"\{([a-z_]+)\+?\}", route.path):
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": "A Figma REST API path below v1/ or v2/, e.g. v1/me or v1/files/KEY.",
                "schema": {"type": "string", "minLength": 1},
            }
        )
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            prop = _not_null(prop)
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    return params


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter is absent, never null: keep the non-null branch."""
    options = [o for o in prop.get("anyOf", ()) if o.get("type") != "null"]
    if len(options) != 1:
        return prop
    merged = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    return {**options[0], **merged}


def _success(route: Route) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, spec in sorted(route.responses.items()):
        if isinstance(spec, str):
            entry: dict[str, Any] = {"description": spec}
            if 300 <= status < 400:
                entry["headers"] = {"Location": {"schema": {"type": "string"}, "description": "Where to go next."}}
            if route.path.startswith("/figma/"):
                entry["content"] = {"application/json": {"schema": {}}}
            out[str(status)] = entry
        else:
            out[str(status)] = {
                "description": spec.__doc__.strip().splitlines()[0] if spec.__doc__ else spec.__name__,
                "content": {"application/json": {"schema": {"$ref": REF.format(model=spec.__name__)}}},
            }
    if route.path.startswith("/figma/"):
        out["default"] = {"description": "Figma's own status and body, passed through."}
    return out


def _errors(route: Route) -> dict[str, Any]:
    defaults = error_statuses()
    by_status: dict[int, list[str]] = {}
    for code in dict.fromkeys((*route.errors, *COMMON_ERRORS)):
        for status in route.error_status.get(code, (defaults[code],)):
            by_status.setdefault(status, []).append(code)
    out: dict[str, Any] = {}
    for status, codes in sorted(by_status.items()):
        entry: dict[str, Any] = {
            "description": f"{_STATUS_TEXT.get(status, 'Error')}: " + ", ".join(f"`{c}`" for c in codes),
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            {"$ref": REF.format(model="ErrorBody")},
                            {"properties": {"error": {"enum": codes}}},
                        ]
                    }
                }
            },
        }
        if status == 503:
            entry["headers"] = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds."}}
        out[str(status)] = entry
    return out
