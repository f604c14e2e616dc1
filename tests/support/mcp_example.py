"""examples/mcp-figma/server.py, loaded from its path (the folder's name is no package name)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from devstack.template import ROOT


def load_example() -> ModuleType:
    path = ROOT / "examples" / "mcp-figma" / "server.py"
    spec = importlib.util.spec_from_file_location("mcp_figma_server", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
