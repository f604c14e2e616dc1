"""Every function's handler is made by the one entry wrapper (figma_auth.entry): what any of
them counts is flushed at the end of its invocation, answered or failed, and the cold start ends
there (figma_auth.boot)."""

from __future__ import annotations

import ast
import json

import pytest

from devstack.template import ROOT
from tests.support.handlers import CONTEXT_AND_404, HANDLER_MODULES, NOT_HTTP, SCHEDULED, fresh_python


def probe(module: str, *, fail: bool) -> str:
    """Code for a fresh interpreter: the function's work replaced by one that counts a metric
    (and then fails, with ``fail``); what the invocation printed is collected."""
    return (
        "import contextlib, io, json, os\n"
        "os.environ['AWS_LAMBDA_FUNCTION_NAME'] = 'test'\n"
        "from figma_auth import jobs, web\n"
        "from figma_auth.observability import metrics_count\n"
        "def work(*args, **kwargs):\n"
        "    metrics_count('EntryProbe')\n"
        f"    if {fail!r}: raise RuntimeError('the work failed')\n"
        "    return {'statusCode': 200, 'headers': {}, 'body': '', 'probe': 1}\n"
        "web.handle = work\n"
        "from figma_auth import realtime_web\n"
        "realtime_web.route = realtime_web.push = work\n"
        "jobs.scheduled_refresh = jobs.webhook_reconciliation = lambda context: work() and {'probe': 1}\n"
        f"import {module} as handler\n" + CONTEXT_AND_404 + "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        handler.lambda_handler(event, Context())\n"
        "    except RuntimeError:\n"
        "        pass\n"
        "import gc\n"
        "print(json.dumps({'printed': out.getvalue(), 'collector': gc.isenabled()}))\n"
    )


@pytest.mark.parametrize("fail", [False, True], ids=["answered", "failed"])
@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_what_a_handler_counts_is_flushed_at_the_end_of_its_invocation(module: str, fail: bool) -> None:
    seen = fresh_python(probe(module, fail=fail), POWERTOOLS_METRICS_DISABLED="false")
    flushed = [json.loads(line) for line in seen["printed"].splitlines() if '"_aws"' in line]
    assert [m.get("EntryProbe") for m in flushed] == [[1.0]], seen["printed"][-500:]
    assert flushed[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "FigmaAuth"
    assert seen["collector"] is True  # the cold start ended with the invocation


@pytest.mark.parametrize("module", HANDLER_MODULES)
def test_each_handler_is_made_by_one_line_of_the_entry_wrapper(module: str) -> None:
    tree = ast.parse((ROOT / module.replace(".", "/")).with_suffix(".py").read_text())
    made = [n for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "lambda_handler"]
    assert len(made) == 1 and tree.body[-1] is made[0]  # the module's last statement
    wrapper = ast.unparse(made[0].value.func)  # type: ignore[attr-defined]
    assert wrapper == (
        "entry.scheduled" if module in SCHEDULED else "entry.event" if module in NOT_HTTP else "entry.http"
    )
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "lambda_handler"]
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    first = next(n for n in imports if not (isinstance(n, ast.ImportFrom) and n.module == "__future__"))
    assert ast.unparse(first) == "import figma_auth.boot"  # the cold start's measures, before anything else
