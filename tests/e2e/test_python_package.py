"""The Python backend helper as a user installs it: built into a wheel from clients/python's own
pyproject.toml, installed into a fresh venv (with only its declared dependencies), and used
against the running stack, from a folder where the repository's copy cannot be imported."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from devstack.template import ROOT
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SCRIPT = """
import json, sys, boto3, figma_auth_backend
from figma_auth_backend import FigmaAuthBackend
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
auth = FigmaAuthBackend(sys.argv[1], session=session)
print(json.dumps({"module": figma_auth_backend.__file__, "user": auth.connection(sys.argv[2])["user"]["id"],
                  "me": auth.figma(sys.argv[2], "GET", "/v1/me").json()["handle"]}))
"""


def test_the_helper_wheel_installs_into_a_fresh_venv_and_works_against_the_stack(live: Stack, tmp_path: Path):
    source = tmp_path / "src"  # setuptools writes build/ beside the sources: not in the repository
    shutil.copytree(ROOT / "clients" / "python", source, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("figma_auth_backend-0.1.0-*.whl")
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=True)
    python = fresh / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr
    browser = Browser(origin=live.api)
    sign_in(browser, live.api, user="grace")
    user_id = browser.get(f"{live.api}/auth/session").json()["user"]["id"]

    used = subprocess.run(
        [str(python), "-c", SCRIPT, live.api, user_id],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert used.returncode == 0, used.stderr
    answer = json.loads(used.stdout.strip().splitlines()[-1])
    assert answer["module"].startswith(str(fresh)) and answer["user"] == user_id and answer["me"] == "Grace Hopper"
