"""`make mutate`: mutmut over the protocol, crypto and decision modules and the adapters (the
DynamoDB store, the Figma client), killed by the unit tests and the store's contract suite on
DynamoDB Local (docs/TESTING.md). mutmut finds code under ./, src/ or source/ and names mutants
by module path, while the layer's package lives in shared/: so the run happens in a staging
copy (.mutate/) where shared/figma_auth is src/figma_auth. The last line printed is
``mutation score: K of N killed (P%)``.

``python -m devstack.mutate [--max-children N] [PATTERN ...]``: N test runs side by side (the
machine's cores by default); PATTERNs (mutmut's mutant names, ``figma_auth.store.signin*``)
mutate only what they match, and the table then counts only those."""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from devstack import dynamodb
from devstack.template import ROOT

STAGE = ROOT / ".mutate"
MODULES = [
    *("oauth", "tokens", "urls", "vault", "signing", "deadline", "times", "engine", "usecases/*"),
    *("store/*", "figma"),  # the adapters: the contract suite runs the store on DynamoDB Local in-process
]
COPY = ["devstack", "functions", "clients", "events", "docs", "demo", "examples"]
FILES = ["template.yaml", "README.md", "LICENSE", "Makefile", "samconfig.toml", "requirements-dev.txt"]
# Left out: they read files and sources (docs, README, structure, packaging), not behaviour.
SKIP = ["test_js_package.py", "test_plugin_build.py", "test_structure.py", "test_readme.py", "test_openapi.py"]


def stage(debug: bool = False) -> None:
    shutil.rmtree(STAGE, ignore_errors=True)
    STAGE.mkdir()
    ignore = shutil.ignore_patterns("node_modules", "__pycache__", "dist", ".artifacts")
    for name in [*COPY, "tests"]:
        shutil.copytree(ROOT / name, STAGE / name, ignore=ignore)
    for name in FILES:
        shutil.copy2(ROOT / name, STAGE / name)
    shutil.copytree(ROOT / "shared" / "figma_auth", STAGE / "src" / "figma_auth", ignore=ignore)
    (STAGE / "shared").mkdir()
    shutil.copy2(ROOT / "shared" / "requirements.txt", STAGE / "shared" / "requirements.txt")
    # tests/contract: the store's cases on DynamoDB Local (one for the whole run, main()); the
    # integration suites' handlers run in worker processes, where mutmut sees nothing.
    selection = ["tests/unit", "tests/contract", *(f"--ignore=tests/unit/{name}" for name in SKIP)]
    selection += ["-p", "no:cacheprovider"]
    only = [f"src/figma_auth/{m}" + ("" if m.endswith("*") else ".py") for m in MODULES]
    project = (ROOT / "pyproject.toml").read_text().replace('pythonpath = ["shared", "."]', 'pythonpath = ["."]')
    (STAGE / "pyproject.toml").write_text(
        project + "\n[tool.mutmut]\n"
        f"debug = {json.dumps(debug)}\n"
        'source_paths = ["src/figma_auth"]\n'
        f"only_mutate = {json.dumps(only)}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(selection)}\n"
        f"also_copy = {json.dumps([*COPY, *FILES, 'shared'])}\n"
    )


def main(argv: list[str]) -> int:
    children, patterns, debug = str(os.cpu_count() or 2), [], False
    args = iter(argv)
    for arg in args:
        if arg == "--debug":
            debug = True
        elif arg == "--max-children":
            children = next(args)
        else:
            patterns.append(arg)
    stage(debug=debug)
    # mutmut's test runs drop the sys.path entries that are their working directory (mutants/)
    # and its src/: reach the packages through links beside it (ROOT resolves them back), for
    # the tests' own subprocesses (python -m devstack …) as well.
    links = STAGE / "links"
    links.mkdir()
    for package in ("tests", "devstack", "functions", "src/figma_auth"):
        (links / Path(package).name).symlink_to(STAGE / "mutants" / package)
    # One DynamoDB Local for every test run (tests/conftest.py's dynamodb_endpoint takes it):
    # mutmut starts a pytest session per mutant, and a JVM per session would cost seconds each.
    proc, endpoint = dynamodb.start()
    env = {**os.environ, "PYTHONPATH": str(links), "FIGMA_AUTH_MUTATE": "1", "FIGMA_AUTH_DYNAMODB_ENDPOINT": endpoint}
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    log = STAGE / "mutmut.log"
    started = time.monotonic()
    try:
        with log.open("w") as out:
            ran = subprocess.run(
                [mutmut, "run", "--max-children", children, *patterns], cwd=STAGE, env=env, stdout=out, stderr=out
            )
    finally:
        dynamodb.stop(proc)
    took = time.monotonic() - started
    listed = subprocess.run([mutmut, "results", "--all", "true"], cwd=STAGE, env=env, capture_output=True, text=True)
    results = [line.strip().rsplit(": ", 1) for line in listed.stdout.splitlines() if ": " in line]
    if patterns:
        results = [r for r in results if any(fnmatch.fnmatchcase(r[0], p) for p in patterns)]
    (STAGE / "survivors.txt").write_text("".join(f"{name}: {state}\n" for name, state in results if state != "killed"))
    print(report(results))
    if not results:
        print(f"mutmut ran no mutant (exit {ran.returncode}): see {log.relative_to(ROOT)}")
        return 1
    killed = sum(state == "killed" for _, state in results)
    print(f"not killed: {STAGE.relative_to(ROOT)}/survivors.txt (mutmut show NAME in {STAGE.relative_to(ROOT)}/)")
    print(f"mutmut ran {took / 60:.1f} minutes with {children} test run(s) side by side")
    print(f"mutation score: {killed} of {len(results)} killed ({100 * killed / len(results):.0f}%)")
    return 0


def report(results: list[list[str]]) -> str:
    """Per module: killed / all, and what the rest were (survived, no tests, timeout)."""
    modules: dict[str, Counter[str]] = {}
    for name, state in results:
        module = name.split(".x", 1)[0].removeprefix("figma_auth.")
        modules.setdefault(module, Counter())[state] += 1
    lines = [f"{'module':28} {'killed':>7} {'of':>5}  not killed"]
    for module, states in sorted(modules.items()):
        rest = ", ".join(f"{n} {state}" for state, n in sorted(states.items()) if state != "killed")
        lines.append(f"{module:28} {states['killed']:>7} {sum(states.values()):>5}  {rest}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
