"""How a function starts in Lambda: every cold-start measure in one module, switched on by the
handler, never by importing ``figma_auth``.

Every ``functions/*/app.py`` imports this module first (``import figma_auth.boot``; the import
sorter keeps it first: pyproject.toml's ``boot`` section), and importing it does three things,
each measured in ``make bench`` (section 3b):

1. **No cyclic garbage collection during init** (in Lambda only: ``AWS_LAMBDA_FUNCTION_NAME`` is
   set). A cold start allocates hundreds of thousands of objects that live as long as the
   container and almost no garbage, yet CPython scans them every 2,000 allocations (≈ 30–40 ms).
   ``end_of_init()`` — the entry wrapper's, once the handler is made — collects the import's
   garbage once and freezes what is left (``gc.freeze``); ``end()`` — after an HTTP function's
   first answer or before a scheduled job (``figma_auth.entry``) — freezes what the first
   request made and turns the collector back on. Pydantic's plugin scan is skipped too (``PYDANTIC_DISABLE_PLUGINS``,
   unless the deployment sets it).
2. **Lean Powertools packages.** ``aws_lambda_powertools.event_handler``'s ``__init__`` loads
   the AppSync, Bedrock and VPC Lattice resolvers and ``asyncio`` (≈ 17 ms), and
   ``utilities.data_classes``' some thirty event modules (≈ 11 ms); an HTTP API handler needs
   none of them. Each package is registered as a module whose ``__getattr__`` (PEP 562, the form
   Powertools itself uses for lazy names) loads a name from the submodule ``LEAN`` says defines
   it, or a submodule of that name; any other name (or one a Powertools upgrade moved) runs the
   real ``__init__`` once: every name stays importable, the same objects. No source is parsed:
   ``tests/unit/test_boot.py`` checks ``LEAN`` against the installed Powertools.
3. **SnapStart.** ``after_restore`` registers what each restored copy must renew (the runtime's
   ``snapshot_restore_py``, or ``restored()`` in the local stack's snapshot mode).
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
import types
from collections.abc import Callable
from typing import Any

# Name → the submodule that defines it: the names Powertools' HTTP resolver asks these packages
# for (checked against the installed Powertools by tests/unit/test_boot.py).
LEAN: dict[str, dict[str, str]] = {
    "aws_lambda_powertools.event_handler": {
        "ApiGatewayResolver": "api_gateway",
        "APIGatewayHttpResolver": "api_gateway",
        "APIGatewayRestResolver": "api_gateway",
        "CORSConfig": "api_gateway",
        "Response": "api_gateway",
    },
    "aws_lambda_powertools.utilities.data_classes": {
        "ALBEvent": "alb_event",
        "APIGatewayProxyEvent": "api_gateway_proxy_event",
        "APIGatewayProxyEventV2": "api_gateway_proxy_event",
        "BedrockAgentEvent": "bedrock_agent_event",
        "LambdaFunctionUrlEvent": "lambda_function_url_event",
        "VPCLatticeEvent": "vpc_lattice",
        "VPCLatticeEventV2": "vpc_lattice",
    },
}
LEAN_MARK = "__figma_auth_lean__"  # in a lean package's namespace until its real __init__ runs

_held = False  # whether start() turned the collector off and nothing has turned it back on
_restore_hooks: list[Callable[[], None]] = []


def start() -> None:
    """The cold start's measures (this module's import runs it; again, it changes nothing)."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        _hold_collector()
    for package, names in LEAN.items():
        lean(package, names)


def end_of_init() -> None:
    """Lambda's init is over: the handler is made (``figma_auth.entry``; with SnapStart, before
    the snapshot). Collect the import's cyclic garbage once and freeze what is left, the
    collector still held for the first request."""
    if _held:
        gc.collect()
        gc.freeze()


def end() -> None:
    """The cold start is over: the first call freezes what the first request made and turns
    the collector back on; later calls cost a global read. No second collection: it would scan
    every object the first request made on its answer's path (30-50 ms measured here) to free
    the few hundred that are garbage, which stay frozen instead."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def _hold_collector() -> None:
    global _held
    # pydantic looks for plugins (importlib.metadata over every installed distribution, ≈ 1.5 ms)
    # before its first schema; a layer holds none. Set PYDANTIC_DISABLE_PLUGINS= (empty) to look.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if gc.isenabled() and not _held:
        gc.disable()
        _held = True


def lean(package: str, names: dict[str, str]) -> None:
    """Register ``package`` as a module that has not run its ``__init__``, unless it is imported
    already (then there is nothing to save)."""
    if package in sys.modules:
        return
    spec = importlib.util.find_spec(package)  # imports the parent packages, as an import would
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    module = types.ModuleType(package)
    module.__spec__, module.__loader__, module.__file__ = spec, spec.loader, spec.origin
    module.__path__ = list(spec.submodule_search_locations)
    module.__package__ = package

    def real_init(name: str) -> Any:
        """Run the package's own ``__init__`` into the module, once; then ``name`` from it."""
        if module.__dict__.pop(LEAN_MARK, None) is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        assert spec.loader is not None
        spec.loader.exec_module(module)
        return getattr(module, name)

    def __getattr__(name: str) -> Any:  # noqa: N807 - PEP 562's module __getattr__
        if name.startswith("__") or LEAN_MARK not in module.__dict__:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        where = names.get(name)
        try:
            if where is not None:
                value = getattr(importlib.import_module(f"{package}.{where}"), name)
            elif importlib.util.find_spec(f"{package}.{name}") is not None:
                value = importlib.import_module(f"{package}.{name}")
            else:
                return real_init(name)
        except AttributeError:  # LEAN is out of date for this Powertools: correct, only slower
            return real_init(name)
        setattr(module, name, value)
        return value

    module.__dict__[LEAN_MARK] = True
    module.__dict__["__getattr__"] = __getattr__
    sys.modules[package] = module
    parent, _, child = package.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


# -- SnapStart ------------------------------------------------------------------------------------


def after_restore(hook: Callable[[], None]) -> Callable[[], None]:
    """Run ``hook`` in every restored copy of this process (once registered, it stays)."""
    if hook in _restore_hooks:
        return hook
    _restore_hooks.append(hook)
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:  # not in Lambda (or SnapStart-less runtimes): restored() runs the hooks
        return hook
    register_after_restore(hook)
    return hook


def restored() -> None:
    """What Lambda does after a restore: run the hooks (the local snapshot mode's fork)."""
    for hook in list(_restore_hooks):
        hook()


def snapshotting() -> bool:
    """This init will be snapshotted (Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE=snap-start)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


def preload() -> None:
    """Import, during a snapshotted init, the code the first request would otherwise import
    after every restore: botocore's session and client machinery, httpx. Modules only: no
    session, credentials, client or connection (those stay per restore)."""
    import botocore.client  # noqa: F401
    import botocore.endpoint  # noqa: F401
    import botocore.session  # noqa: F401
    import httpx  # noqa: F401


start()
