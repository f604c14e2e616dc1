"""A Lambda cold start (figma_auth.boot): no cyclic collection until the cold start ends, only the
Powertools parts a function uses, and nothing of it from importing figma_auth alone."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import pytest

from figma_auth import boot
from tests.support.handlers import CONTEXT_AND_404, HANDLER_MODULES, NOT_HTTP, SCHEDULED, fresh_python

# What an HTTP API handler never needs: other resolvers, asyncio, other event sources' classes.
NEVER = ("asyncio", "aws_lambda_powertools.event_handler.appsync", "aws_lambda_powertools.event_handler.bedrock_agent")
PACKAGES = tuple(boot.LEAN)


def invoke(module: str) -> str:
    """Code for a fresh interpreter: import ``module``, invoke it once, report the collector."""
    return (
        "import gc, json, os\n"
        "from figma_auth.container import Container\n"
        "def unavailable(*args, **kwargs):\n"
        "    raise RuntimeError('no AWS in this test')\n"
        # a scheduled job fails at its first collaborator: the collector must come back anyway
        "Container.dynamodb = Container.dynamodb_paging = property(unavailable)\n"
        f"import {module} as handler\n"
        "after_init = gc.isenabled()\n" + CONTEXT_AND_404 + "try:\n"
        "    answer = handler.lambda_handler(event, Context()).get('statusCode')\n"
        "except RuntimeError:\n"
        "    answer = 'raised'\n"
        "print(json.dumps({'plugins': os.environ.get('PYDANTIC_DISABLE_PLUGINS'), 'after_init': after_init,\n"
        "                  'after_first': gc.isenabled(), 'frozen': gc.get_freeze_count(), 'answer': answer}))\n"
    )


def test_importing_figma_auth_changes_nothing_of_the_process() -> None:
    seen = fresh_python(
        "import gc, json, os, sys; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n"
        "before = set(sys.modules)\n"
        "import figma_auth\n"
        "new = sorted(set(sys.modules) - before)\n"
        "print(json.dumps({'gc': gc.isenabled(), 'new': new, 'plugins': os.environ.get('PYDANTIC_DISABLE_PLUGINS')}))"
    )
    assert seen == {"gc": True, "new": ["figma_auth"], "plugins": None}


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_in_lambda_the_collector_is_off_through_init_and_back_after_the_first_invocation(module: str) -> None:
    seen = fresh_python("import os; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n" + invoke(module))
    assert seen["after_init"] is False and seen["plugins"] == "__all__"  # no plugin scan either
    assert seen["after_first"] is True and seen["frozen"] > 10_000  # the cold start's objects, frozen
    assert seen["answer"] == ("raised" if module in SCHEDULED else NOT_HTTP.get(module, 404))


def test_outside_lambda_the_collector_is_never_touched() -> None:
    seen = fresh_python(
        "import os; os.environ.pop('AWS_LAMBDA_FUNCTION_NAME', None)\n" + invoke("functions.session.app")
    )
    assert seen == {"plugins": None, "after_init": True, "after_first": True, "frozen": 0, "answer": 404}


def test_a_plugin_setting_of_the_deployment_is_kept() -> None:
    seen = fresh_python(
        "import os; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'; os.environ['PYDANTIC_DISABLE_PLUGINS'] = ''\n"
        + invoke("functions.session.app")
    )
    assert seen["plugins"] == "" and seen["after_first"] is True


def test_a_collector_the_host_turned_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        boot.start()
        boot.end()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize(("module", "job"), [(m, m.split(".")[1]) for m in sorted(SCHEDULED)])
def test_a_scheduled_job_collects_while_it_runs(module: str, job: str) -> None:
    name = {"refresh_scheduler": "scheduled_refresh", "webhook_reconciler": "webhook_reconciliation"}[job]
    seen = fresh_python(
        "import gc, json, os; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n"
        "import figma_auth.jobs as jobs\n"
        "during = []\n"
        "def batch(context):\n"
        "    during.append(gc.isenabled()); raise RuntimeError('stop here')\n"
        f"jobs.{name} = batch\n"
        f"import {module} as handler\n"
        "held = not gc.isenabled()\n" + CONTEXT_AND_404 + "try:\n"
        "    handler.lambda_handler({}, Context())\n"
        "except RuntimeError:\n"
        "    pass\n"
        "print(json.dumps({'held': held, 'during': during}))"
    )
    assert seen == {"held": True, "during": [True]}  # a batch may run for minutes: not without a collector


def test_the_end_of_init_frees_the_imports_cyclic_garbage_and_the_first_answer_collects_nothing() -> None:
    """Init's garbage is freed before it is frozen (Hardening 3, item 6); the first answer's end
    only freezes: a collection there scans every object the first request made (30-50 ms)."""
    seen = fresh_python(
        "import gc, json, os, weakref; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n"
        "from figma_auth import boot\n"
        "class Node: pass\n"
        "a, b = Node(), Node(); a.peer, b.peer = b, a  # a cycle made during init, then dropped\n"
        "probe = weakref.ref(a); del a, b\n"
        "held = probe() is not None\n"
        "boot.end_of_init()\n"
        "freed, still_held = probe() is None, not gc.isenabled()\n"
        "collections = []\n"
        "gc.callbacks.append(lambda phase, info: collections.append(phase))\n"
        "boot.end()\n"
        "print(json.dumps({'held_during_init': held, 'freed_at_end_of_init': freed, 'held_for_the_first_request':"
        " still_held, 'collections_at_end': collections, 'enabled': gc.isenabled()}))"
    )
    assert seen == {
        "held_during_init": True,
        "freed_at_end_of_init": True,
        "held_for_the_first_request": True,
        "collections_at_end": [],
        "enabled": True,
    }


@pytest.mark.parametrize("module", ["functions.session.app", "functions.refresh_scheduler.app"])
def test_making_a_handler_ends_the_init(module: str) -> None:
    seen = fresh_python(
        "import gc, json, os; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n"
        f"import {module}\n"
        "print(json.dumps({'frozen': gc.get_freeze_count() > 1000, 'enabled': gc.isenabled()}))"
    )
    assert seen == {"frozen": True, "enabled": False}


# -- lean Powertools packages ---------------------------------------------------------------------


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_a_handlers_cold_start_and_first_answer_import_no_other_resolver_and_never_run_the_packages_init(
    module: str,
) -> None:
    seen = fresh_python(
        "import sys, json\n"
        "from figma_auth.container import Container\n"
        "def unavailable(*args, **kwargs):\n"
        "    raise RuntimeError('no AWS in this test')\n"
        "Container.dynamodb = Container.dynamodb_paging = property(unavailable)\n"
        f"import {module} as handler\n"
        + CONTEXT_AND_404
        + "try:\n"
        "    handler.lambda_handler(event, Context())\n"
        "except RuntimeError:\n"
        "    pass\n"
        f"lean = [boot.LEAN_MARK in vars(sys.modules[p]) for p in {PACKAGES!r}]\n"
        "print(json.dumps({'modules': sorted(sys.modules), 'lean': lean}))".replace(
            "lean = [", "from figma_auth import boot\nlean = ["
        )
    )
    modules = set(seen["modules"])
    assert not modules & set(NEVER), sorted(modules & set(NEVER))
    event_classes = {m for m in modules if m.startswith("aws_lambda_powertools.utilities.data_classes.")}
    assert len(event_classes) <= 12, sorted(event_classes)  # of some forty: those api_gateway names
    assert seen["lean"] == [True, True]  # neither package's __init__ ran: every name it was asked came from LEAN


def describe_names() -> str:
    return (
        "import importlib, json, sys\n"
        "def names(pkg, wanted):\n"
        "    m = importlib.import_module(pkg)\n"
        "    return {n: f'{getattr(m, n).__module__}.{getattr(m, n).__qualname__}'\n"
        "            if hasattr(getattr(m, n), '__qualname__') else getattr(m, n).__name__\n"
        "            for n in wanted}\n"
    )


def test_every_exported_name_resolves_to_the_object_the_real_init_gives() -> None:
    real = fresh_python(
        "import importlib, json\n"
        f"pkgs = {PACKAGES!r}\n"
        "ALL = {p: list(importlib.import_module(p).__all__) for p in pkgs}\n"
        + describe_names()
        + "print(json.dumps({'all': ALL, 'names': {p: names(p, ALL[p]) for p in pkgs}}))"
    )
    lean = fresh_python(
        "import figma_auth.boot\n"
        + describe_names()
        + f"ALL = {json.dumps(real['all'])}\n"
        + f"print(json.dumps({{'names': {{p: names(p, ALL[p]) for p in {PACKAGES!r}}}}}))"
    )
    assert lean["names"] == real["names"]


def test_lean_names_each_come_from_the_submodule_that_defines_them_in_this_powertools() -> None:
    pairs = [
        (package, name, f"{package}.{where}") for package, names in boot.LEAN.items() for name, where in names.items()
    ]
    seen = fresh_python(
        "import importlib, json\n"
        f"pairs = {pairs!r}\n"
        "print(json.dumps([getattr(importlib.import_module(p), n) is getattr(importlib.import_module(s), n)\n"
        "                  for p, n, s in pairs]))".replace(
            "print(json.dumps([", "print(json.dumps({'same': ["
        ).replace("for p, n, s in pairs]))", "for p, n, s in pairs]}))")
    )
    assert seen["same"] == [True] * len(pairs)


def test_a_name_lean_does_not_know_runs_the_real_init_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "leanpkg_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "import leanpkg_demo.sub as _s\n_s.RUNS.append(1)\nfrom .sub import Thing\nOWN = 'defined here'\n"
    )
    (pkg / "sub.py").write_text("RUNS = []\nclass Thing: pass\n")
    (pkg / "other.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        boot.lean("leanpkg_demo", {"Thing": "sub", "Moved": "sub"})
        demo = sys.modules["leanpkg_demo"]
        from leanpkg_demo import Thing, other  # type: ignore[import-not-found]
        from leanpkg_demo.sub import RUNS  # type: ignore[import-not-found]

        assert Thing.__module__ == "leanpkg_demo.sub" and other.VALUE == 7
        assert RUNS == []  # the __init__ has not run: both names came from their submodules
        assert demo.OWN == "defined here"  # unknown to the map: the real __init__ runs
        assert RUNS == [1] and demo.Thing is Thing and boot.LEAN_MARK not in vars(demo)
        with pytest.raises(AttributeError):
            _ = demo.missing
        assert RUNS == [1]  # once
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "leanpkg_demo"]:
            del sys.modules[name]


def test_a_name_the_map_places_wrongly_is_still_found_through_the_real_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "leanpkg_moved"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .new_home import Thing\n")
    (pkg / "new_home.py").write_text("class Thing: pass\n")
    (pkg / "old_home.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        boot.lean("leanpkg_moved", {"Thing": "old_home"})  # a Powertools upgrade moved it
        from leanpkg_moved import Thing  # type: ignore[import-not-found]

        assert Thing.__module__ == "leanpkg_moved.new_home"
    finally:
        for name in [m for m in sys.modules if m.split(".")[0] == "leanpkg_moved"]:
            del sys.modules[name]


def test_lean_leaves_an_already_imported_package_alone() -> None:
    before = sys.modules.get("json")
    boot.lean("json", {})
    assert sys.modules.get("json") is before


# -- records: each kind created by the first request that reads it ---------------------------------


def test_the_store_and_a_session_reads_use_cases_create_only_the_core_records() -> None:
    """figma_auth.records: a kind's dataclasses are made when first built, not with the store."""
    seen = fresh_python(
        "import json, sys\n"
        "import figma_auth.store, figma_auth.usecases.authenticate, figma_auth.usecases.sessions\n"
        "print(json.dumps({'kinds': sorted(m for m in sys.modules if m.startswith('figma_auth.records.'))}))"
    )
    assert seen == {"kinds": []}


@pytest.mark.parametrize(
    ("module", "families"),
    [
        ("functions.authorize.app", ["sign_in"]),
        ("functions.figma_proxy.app", []),
        ("functions.logout.app", ["sessions"]),
        ("functions.session.app", ["jwts", "sessions", "tokens", "views"]),
    ],
)
def test_a_handlers_init_builds_only_its_routes_model_families(module: str, families: list[str]) -> None:
    """figma_auth.models: a function imports the families its routes read and answer."""
    seen = fresh_python(
        f"import json, sys\nimport {module}\n"
        "print(json.dumps({'families': sorted(m.rsplit('.', 1)[1] for m in sys.modules"
        " if m.startswith('figma_auth.models.'))}))"
    )
    assert seen == {"families": families}


def test_a_cold_start_builds_its_clients_and_items_without_importing_boto3() -> None:
    """botocore is the SDK the functions use (figma_auth.aws, store.codec): boto3's package brings
    its session, resources and s3transfer, ≈ 25 ms of every cold start."""
    seen = fresh_python(
        "import json, sys\n"
        "import functions.session.app\n"
        "from figma_auth import runtime\n"
        "from figma_auth.store import codec\n"
        "parts = runtime.container()\n"
        "clients = [parts.dynamodb, parts.dynamodb_paging, parts.kms, parts.events, parts.s3]\n"
        "item = codec.unmarshal(codec.marshal(at=1, sealed=b'x', scopes={'a'}, view={'d': ['e']}))\n"
        "print(json.dumps({'clients': [c.meta.service_model.service_name for c in clients],\n"
        "                  'item': sorted(item), 'boto3': sorted(m for m in sys.modules\n"
        "                  if m.split('.')[0] in ('boto3', 's3transfer'))}))"
    )
    assert seen == {
        "clients": ["dynamodb", "dynamodb", "kms", "events", "s3"],
        "item": ["at", "scopes", "sealed", "view"],
        "boto3": [],
    }
