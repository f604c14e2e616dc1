"""Webhooks on the local stack as the integration tests drive them: the scopes a webhook needs,
the file a test watches, a create through the API, and an edit in Figma's emulator."""

from __future__ import annotations

from typing import Any

import httpx

from devstack.figma_emulator import FigmaEmulator
from tests.support.browser import Browser
from tests.support.stack import Stack

SCOPES = "current_user:read,file_content:read,webhooks:read,webhooks:write"
WATCH = {"event_type": "FILE_UPDATE", "context": "file", "context_id": "WatchedFile1"}


def create(browser: Browser, stack: Stack, **body: Any) -> httpx.Response:
    return browser.post(f"{stack.api}/auth/webhooks", json={**WATCH, **body})


def edit(stack: Stack, emulator: FigmaEmulator, n: int, file_key: str = "WatchedFile1", **fields: Any) -> None:
    """A person edits the file in Figma: Figma delivers a FILE_UPDATE to every matching webhook."""
    before = emulator.state.webhooks.delivered
    body = {"event_type": "FILE_UPDATE", "file_key": file_key, "file_name": f"File {file_key}", **fields}
    httpx.post(f"{stack.emulator.url}/_emulator/webhooks/trigger", json=body).raise_for_status()
    assert emulator.state.wait_for_deliveries(before + n)
