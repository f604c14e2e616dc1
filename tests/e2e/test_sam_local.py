"""`sam local invoke --env-vars env.json` without Docker: each function's environment as SAM CLI
resolves it (its own code, from template.yaml and the env.json `make env-json` writes for the
running stack), then the handler run with exactly that environment; and `make invoke` agrees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack import samlocal
from devstack.template import ROOT, functions, load
from tests.support.sample_events import EXPECTED, REPORTS
from tests.support.stack import Stack, SubprocessStack

FUNCTIONS = {fn.name: fn for fn in functions(load()).values()}
WITH_EVENTS = sorted(p.stem for p in (ROOT / "events").glob("*.json") if p.stem in FUNCTIONS)


@pytest.fixture(scope="module")
def env_file(running_stack: tuple[Stack, SubprocessStack], tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, proc = running_stack
    out = tmp_path_factory.mktemp("sam") / "env.json"
    # Without Docker the functions run on this host: the stack's addresses as they are.
    assert samlocal.main(proc.state_file, out, host="127.0.0.1") == 0
    return out


def run_handler(name: str, env: dict[str, str]) -> dict:
    fn = FUNCTIONS[name]
    script = (
        "import json, sys; from devstack.workers import LambdaContext; import app; "
        f"event = json.load(open({str(ROOT / 'events' / (name + '.json'))!r})); "
        f"print(json.dumps(app.lambda_handler(event, LambdaContext({fn.logical_id!r}, {fn.timeout}))))"
    )
    child = {**env, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}", "PATH": os.environ["PATH"]}
    done = subprocess.run([sys.executable, "-c", script], cwd=fn.code_dir, env=child, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", WITH_EVENTS)
def test_sam_resolves_every_variable_env_json_sets_and_the_handler_runs_with_them(
    name: str, env_file: Path, monkeypatch: pytest.MonkeyPatch
):
    values = json.loads(env_file.read_text())
    wanted = {**values["Parameters"], **values.get(FUNCTIONS[name].logical_id, {})}
    for variable in wanted:  # SAM lets the shell override too: only env.json may set them here
        monkeypatch.delenv(variable, raising=False)

    env = samlocal.resolved_environment(FUNCTIONS[name].logical_id, env_file)

    assert {k: env.get(k) for k in wanted} == wanted  # none dropped: each is declared in the template
    result = run_handler(name, env)
    if FUNCTIONS[name].schedule:  # a scheduled function answers with its batch report
        assert result.get("failed") == 0, result
    elif name in REPORTS:  # an EventBridge rule's target: its report
        assert result == REPORTS[name], result
    else:
        assert result["statusCode"] == EXPECTED[name], result  # what the event gets in-process too


@pytest.mark.parametrize("name", [n for n in WITH_EVENTS if not FUNCTIONS[n].schedule])
def test_make_invoke_and_the_sam_path_agree(
    name: str, env_file: Path, running_stack: tuple[Stack, SubprocessStack], monkeypatch: pytest.MonkeyPatch
):
    _, proc = running_stack
    values = json.loads(env_file.read_text())
    for variable in {**values["Parameters"], **values.get(FUNCTIONS[name].logical_id, {})}:
        monkeypatch.delenv(variable, raising=False)
    sam = run_handler(name, samlocal.resolved_environment(FUNCTIONS[name].logical_id, env_file))

    invoked = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack",
            "invoke",
            name,
            str(ROOT / "events" / f"{name}.json"),
            "--state-file",
            str(proc.state_file),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}"},
        capture_output=True,
        text=True,
    )

    assert invoked.returncode == 0, invoked.stderr
    ours = json.loads(invoked.stdout)
    if name in REPORTS:  # an EventBridge rule's target answers a report both ways
        assert ours == sam == REPORTS[name]
        return
    assert ours["statusCode"] == sam["statusCode"]
    assert json.loads(ours.get("body") or "{}").get("error") == json.loads(sam.get("body") or "{}").get("error")
