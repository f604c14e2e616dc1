"""examples/react in real Chromium: built with Vite (npm packages from the registry, cached in
~/.npm; the figma-auth client from its packed npm tarball), served on the demo's origin at /react/, signing in through the running stack in
token mode under React's StrictMode (every component mounted twice), and watching a file live
(auth.watch over the realtime API: an edit at Figma reaches the page)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from devstack.template import ROOT
from tests.support.chromium import allow_at_figma
from tests.support.js_package import pack
from tests.support.stack import Stack, SubprocessStack
from tests.support.stock import npm_ci

pytestmark = pytest.mark.e2e

APP = ROOT / "examples" / "react"


@pytest.fixture(scope="module")
def react(running_stack: tuple[Stack, SubprocessStack]) -> Iterator[str]:
    stack, _ = running_stack
    pack()  # the figma-auth-client tarball the example's package.json names
    npm_ci(APP)
    npm = shutil.which("npm") or "npm"
    env = {**os.environ, "VITE_FIGMA_AUTH_URL": stack.api, "BASE_PATH": "/react/"}
    built = subprocess.run(
        [npm, "exec", "--", "vite", "build"], cwd=APP, env=env, capture_output=True, text=True, timeout=300
    )
    assert built.returncode == 0, built.stdout + built.stderr
    yield f"{stack.demo}/react/"


def test_the_react_app_signs_in_once_under_strict_mode_and_signs_out(page, react: str, live: Stack):
    redemptions: list[str] = []
    page.on("request", lambda r: r.url.endswith("/auth/token") and redemptions.append(r.method))

    page.goto(react)
    page.click("#signin")
    page.wait_for_url("**/oauth?**")
    allow_at_figma(page)

    page.wait_for_selector("#signed-in")
    assert page.text_content("#handle") == "Ada Lovelace"
    assert "ticket" not in page.url
    assert redemptions == ["POST"]  # one completeSignIn() for the page, though StrictMode mounts twice
    page.click("#signout")
    page.wait_for_selector("#signed-out")


def test_a_declined_consent_renders_the_error_instead_of_breaking_the_app(page, react: str, live: Stack):
    page.goto(react)
    page.click("#signin")
    page.wait_for_url("**/oauth?**")
    page.click("#deny")

    page.wait_for_selector("#error")
    assert page.get_attribute("#error", "data-code") == "access_denied"
    assert page.locator("#signin").count() == 1  # the app still works: sign in again


def test_the_react_app_watches_the_opened_file_and_an_edit_at_figma_reaches_it_over_the_socket(
    page, react: str, live: Stack
):
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    polls: list[str] = []
    page.on("request", lambda r: "/_devstack/events" in r.url and polls.append(r.url))
    page.goto(react)
    page.click("#signin")
    page.wait_for_url("**/oauth?**")
    allow_at_figma(page)
    page.wait_for_selector("#signed-in")
    page.fill("#file-key", "ReactLiveFile")
    page.click("#open-file")

    page.wait_for_selector("#live[data-status=active]")  # watched (StrictMode: watched, unwatched, watched)
    edit = {"event_type": "FILE_UPDATE", "file_key": "ReactLiveFile", "file_name": "Edited in Figma"}
    live.emulator.http.post(f"{live.emulator.url}/_emulator/webhooks/trigger", json=edit).raise_for_status()

    page.wait_for_selector("#live-events li")
    assert page.locator("#live-events li").all_text_contents() == ["Figma FILE_UPDATE · Edited in Figma"]
    assert sockets and all("ticket=" in url for url in sockets) and polls == []  # over the realtime API, no polling
    assert len(set(sockets)) == len(sockets)  # each socket with a ticket of its own
