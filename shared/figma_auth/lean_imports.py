"""Import only the Powertools parts a function uses (issue 30's leaner init).

Two Powertools packages re-export everything they hold from their ``__init__``: importing
``aws_lambda_powertools.event_handler.api_gateway`` first runs ``event_handler/__init__``,
which loads the AppSync, Bedrock and VPC Lattice resolvers (and ``asyncio``, ≈ 17 ms), and
``api_gateway`` asks ``utilities.data_classes`` for seven event classes, whose ``__init__``
loads some thirty event modules (≈ 11 ms). Neither is used by an HTTP API handler.

``install()`` registers each of those packages, before anything imports them, as a module
whose names resolve on first use to the submodule its ``__init__`` would take them from
(read from that ``__init__``'s own ``from .x import A, B`` lines, so a Powertools upgrade
keeps the map true). A name found no other way runs the real ``__init__`` into the module:
every name the package exports stays importable, the same objects, only later.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from typing import Any

PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")
# One ``from <module> import <names>`` statement of an __init__, parenthesised or not.
_FROM_IMPORT = re.compile(r"^from\s+([\w.]+)\s+import\s+(\([^)]*\)|[^\n(]+)", re.MULTILINE)


def exports(package: str, source: str) -> dict[str, str]:
    """Name → the submodule that defines it, from an ``__init__``'s import statements."""
    found: dict[str, str] = {}
    for module, names in _FROM_IMPORT.findall(source):
        if module.startswith("."):
            module = package + module if module != "." else package
        if not module.startswith(package + "."):
            continue
        for name in re.sub(r"#[^\n]*", "", names).strip("()").split(","):
            parts = name.split()
            if parts:
                found[parts[-1]] = module  # "A" or "A as B": the package's name is the last
    return found


class LeanPackage(types.ModuleType):
    """A package module that has not run its ``__init__``: names load with their submodule."""

    _lean_exports: dict[str, str]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        origin = self._lean_exports
        if name in origin:
            value = getattr(importlib.import_module(origin[name]), name)
        elif importlib.util.find_spec(f"{self.__name__}.{name}") is not None:
            value = importlib.import_module(f"{self.__name__}.{name}")
        else:  # not re-exported from a submodule: the real __init__ runs, once
            spec = self.__spec__
            assert spec is not None and spec.loader is not None
            object.__setattr__(self, "__class__", types.ModuleType)  # an ordinary module from now on
            spec.loader.exec_module(self)
            return getattr(self, name)
        setattr(self, name, value)
        return value


def install(packages: tuple[str, ...] = PACKAGES) -> None:
    """Register each package lean unless it is already imported (then there is nothing to save)."""
    for name in packages:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)  # imports the parent packages, as an import would
        if spec is None or spec.origin is None or spec.submodule_search_locations is None:
            continue
        module = LeanPackage(name)
        with open(spec.origin, encoding="utf-8") as f:
            module._lean_exports = exports(name, f.read())
        module.__spec__ = spec
        module.__loader__ = spec.loader
        module.__file__ = spec.origin
        module.__path__ = list(spec.submodule_search_locations)
        module.__package__ = name
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
