"""The JS client as its npm package: `npm pack` of clients/js into clients/js/dist (what the
React example's lock and the plugin build consume), and its integrity as npm records it."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from devstack.template import ROOT

PACKAGE = ROOT / "clients" / "js"


def pack() -> Path:
    """Pack clients/js as `npm publish` would (npm's tarballs are reproducible: same files, same bytes)."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("these tests need Node.js and npm (apt-get install nodejs npm)")
    done = subprocess.run(
        [npm, "pack", "--json", "--pack-destination", "dist"], cwd=PACKAGE, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    filename: str = json.loads(done.stdout)[0]["filename"]
    return PACKAGE / "dist" / filename


def integrity(tarball: Path) -> str:
    """npm's Subresource-Integrity string for a tarball (what package-lock.json records)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
