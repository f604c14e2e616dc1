"""The sample Figma plugin in real Chromium: a host page plays Figma (a stub of the plugin API
running the real code.js) and loads the built ui.html in <iframe sandbox="allow-scripts">, a
real `null` origin. openExternal reaches the test, which opens the link in a second page as the
person would: confirm the code, consent at Figma."""

from __future__ import annotations

import json
import sys

import pytest

from devstack.template import ROOT
from tests.support.chromium import ARTIFACTS, allow_at_figma
from tests.support.js_package import pack
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

sys.path.insert(0, str(ROOT / "clients" / "figma-plugin"))
from build import build  # noqa: E402

STUB = """
window.figma = {
  fileKey: "PluginFile1",
  showUI(html) {
    const frame = document.createElement("iframe");
    frame.id = "plugin-ui";
    frame.setAttribute("sandbox", "allow-scripts");  // as Figma's plugin UI: a null origin
    frame.style.cssText = "width: 340px; height: 460px; border: 1px solid #ccc";
    frame.srcdoc = html;
    document.body.append(frame);
    window.addEventListener("message", (event) => {
      if (event.source === frame.contentWindow && event.data && event.data.pluginMessage) {
        figma.ui.onmessage(event.data.pluginMessage);
      }
    });
  },
  ui: {
    onmessage: null,
    postMessage(msg) { document.getElementById("plugin-ui").contentWindow.postMessage({ pluginMessage: msg }, "*"); },
  },
  clientStorage: {
    data: new Map(),
    async getAsync(key) { return this.data.get(key); },
    async setAsync(key, value) { this.data.set(key, value); document.body.dataset.saved = "yes"; },
    async deleteAsync(key) { this.data.delete(key); },
  },
  openExternal(url) { document.body.dataset.opened = url; },  // handed to the test
  closePlugin() {},
};
"""


def host_page(api: str) -> str:
    code = (ROOT / "clients" / "figma-plugin" / "code.js").read_text()
    return (
        "<!doctype html><html><body><h3>Figma (test host)</h3>"
        f"<script>{STUB}\nconst __html__ = {json.dumps(build(api, pack())).replace('</', '<\\/')};\n{code}</script></body></html>"
    )


def open_plugin(page, stack: Stack) -> None:  # type: ignore[no-untyped-def]
    page.set_content(host_page(stack.api))


def opened_url(page) -> str:  # type: ignore[no-untyped-def]
    """The URL the plugin passed to figma.openExternal."""
    page.wait_for_function("() => document.body.dataset.opened")
    return str(page.evaluate("() => document.body.dataset.opened"))


def test_the_plugin_signs_in_with_the_device_flow_and_opens_the_file_through_the_proxy(page, live: Stack):
    open_plugin(page, live)
    ui = page.frame_locator("#plugin-ui")

    ui.locator("#signin").click()
    ui.locator("#waiting:not([hidden])").wait_for()
    shown = ui.locator("#code").text_content()
    person = page.context.new_page()
    person.goto(opened_url(page))
    person.click("#continue")  # our page's form: the look-up is a POST from it
    assert person.text_content("#user-code") == shown  # the person checks the code matches
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#plugin-ui").screenshot(path=str(ARTIFACTS / "plugin-code.png"))
    person.set_viewport_size({"width": 640, "height": 560})
    person.screenshot(path=str(ARTIFACTS / "device-verify.png"))
    person.click("#confirm")
    person.wait_for_url("**/oauth?**")
    allow_at_figma(person)
    person.wait_for_selector("#done")
    assert person.text_content("#client") == "figma-auth sample plugin"  # the done page names the app that asked

    ui.locator("#signed-in:not([hidden])").wait_for()
    assert ui.locator("#handle").text_content() == "Ada Lovelace"
    assert page.evaluate("() => document.body.dataset.saved") == "yes"  # kept in figma.clientStorage by code.js
    ui.locator("#open-file").click()
    ui.locator("#file:not([hidden])").wait_for()
    assert "Design file PluginFile1" in ui.locator("#file").text_content()
    page.locator("#plugin-ui").screenshot(path=str(ARTIFACTS / "plugin-signed-in.png"))


def test_a_declined_consent_shows_access_denied_in_the_plugin(page, live: Stack):
    open_plugin(page, live)
    ui = page.frame_locator("#plugin-ui")

    ui.locator("#signin").click()
    person = page.context.new_page()
    person.goto(opened_url(page))
    person.click("#continue")
    person.click("#confirm")
    person.wait_for_url("**/oauth?**")
    person.click("#deny")
    person.wait_for_selector("#failed")

    ui.locator("#error:not([hidden])").wait_for()
    assert ui.locator("#error").get_attribute("data-code") == "access_denied"
    assert ui.locator("#signed-out:not([hidden])").count() == 1


def test_the_plugin_iframe_really_has_a_null_origin(page, live: Stack):
    open_plugin(page, live)
    frame = next(f for f in page.frames if f != page.main_frame)

    assert frame.evaluate("() => self.origin") == "null"
    assert (
        frame.evaluate("() => { try { localStorage.length; return 'storage'; } catch (e) { return 'blocked'; } }")
        == "blocked"
    )


def test_hardening_9_the_plugin_ui_and_main_thread_take_only_their_documented_messages(page, live: Stack):
    sessions: list[str] = []
    page.on(
        "request", lambda r: r.url.endswith("/auth/session") and sessions.append(r.headers.get("authorization", ""))
    )
    open_plugin(page, live)
    ui = page.frame_locator("#plugin-ui")
    ui.locator("#signed-out:not([hidden])").wait_for()
    frame = next(f for f in page.frames if f != page.main_frame)

    # Not from the parent: a message the UI posts to itself (as any script in a frame could) ...
    frame.evaluate(
        """() => window.postMessage({ pluginMessage: { type: "loaded", token: "evil", fileKey: "x" } }, "*")"""
    )
    # ... then the main thread's own message, with a real session: the UI handles them in order.
    page.evaluate("(token) => figma.ui.postMessage({ type: 'loaded', token, fileKey: 'F1' })", token_session(live))
    ui.locator("#signed-in:not([hidden])").wait_for()
    assert sessions and not any("evil" in header for header in sessions)

    # To the main thread: an off-site link, a token that is no token, an unknown type, no object.
    page.evaluate("""async () => {
        await figma.ui.onmessage({ type: "open", url: "https://evil.example/phish" });
        await figma.ui.onmessage({ type: "save", token: { toString() { return "x"; } } });
        await figma.ui.onmessage({ type: "eval", code: "1" });
        await figma.ui.onmessage(null);
    }""")
    assert page.evaluate("() => document.body.dataset.opened") is None
    assert page.evaluate("() => document.body.dataset.saved") is None
    page.evaluate("(url) => figma.ui.onmessage({ type: 'open', url })", f"{live.api}/auth/device/verify?user_code=X")
    assert page.evaluate("() => document.body.dataset.opened").endswith("/auth/device/verify?user_code=X")


def token_session(stack: Stack) -> str:
    """A token-mode session, signed in over HTTP: what the main thread keeps in clientStorage."""
    from figma_auth import oauth, tokens
    from tests.support.browser import Browser, sign_in, ticket_of

    browser = Browser(origin=stack.api)
    verifier = tokens.random_token(48)
    done = sign_in(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    redeemed = browser.post(
        f"{stack.api}/auth/token", json={"ticket": ticket_of(done.headers["location"]), "code_verifier": verifier}
    )
    return str(redeemed.json()["access_token"])
