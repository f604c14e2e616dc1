"""What `make run` configures before anything starts (the second walk's findings)."""

from __future__ import annotations

import subprocess

from devstack.__main__ import local_origins
from devstack.template import ROOT


def test_allowed_origins_for_make_run_add_to_the_stacks_own_pages_never_replace_them() -> None:
    own = local_origins(3001, 5174, "").split(",")
    assert own[:2] == ["http://127.0.0.1:3001", "http://localhost:3001"] and "http://127.0.0.1:5174" in own

    merged = local_origins(3001, 5174, " https://myapp.test , http://127.0.0.1:3001").split(",")

    assert merged[: len(own)] == own and merged[len(own) :] == ["https://myapp.test"]  # no duplicate


def test_make_sets_pyenv_version_only_where_those_versions_exist() -> None:
    def pyenv_version(env: dict[str, str]) -> str:
        shown = subprocess.run(
            ["make", "-s", "-p", "-n", "help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        ).stdout
        lines = [line for line in shown.splitlines() if line.startswith("PYENV_VERSION ")]
        return lines[0].split("=", 1)[1].strip() if lines else ""

    no_pyenv = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    assert pyenv_version(no_pyenv) == ""  # nothing pinned on a machine without pyenv
    assert pyenv_version({**no_pyenv, "PYENV_VERSION": "3.12.9"}) == "3.12.9"  # the caller's own choice stays
