"""The cyclic garbage collector during a cold start: off until the cold start ends.

A cold start allocates hundreds of thousands of objects that live as long as the container
(modules, classes, pydantic's validators, botocore's service models and endpoint rules) and
almost no garbage, yet CPython runs its cyclic collector every 2,000 allocations and scans
them again and again: ≈ 30–40 ms of a full cold start here (`make bench`, section 3b). So in a
Lambda execution environment (``AWS_LAMBDA_FUNCTION_NAME`` is set) importing ``figma_auth``
turns the collector off, and the end of the cold start (``end``: after the first answer of an
HTTP function, at the start of a scheduled job) moves everything made so far to the permanent
generation (``gc.freeze``: no later collection scans it) and turns the collector back on.
Reference counting frees everything else as usual; only garbage in cycles waits for the end
of the cold start (measured: the same peak memory, 99–115 MB, either way). In Lambda,
pydantic's plugin scan is skipped too. Elsewhere (tests, tools, the admin CLI) nothing changes.
"""

from __future__ import annotations

import gc
import os

_held = False  # whether begin() turned the collector off and nothing has turned it back on


def begin() -> None:
    """At the layer's import: in Lambda, hold the collector until the cold start ends."""
    global _held
    if not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        return
    # pydantic looks for plugins (importlib.metadata over every installed distribution, ≈ 1.5 ms)
    # before its first schema; a layer holds none. Set PYDANTIC_DISABLE_PLUGINS= (empty) to look.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if gc.isenabled() and not _held:
        gc.disable()
        _held = True


def end() -> None:
    """The cold start is over: the first call freezes what it made and turns the collector back
    on (after one collection: garbage in cycles from init is freed, not frozen); later calls cost
    a global read. ``web.handle`` calls it after each answer; a scheduled
    job first thing (a batch may run for minutes, and collects as it goes)."""
    global _held
    if _held:
        _held = False
        gc.collect()  # the init's cyclic garbage is freed, not frozen for the container's life
        gc.freeze()
        gc.enable()
