"""The JS client as an npm package a user can install: `npm pack` of clients/js ships exactly
the module, its types and a README; its exports give the types first; installed from the
tarball into an empty project, Node imports it by name; the React example's lock names the
tarball `npm pack` makes now (so `npm ci` there installs this client, not an older one)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from devstack.template import ROOT
from tests.support.js_package import PACKAGE, integrity, pack


@pytest.fixture(scope="module")
def tarball() -> Path:
    return pack()


def test_the_package_ships_the_module_its_types_and_a_readme_and_nothing_else(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = sorted(archive.getnames())
        module = archive.extractfile("package/figma-auth.js")
        assert module is not None
        shipped = module.read()
    assert names == ["package/README.md", "package/figma-auth.d.ts", "package/figma-auth.js", "package/package.json"]
    assert shipped == (PACKAGE / "figma-auth.js").read_bytes()


def test_its_manifest_is_publishable_esm_with_types_first() -> None:
    manifest = json.loads((PACKAGE / "package.json").read_text())
    assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", manifest["name"]) and "private" not in manifest
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["type"] == "module" and manifest["license"] == "MIT"
    entry = manifest["exports"]["."]
    assert list(entry) == ["types", "default"]  # TypeScript takes the first condition that matches
    assert (PACKAGE / entry["types"]).exists() and (PACKAGE / entry["default"]).exists()


def test_installed_from_the_tarball_node_imports_it_by_name(tarball: Path, tmp_path: Path) -> None:
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node
    (tmp_path / "package.json").write_text('{"name": "an-app", "version": "1.0.0", "type": "module"}')
    installed = subprocess.run(
        [npm, "install", "--offline", "--no-audit", "--no-fund", str(tarball)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert installed.returncode == 0, installed.stderr
    script = (
        "import { FigmaAuth, FigmaAuthError } from 'figma-auth-client';"
        "const auth = new FigmaAuth({ endpoint: 'https://auth.example.com', mode: 'token', storage: new Map() });"
        "console.log(typeof auth.signInWithDevice, new FigmaAuthError('x', 'y') instanceof Error);"
    )
    ran = subprocess.run([node, "--input-type=module", "-e", script], cwd=tmp_path, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["function", "true"]


def test_the_react_examples_lock_names_the_tarball_npm_pack_makes_now(tarball: Path) -> None:
    lock = json.loads((ROOT / "examples" / "react" / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/figma-auth-client"]
    assert entry["resolved"] == f"file:../../clients/js/dist/{tarball.name}"
    assert entry["integrity"] == integrity(tarball), (
        "clients/js changed: run `cd examples/react && npm install ../../clients/js/dist/"
        f"{tarball.name}` and commit its package-lock.json"
    )
