"""Lambda SnapStart: one initialised process, snapshotted, restored into many execution
environments. Init makes nothing unique or secret (settings are read and validated; clients,
connections, the client secret and data keys are all made at the first request), so a restore
has little to renew (runtime.renew_after_restore): the PRNG state every restore would
otherwise share (the retry jitter), and, should a future init build anything, the cached
parts with their connection pools. The hooks register with the runtime's ``snapshot_restore_py`` (Lambda's Python 3.12+
runtimes) and with this module, whose ``restored()`` the local stack's snapshot mode calls in
each forked worker."""

from __future__ import annotations

import os
from collections.abc import Callable

_HOOKS: list[Callable[[], None]] = []


def after_restore(hook: Callable[[], None]) -> Callable[[], None]:
    """Run ``hook`` in every restored copy of this process (once registered, it stays)."""
    if hook in _HOOKS:
        return hook
    _HOOKS.append(hook)
    try:
        from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
    except ImportError:  # not in Lambda (or SnapStart-less runtimes): restored() runs the hooks
        return hook
    register_after_restore(hook)
    return hook


def restored() -> None:
    """What Lambda does after a restore: run the hooks (the local snapshot mode's fork)."""
    for hook in list(_HOOKS):
        hook()


def snapshotting() -> bool:
    """This init will be snapshotted (Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE=snap-start)."""
    return os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start"


def preload() -> None:
    """Import, during a snapshotted init, the code the first request would otherwise import
    after every restore: boto3 and botocore's client machinery, httpx. Modules only: no
    session, credentials, client or connection (those stay per restore)."""
    import boto3  # noqa: F401
    import botocore.client  # noqa: F401
    import botocore.endpoint  # noqa: F401
    import httpx  # noqa: F401
