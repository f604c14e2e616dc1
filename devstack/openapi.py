"""The OpenAPI document of the functions in template.yaml: `python -m devstack openapi` writes
docs/openapi.json (what `make openapi` runs); the local API serves it at /openapi.json."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from typing import Any

from devstack.lambdas import Containers, load_module
from devstack.template import ROOT

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


def build(containers: Containers | None = None, *, server: str = LOCAL_SERVER) -> dict[str, Any]:
    from figma_auth.openapi import document
    from figma_auth.web import Router

    containers = containers or Containers()
    routers = []
    for fn in containers.functions.values():
        app = getattr(load_module(fn), "app", None)
        if isinstance(app, Router):
            routers.append(app)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    return document(routers, version=version, server=server)


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


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
