"""What the real-Chromium tests (tests/browser) share besides their fixtures: where their
screenshots go, a person allowing at Figma's consent page, and signing in on the demo SPA."""

from __future__ import annotations

from pathlib import Path

from tests.support.stack import Stack

ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts"


def allow_at_figma(page, button: str = "#allow") -> None:  # type: ignore[no-untyped-def]
    """The person clicks Allow on Figma's consent; when the sign-in comes back to Figma once for
    the union of the connection's scopes (another test's sign-in left the shared stack's
    connection wider), they see the consent again and allow again, as a person would."""
    consent = page.url.split("?")[0]
    with page.expect_navigation():
        page.click(button)
    if page.url.split("?")[0] == consent and button == "#allow":
        page.click(button)


def demo_url(stack: Stack, host: str = "127.0.0.1") -> str:
    return stack.demo.replace("127.0.0.1", host) + "/"


def sign_in(page, stack: Stack, *, mode: str = "cookie", host: str = "127.0.0.1", decision: str = "allow"):  # type: ignore[no-untyped-def]
    page.goto(demo_url(stack, host))
    page.wait_for_selector("#signed-out:not([hidden])")
    if mode == "token":
        page.check('input[name="mode"][value="token"]')  # reloads in token mode
        page.wait_for_selector("#signed-out:not([hidden])")
    page.click("#signin")
    page.wait_for_url("**/oauth?**")
    allow_at_figma(page, "#allow" if decision == "allow" else "#deny")
