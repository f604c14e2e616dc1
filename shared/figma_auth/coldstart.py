"""The cyclic garbage collector during a cold start: off until the first invocation has answered.

A cold start allocates hundreds of thousands of objects that live as long as the container
(modules, classes, pydantic's validators, botocore's service models and endpoint rules) and
almost no garbage, yet CPython runs its cyclic collector every 2,000 allocations and scans
them again and again: ≈ 30–40 ms of a full cold start here (`make bench`, section 3b). So in a
Lambda execution environment (``AWS_LAMBDA_FUNCTION_NAME`` is set) importing ``figma_auth``
turns the collector off, and the end of the first invocation (``invocation_done``, called by
``web.handle`` and the scheduled jobs) moves everything made so far to the permanent
generation (``gc.freeze``: no later collection scans it) and turns the collector back on.
Reference counting frees everything else as usual; only garbage in cycles waits for the
first answer. In Lambda pydantic's plugin scan is skipped too (``begin``). Elsewhere (tests,
tools, the admin CLI) nothing changes.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable

_held = False  # whether begin() turned the collector off and nothing has turned it back on


def begin() -> None:
    """At the layer's import: in Lambda, hold the collector until the first answer."""
    global _held
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    # pydantic looks for plugins (importlib.metadata over every installed distribution, ≈ 1.5 ms)
    # before its first schema; a layer holds none. Set PYDANTIC_DISABLE_PLUGINS= (empty) to look.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if gc.isenabled() and not _held:
        gc.disable()
        _held = True


def invocation_done() -> None:
    """After an invocation: the first one freezes the cold start's objects and turns the
    collector back on; later ones cost a global read."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def ends_invocation[**P, R](job: Callable[P, R]) -> Callable[P, R]:
    """A scheduled job's entry point (no ``web.handle`` around it): ``invocation_done`` after it,
    whether it answers or raises."""

    @functools.wraps(job)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return job(*args, **kwargs)
        finally:
            invocation_done()

    return run
