"""The container of this process (``figma_auth.container``), made on first use and dropped by
``reset()``; ``check()`` validates the settings at a handler's import, so bad configuration fails
the cold start with one line naming the variable, and registers what a SnapStart restore renews."""

from __future__ import annotations

from figma_auth import aws, boot
from figma_auth.container import Container
from figma_auth.settings import Settings

_current: Container | None = None


def container() -> Container:
    """This process's container (one per Lambda execution environment)."""
    global _current
    if _current is None:
        _current = Container()
    return _current


def settings() -> Settings:
    return container().settings


def check() -> Settings:
    """Validate configuration now (cold start), and renew per-process state after a SnapStart
    restore."""
    boot.after_restore(renew_after_restore)
    config = settings()
    if boot.snapshotting():
        boot.preload()  # code, not state: what every restore's first request would import
    return config


def renew_after_restore() -> None:
    """After a SnapStart restore: make fresh what the snapshot shares between its restores."""
    import random

    random.seed()  # from os.urandom: each restore its own jitter
    reset()  # clients, pools and caches (the client secret's too) are rebuilt by this copy's first request


def reset() -> None:
    """Drop the container and the AWS SDK's session (tests that change the environment, a restore)."""
    global _current
    _current = None
    aws.reset()
