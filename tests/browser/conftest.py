"""Real Chromium (Debian's /usr/bin/chromium) driven by Playwright against the running stack."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts"


@pytest.fixture(scope="module")  # Playwright's sync API runs an event loop: keep it to this module
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `apt-get install chromium` (.ci/run does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):  # type: ignore[no-untyped-def]
    context = chromium.new_context()  # a fresh profile per test: no cookies, no storage
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def allow_at_figma(page, button: str = "#allow") -> None:  # type: ignore[no-untyped-def]
    """The person clicks Allow on Figma's consent; when the sign-in comes back to Figma once for
    the union of the connection's scopes (another test's sign-in left the shared stack's
    connection wider), they see the consent again and allow again, as a person would."""
    consent = page.url.split("?")[0]
    with page.expect_navigation():
        page.click(button)
    if page.url.split("?")[0] == consent and button == "#allow":
        page.click(button)
