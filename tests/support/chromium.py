"""What the real-Chromium tests (tests/browser) share besides their fixtures: where their
screenshots go, and a person allowing at Figma's consent page."""

from __future__ import annotations

from pathlib import Path

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
