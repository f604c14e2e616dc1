"""A function's cold start imports only the Powertools parts it uses (figma_auth.lean_imports),
and every name those packages export stays importable: the same objects, only later."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack.template import ROOT, functions, load
from figma_auth import lean_imports

ENV = {
    "FIGMA_CLIENT_ID": "cid",
    "FIGMA_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:figma",
    "TABLE_NAME": "t",
    "KMS_KEY_ID": "k",
    "ALLOWED_ORIGINS": "https://app.example.com",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
HANDLER_MODULES = sorted(f"functions.{fn.name}.app" for fn in functions(load()).values())
# What an HTTP API handler never needs: other resolvers, asyncio, other event sources' classes.
NEVER = ("asyncio", "aws_lambda_powertools.event_handler.appsync", "aws_lambda_powertools.event_handler.bedrock_agent")


# A Lambda context and an HTTP API event for a route no function has (404: no AWS call), as
# code for a fresh interpreter.
CONTEXT_AND_404 = """
class Context:
    function_name = "test"; memory_limit_in_mb = 512; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    def get_remaining_time_in_millis(self): return 30000
event = {"version": "2.0", "routeKey": "$default", "rawPath": "/no-such-route", "rawQueryString": "",
         "headers": {}, "isBase64Encoded": False,
         "requestContext": {"http": {"method": "GET", "path": "/no-such-route", "sourceIp": "192.0.2.1"},
                            "domainName": "api.example.com", "stage": "$default"}}
"""
# One invocation of the session function for that route.
INVOKE_NOT_FOUND = (
    "import json\nimport functions.session.app as handler\n"
    + CONTEXT_AND_404
    + 'print(json.dumps({"statusCode": handler.lambda_handler(event, Context())["statusCode"]}))\n'
)


def fresh_env(**overrides: str) -> dict[str, str]:
    """A new interpreter's environment: ENV's settings, this process's figma_auth on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIGMA_", "AWS_ENDPOINT"))}
    env.update(ENV, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), **overrides)
    return env


def fresh_python(code: str) -> dict[str, Any]:
    """Run ``code`` in a new interpreter with this checkout's figma_auth; its last line's JSON."""
    ran = subprocess.run(
        [sys.executable, "-c", code], env=fresh_env(), capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert ran.returncode == 0, ran.stderr
    return dict(json.loads(ran.stdout.strip().splitlines()[-1]))


def test_the_handlers_are_the_functions_the_template_declares() -> None:
    assert len(HANDLER_MODULES) >= 11 and "functions.session.app" in HANDLER_MODULES


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_a_handlers_cold_start_imports_no_other_resolver_no_asyncio_and_few_event_classes(module: str) -> None:
    seen = fresh_python(
        f"import sys, json; import {module}; "
        "print(json.dumps({'modules': sorted(sys.modules), "
        "'lean': type(sys.modules['aws_lambda_powertools.event_handler']).__name__}))"
    )
    modules = set(seen["modules"])
    assert not modules & set(NEVER), sorted(modules & set(NEVER))
    event_classes = {m for m in modules if m.startswith("aws_lambda_powertools.utilities.data_classes.")}
    assert len(event_classes) <= 12, sorted(event_classes)  # of some forty: those api_gateway names
    assert seen["lean"] == "LeanPackage"  # the package's __init__ never ran


def test_every_exported_name_resolves_to_the_object_the_real_init_gives() -> None:
    describe = (
        "import importlib, json, sys\n"
        "def names(pkg):\n"
        "    m = importlib.import_module(pkg)\n"
        "    return {n: f'{getattr(m, n).__module__}.{getattr(m, n).__qualname__}'\n"
        "            if hasattr(getattr(m, n), '__qualname__') else getattr(m, n).__name__\n"
        "            for n in ALL[pkg]}\n"
    )
    real = fresh_python(
        "import importlib, json\n"
        f"pkgs = {lean_imports.PACKAGES!r}\n"
        "ALL = {p: list(importlib.import_module(p).__all__) for p in pkgs}\n"
        + describe
        + "print(json.dumps({'all': ALL, 'names': {p: names(p) for p in pkgs}}))"
    )
    lean = fresh_python(
        "import importlib, json, sys\n"
        "import figma_auth\n"  # installs the lean packages
        f"ALL = {json.dumps(real['all'])}\n" + describe + f"got = {{p: names(p) for p in {lean_imports.PACKAGES!r}}}\n"
        f"kinds = [type(sys.modules[p]).__name__ for p in {lean_imports.PACKAGES!r}]\n"
        "print(json.dumps({'names': got, 'kinds': kinds}))"
    )
    assert lean["names"] == real["names"]
    # Every exported name was found through the __init__'s own import lines: none needed it to run.
    assert lean["kinds"] == ["LeanPackage", "LeanPackage"]


def test_a_name_the_init_defines_itself_runs_the_real_init_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "leanpkg_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "import leanpkg_demo.sub as _s\n_s.RUNS.append(1)\nfrom .sub import Thing\nOWN = 'defined here'\n"
    )
    (pkg / "sub.py").write_text("RUNS = []\nclass Thing: pass\n")
    (pkg / "other.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        lean_imports.install(("leanpkg_demo",))
        demo = sys.modules["leanpkg_demo"]
        from leanpkg_demo import Thing, other  # type: ignore[import-not-found]
        from leanpkg_demo.sub import RUNS  # type: ignore[import-not-found]

        assert Thing.__module__ == "leanpkg_demo.sub" and other.VALUE == 7
        assert RUNS == []  # the __init__ has not run: both names came from their submodules
        assert demo.OWN == "defined here"  # not re-exported from a submodule: the real __init__ runs
        assert RUNS == [1] and demo.Thing is Thing and type(demo).__name__ == "module"
        with pytest.raises(AttributeError):
            _ = demo.missing
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "leanpkg_demo"]:
            del sys.modules[name]


def test_install_leaves_an_already_imported_package_alone() -> None:
    before = sys.modules.get("json")
    lean_imports.install(("json",))
    assert sys.modules.get("json") is before


def test_the_export_map_reads_every_form_of_from_import() -> None:
    source = (
        "from .a import A\n"
        "from .b import (\n    B1,\n    B2 as Bee,  # a comment\n)\n"
        "from pkg.c import C\n"
        "from other.d import D\n"
        "from . import e\n"
    )
    assert lean_imports.exports("pkg", source) == {
        "A": "pkg.a",
        "B1": "pkg.b",
        "Bee": "pkg.b",
        "C": "pkg.c",
    }
