"""Figma's two ways to refresh (docs/FIGMA.md): the token style (`POST /v1/oauth/token`,
`grant_type=refresh_token`, Figma's current documentation) by default, and `POST
/v1/oauth/refresh` when Figma refuses it — once per container, then remembered. Against an
emulator that serves only the token style, only the refresh style, and both."""

from __future__ import annotations

import pytest

from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack


def refresh_twice(stack: Stack) -> None:
    """Two users sign in and each refreshes: a new token each, that Figma accepts."""
    for user in ("ada", "grace"):
        browser = Browser(origin=stack.api)
        sign_in(browser, stack.api, user=user)
        before = browser.get(f"{stack.api}/auth/session").json()["provider"]["access_token"]
        answer = browser.post(f"{stack.api}/auth/refresh")
        assert answer.status_code == 200, answer.text
        after = answer.json()["provider"]["access_token"]
        assert after != before and stack.emulator.me(after).status_code == 200


@pytest.mark.parametrize(
    ("served", "token_style_calls", "refresh_style_calls"),
    [
        (["token"], 2, 0),
        (["token", "refresh"], 2, 0),
        (["refresh"], 1, 2),  # refused once, then this container goes straight to /v1/oauth/refresh
    ],
    ids=["token only", "both", "refresh only"],
)
def test_refresh_works_whichever_style_figma_serves(
    stack: Stack, served: list[str], token_style_calls: int, refresh_style_calls: int
):
    stack.emulator.config(refresh_styles=served)

    refresh_twice(stack)

    calls = stack.emulator.calls()
    assert calls.get("refresh_token_style", 0) == token_style_calls
    assert calls.get("refresh_refresh_style", 0) == refresh_style_calls


def test_the_refresh_style_setting_asks_only_v1_oauth_refresh(stack: Stack, reconfigure):  # type: ignore[no-untyped-def]
    reconfigure(FIGMA_REFRESH_STYLE="refresh")
    stack.cold_start()

    refresh_twice(stack)

    calls = stack.emulator.calls()
    assert calls.get("refresh_token_style", 0) == 0 and calls.get("refresh_refresh_style", 0) == 2
