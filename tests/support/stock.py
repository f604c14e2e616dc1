"""Stock client libraries nobody here wrote, run as their users run them (Node, from
tests/support/stock_clients; installed by ``npm ci`` on first use), against the local stack."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "stock_clients"


def npm_ci(folder: Path) -> None:
    """Install a folder's locked npm packages (a test-only tool, like the React example's), again
    whenever node_modules no longer holds what the lock names (a new figma-auth-client tarball)."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("these tests need Node.js and npm (apt-get install nodejs npm)")
    if _installed(folder) != _locked(folder):
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, capture_output=True, timeout=600)


def _locked(folder: Path) -> dict[str, object]:
    packages = json.loads((folder / "package-lock.json").read_text())["packages"]
    return {name: entry.get("integrity") for name, entry in packages.items() if name and not entry.get("optional")}


def _installed(folder: Path) -> dict[str, object] | None:
    hidden = folder / "node_modules" / ".package-lock.json"
    if not hidden.exists():
        return None
    packages = json.loads(hidden.read_text())["packages"]
    return {name: entry.get("integrity") for name, entry in packages.items() if name and not entry.get("optional")}


class DeviceLogin:
    """openid-client's device flow from the issuer alone: discovery, device authorization, poll."""

    def __init__(self, issuer: str, scope: str, *extra: str) -> None:
        npm_ci(HERE)
        node = shutil.which("node") or "node"
        self.proc = subprocess.Popen(
            [node, str(HERE / "device_login.mjs"), issuer, scope, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def next(self) -> dict[str, Any]:
        """The next step the library reports (blocks until it does)."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"the client ended: {self.proc.wait()} {self.proc.stderr and self.proc.stderr.read()}")
        return dict(json.loads(line))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
