"""clients/figma-plugin/build.py writes the whole plugin to dist/: a manifest whose network
access is generated from the endpoint it was given (the second walk: it was hard-coded)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devstack.template import ROOT

BUILD = ROOT / "clients" / "figma-plugin" / "build.py"


def built(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, str(BUILD), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    dist = ROOT / "clients" / "figma-plugin" / "dist"
    assert (dist / "code.js").read_text() == (ROOT / "clients" / "figma-plugin" / "code.js").read_text()
    assert args[0].rstrip("/") in (dist / "ui.html").read_text()
    return dict(json.loads((dist / "manifest.json").read_text()))


@pytest.mark.parametrize(
    ("args", "allowed", "dev"),
    [
        (("http://127.0.0.1:3001",), ["none"], ["http://127.0.0.1:3001"]),
        (
            ("https://abc.execute-api.eu-west-1.amazonaws.com/",),
            ["https://abc.execute-api.eu-west-1.amazonaws.com"],
            None,
        ),
        (
            ("https://auth.example.com", "--dev", "http://localhost:3000"),
            ["https://auth.example.com"],
            ["http://localhost:3000"],
        ),
    ],
    ids=["make run on another port", "deployed", "deployed, and make run while developing"],
)
def test_the_manifest_names_the_endpoint_it_was_built_for(
    args: tuple[str, ...], allowed: list[str], dev: list[str] | None
) -> None:
    manifest = built(*args)
    access = manifest["networkAccess"]
    assert isinstance(access, dict)
    assert access["allowedDomains"] == allowed and access.get("devAllowedDomains") == dev
    assert (manifest["main"], manifest["ui"]) == ("code.js", "ui.html")  # all three files sit in dist/


def test_a_url_with_a_path_is_refused_with_a_line_saying_why() -> None:
    done = subprocess.run([sys.executable, str(BUILD), "https://x.example/prod"], capture_output=True, text=True)
    assert done.returncode != 0 and "no path" in done.stderr
