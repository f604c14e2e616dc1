"""The OpenAPI document of the functions in template.yaml, from Powertools: each function's
resolver describes its own routes (``get_openapi_schema``), ``OpenAPIMerge`` joins them.
`python -m devstack openapi` writes docs/openapi.json (what `make openapi` runs); the local API
serves it at /openapi.json and Swagger UI at /docs."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from typing import Any

from devstack.template import ROOT, functions, load
from devstack.workers import load_module
from figma_auth.web import GREEDY

DOC_PATH = ROOT / "docs" / "openapi.json"
LOCAL_SERVER = "http://127.0.0.1:3000"
# Importing a handler validates its settings; these let the document be built with no stack.
PLACEHOLDER_ENV = {
    "TABLE_NAME": "openapi",
    "KMS_KEY_ID": "openapi",
    "FIGMA_CLIENT_ID": "openapi",
    "FIGMA_CLIENT_SECRET": "openapi",
    "ALLOWED_ORIGINS": "http://127.0.0.1:5173",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
DESCRIPTION = (
    "Sign in with Figma for web apps: the login dance, the app's own session, encrypted Figma tokens "
    "refreshed ahead of expiry, and a proxy to Figma's REST API. Errors are JSON {error, message}; "
    "the README lists every code."
)


def build(*, server: str = LOCAL_SERVER) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import Server

    from figma_auth.openapi import security_schemes

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    merge = OpenAPIMerge(
        title="figma-auth",
        version=version,
        description=DESCRIPTION,
        servers=[Server(url=server)],
        security_schemes=security_schemes(),
        on_conflict="error",
    )
    query_models: dict[tuple[str, str], type[Any]] = {}
    for fn in functions(load()).values():
        app = getattr(load_module(fn), "app", None)
        if isinstance(app, APIGatewayHttpResolver):
            merge.add_schema(
                app.get_openapi_schema(title="figma-auth", version=version, security_schemes=security_schemes())
            )
            query_models.update(_query_models(app))
    return _with_bodies(_as_answered(json.loads(merge.get_openapi_json_schema()), query_models))


# Bodies a route parses itself (JSON or form, RFC 8628 clients post forms: web.form_or_json), so
# Powertools cannot see them: (method, path) → (required, the models it accepts).
_FORM_OR_JSON = {
    ("post", "/auth/token"): (True, ("TokenRequest", "DeviceTokenRequest")),
    ("post", "/auth/device"): (False, ("DeviceRequest",)),
}


def _with_bodies(doc: dict[str, Any]) -> dict[str, Any]:
    from figma_auth.models.sign_in import DeviceRequest
    from figma_auth.models.tokens import DeviceTokenRequest, TokenRequest

    models = {model.__name__: model for model in (TokenRequest, DeviceTokenRequest, DeviceRequest)}
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for (method, path), (required, names) in _FORM_OR_JSON.items():
        refs = []
        for name in names:
            schema = models[name].model_json_schema(ref_template="#/components/schemas/{model}")
            schemas[name] = {k: v for k, v in schema.items() if k != "$defs"}
            refs.append({"$ref": f"#/components/schemas/{name}"})
        schema = refs[0] if len(refs) == 1 else {"oneOf": refs}
        doc["paths"][path][method]["requestBody"] = {
            "required": required,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    return doc


def _query_models(app: Any) -> dict[tuple[str, str], type[Any]]:
    """(method, path) → the pydantic model a route reads its query string into."""
    import typing

    from aws_lambda_powertools.event_handler.openapi.params import Query
    from pydantic import BaseModel

    found = {}
    for route in app._static_routes + app._dynamic_routes:
        for hint in typing.get_type_hints(route.func, include_extras=True).values():
            args = typing.get_args(hint)
            if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
                if any(isinstance(a, Query) for a in args[1:]):
                    found[(route.method.lower(), route.openapi_path)] = args[0]
    return found


def _as_answered(doc: dict[str, Any], query_models: dict[tuple[str, str], type[Any]]) -> dict[str, Any]:
    """What the generator can't know, made true to what the functions answer:
    - validation failures are 400 invalid_request (web.create_app), never Powertools' 422;
    - redirects and 204 carry no body;
    - a query read into a model documents each field with the model's own schema
      (Powertools flattens it to bare types: no enum, pattern or length)."""
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.get("responses", {})
            responses.pop("422", None)
            _with_gateway_answers(responses)
            if {"awsSigV4": []} in operation.get("security", []):  # AWS_IAM: no signature, no function
                responses["403"] = {
                    "description": "API Gateway: Forbidden (missing, invalid or stale SigV4 signature, or "
                    "the caller may not execute-api:Invoke this route)",
                    "content": {"application/json": {"schema": GATEWAY}},
                }
            for status, response in responses.items():
                if status == "204" or status.startswith("3"):
                    response.pop("content", None)
            model = query_models.get((method, path))
            if model is not None:
                fields = model.model_json_schema()["properties"]
                for param in operation.get("parameters", []):
                    if param["in"] == "query" and param["name"] in fields:
                        param["schema"] = _not_null(fields[param["name"]])
    for path in [p for p in doc.get("paths", {}) if p.endswith("/" + GREEDY)]:
        # a catch-all rule is the template's {proxy+}: one path parameter, slashes included
        item = doc["paths"].pop(path)
        for operation in item.values():
            operation.setdefault("parameters", []).insert(0, _PROXY_PARAMETER)
        doc["paths"][path.removesuffix(GREEDY) + "{proxy}"] = item
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


# What API Gateway itself answers, before or instead of a function: an unreadable request (400),
# a body over 10 MB (413), the stage's throttle (429), a function past its Timeout (503).
GATEWAY = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string", "description": "API Gateway's own answer, e.g. Bad Request."}},
}
_GATEWAY_STATUSES = {
    "400": "Bad Request",
    "413": "Request Entity Too Large",
    "429": "Too Many Requests",
    "503": "Service Unavailable",
}


def _with_gateway_answers(responses: dict[str, Any]) -> None:
    for status, text in _GATEWAY_STATUSES.items():
        ours = responses.get(status, {}).get("content", {}).get("application/json", {}).get("schema")
        schema = {"anyOf": [ours, GATEWAY]} if ours else GATEWAY
        description = responses.get(status, {}).get("description")
        others = {k: v for k, v in responses.get(status, {}).get("content", {}).items() if k != "application/json"}
        responses[status] = {
            "description": f"{description}; or API Gateway's {text}" if description else f"API Gateway: {text}",
            "content": {**others, "application/json": {"schema": schema}},  # an HTML page's stays beside it
        }


_PROXY_PARAMETER = {
    "name": "proxy",
    "in": "path",
    "required": True,
    "description": "The rest of the path, slashes included: v1/… or v2/… of Figma's REST API.",
    "schema": {"type": "string"},
}


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter is absent, never null."""
    variants = [v for v in schema.get("anyOf", ()) if v.get("type") != "null"]
    if len(variants) == 1:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default", "title")}
        return {**variants[0], **rest}
    return {k: v for k, v in schema.items() if k != "title"}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def swagger_page(spec: str) -> str:
    """Swagger UI for the document, with Powertools' bundled assets inlined."""
    from pathlib import Path

    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    return generate_swagger_html(
        spec,
        (assets / "swagger-ui-bundle.min.js").read_text(),
        (assets / "swagger-ui.min.css").read_text(),
        "",
        None,
    )


def main(*, check: bool = False) -> int:
    """Write docs/openapi.json; with ``check``, only say whether it is current (exit 1 if not)."""
    for name, value in PLACEHOLDER_ENV.items():
        os.environ.setdefault(name, value)
    fresh = render(build())
    if check:
        if DOC_PATH.exists() and DOC_PATH.read_text() == fresh:
            return 0
        print(
            "docs/openapi.json is stale: the handlers' routes or models changed. Run `make openapi` and commit it.",
            file=sys.stderr,
        )
        return 1
    DOC_PATH.write_text(fresh)
    print(f"wrote {DOC_PATH.relative_to(ROOT)}")
    return 0
