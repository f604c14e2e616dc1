"""A Lambda cold start runs without the cyclic garbage collector until its first answer
(figma_auth.coldstart): every handler turns it back on after its first invocation, answered or
failed, and outside Lambda nothing changes."""

from __future__ import annotations

import gc

import pytest

from figma_auth import coldstart
from tests.unit.test_lean_imports import CONTEXT_AND_404, HANDLER_MODULES, fresh_python

SCHEDULED = {"functions.refresh_scheduler.app", "functions.webhook_reconciler.app"}


def invoke(module: str) -> str:
    """Code for a fresh interpreter: import ``module``, invoke it once, report the collector."""
    return (
        "import gc, json, os\n"
        "import figma_auth.runtime as runtime\n"
        "def unavailable(*args, **kwargs):\n"
        "    raise RuntimeError('no AWS in this test')\n"
        # a scheduled job fails at its first collaborator: the collector must come back anyway
        "runtime.parts = unavailable\n"
        f"import {module} as handler\n"
        "after_init = gc.isenabled()\n" + CONTEXT_AND_404 + "try:\n"
        "    answer = handler.lambda_handler(event, Context()).get('statusCode')\n"
        "except RuntimeError:\n"
        "    answer = 'raised'\n"
        "print(json.dumps({'plugins': os.environ.get('PYDANTIC_DISABLE_PLUGINS'), 'after_init': after_init,\n"
        "                  'after_first': gc.isenabled(), 'frozen': gc.get_freeze_count(), 'answer': answer}))\n"
    )


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_in_lambda_the_collector_is_off_through_init_and_back_after_the_first_invocation(module: str) -> None:
    seen = fresh_python("import os; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n" + invoke(module))
    assert seen["after_init"] is False and seen["plugins"] == "__all__"  # no plugin scan either
    assert seen["after_first"] is True and seen["frozen"] > 10_000  # the cold start's objects, frozen
    assert seen["answer"] == ("raised" if module in SCHEDULED else 404)


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
        coldstart.begin()
        coldstart.end()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()


@pytest.mark.parametrize(
    ("module", "batch"),
    [("functions.refresh_scheduler.app", "refresh_batch"), ("functions.webhook_reconciler.app", "parts")],
)
def test_a_scheduled_job_collects_while_it_runs(module: str, batch: str) -> None:
    seen = fresh_python(
        "import gc, json, os; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n"
        "import figma_auth.runtime as runtime\n"
        "during = []\n"
        "def batch(*args, **kwargs):\n"
        "    during.append(gc.isenabled()); raise RuntimeError('stop here')\n"
        f"runtime.{batch} = batch\n"
        f"import {module} as handler\n"
        "held = not gc.isenabled()\n" + CONTEXT_AND_404 + "try:\n"
        "    handler.lambda_handler({}, Context())\n"
        "except RuntimeError:\n"
        "    pass\n"
        "print(json.dumps({'held': held, 'during': during}))"
    )
    assert seen == {"held": True, "during": [True]}  # a batch may run for minutes: not without a collector


def test_the_end_of_the_cold_start_frees_the_inits_cyclic_garbage_before_it_freezes() -> None:
    seen = fresh_python(
        "import gc, json, os, weakref; os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n"
        "from figma_auth import coldstart\n"
        "coldstart.begin()\n"
        "class Node: pass\n"
        "a, b = Node(), Node(); a.peer, b.peer = b, a  # a cycle made during init, then dropped\n"
        "probe = weakref.ref(a); del a, b\n"
        "held = probe() is not None\n"
        "coldstart.end()\n"
        "print(json.dumps({'held_during_init': held, 'freed': probe() is None, 'enabled': gc.isenabled()}))"
    )
    assert seen == {"held_during_init": True, "freed": True, "enabled": True}
