"""The JS client in real Chromium outlives API Gateway's socket limits: when the 10-minute idle
limit or the 2-hour limit ends its socket (shortened here on the running stack through the
local WebSocket API's ``POST /_devstack/limits``), it opens another with a new ticket, sends its
watches again, and the next edit at Figma still reaches the page (the demo SPA)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.chromium import allow_at_figma
from tests.support.stack import Stack, SubprocessStack

pytestmark = pytest.mark.e2e

# Every WebSocket the page opens, what it sent and got, and how it closed (window.__sockets).
RECORD_SOCKETS = """
window.__sockets = []; window.__arrivals = [];
addEventListener('figma-auth:event', (e) => __arrivals.push(e.detail));
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(url, protocols) {
    super(url, protocols);
    this.record = { url, sent: [], received: [], closed: null };
    __sockets.push(this.record);
    this.addEventListener('message', (e) => this.record.received.push(JSON.parse(e.data)));
    this.addEventListener('close', (e) => { this.record.closed = e.code; });
  }
  send(data) { this.record.sent.push(JSON.parse(data)); super.send(data); }
};
"""


@pytest.fixture
def limits(running_stack: tuple[Stack, SubprocessStack]) -> Iterator[object]:
    """Set the running stack's socket limits for one test; the defaults again after it."""
    _, proc = running_stack
    url = json.loads(Path(proc.state_file).read_text())["realtime"].replace("ws://", "http://", 1)
    knob = url.rsplit("/", 1)[0] + "/_devstack/limits"

    def apply(**seconds: float) -> None:
        httpx.post(knob, json=seconds, timeout=10).raise_for_status()

    yield apply
    apply(idle_seconds=0, max_seconds=0)


def watching_page(chromium, live: Stack, file_key: str):  # type: ignore[no-untyped-def]
    page = chromium.new_context().new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(RECORD_SOCKETS)
    page.goto(live.demo + "/")
    page.click("#signin")
    page.wait_for_url("**/oauth?**")
    allow_at_figma(page)
    page.wait_for_selector("#signed-in:not([hidden])")
    page.fill("#file-key", file_key)
    page.click("#watch-file")
    page.wait_for_selector("#watching[data-status=active]")
    return page


def reconnected_and_resumed(page, file_key: str) -> None:  # type: ignore[no-untyped-def]
    """The first socket was closed by the stack (1001 Going away); another, opened with a new
    ticket, sent the watch again and was told active."""
    page.wait_for_function(
        """(key) => __sockets.length >= 2 && __sockets[1].received.some(
             (m) => m.type === 'watching' && m.file_key === key && m.status === 'active')""",
        arg=file_key,
        timeout=20_000,
    )
    first, second = page.evaluate("() => __sockets.slice(0, 2)")
    assert first["closed"] == 1001, first["closed"]  # closed by the stack, not the page
    assert first["url"].split("ticket=")[1] != second["url"].split("ticket=")[1]  # a new one-time ticket
    assert {"action": "watch", "file_key": file_key} in second["sent"]  # its watch resumed


def edit_reaches(page, live: Stack, file_key: str) -> None:  # type: ignore[no-untyped-def]
    edit = {"event_type": "FILE_UPDATE", "file_key": file_key, "file_name": "After the reconnect"}
    live.emulator.http.post(f"{live.emulator.url}/_emulator/webhooks/trigger", json=edit).raise_for_status()
    page.wait_for_function("() => __arrivals.length >= 1")
    (event,) = page.evaluate("() => __arrivals")
    assert (event["detail_type"], event["detail"]["file_key"]) == ("Figma FILE_UPDATE", file_key)
    assert page.locator("#events li").first.text_content().endswith("After the reconnect")


def test_after_the_idle_limit_the_client_reconnects_resumes_its_watch_and_gets_the_next_edit(
    chromium, live: Stack, limits
):
    limits(idle_seconds=3)  # API Gateway: 10 minutes without a message from the client
    page = watching_page(chromium, live, "IdleReconnect")

    reconnected_and_resumed(page, "IdleReconnect")
    limits(idle_seconds=0)  # the default again: the socket that resumed stays

    edit_reaches(page, live, "IdleReconnect")


def test_after_the_two_hour_limit_the_client_reconnects_resumes_its_watch_and_gets_the_next_edit(
    chromium, live: Stack, limits
):
    limits(max_seconds=5)  # API Gateway: 2 hours from the connect, however busy the socket
    page = watching_page(chromium, live, "MaxReconnect")

    reconnected_and_resumed(page, "MaxReconnect")

    edit_reaches(page, live, "MaxReconnect")  # within the second socket's 5 seconds
