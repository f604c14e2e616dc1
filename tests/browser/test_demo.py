"""The demo SPA in real Chromium: both modes, refresh, files through the proxy, sign-out,
and the error a declined consent shows."""

from __future__ import annotations

import pytest

from tests.support.chromium import ARTIFACTS, demo_url, sign_in
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


def session_status(page, stack: Stack) -> int:  # type: ignore[no-untyped-def]
    """GET /auth/session from the page, the way the app would (cookie mode)."""
    return int(
        page.evaluate("async (api) => (await fetch(api + '/auth/session', {credentials: 'include'})).status", stack.api)
    )


def test_cookie_mode_sign_in_shows_the_profile(page, live: Stack):
    sign_in(page, live)

    page.wait_for_selector("#signed-in:not([hidden])")
    assert page.text_content("#handle") == "Ada Lovelace"
    assert page.text_content("#email") == "ada@example.com"
    assert page.get_attribute("#avatar", "src").startswith(live.emulator.url)
    assert page.text_content("#mode-label") == "cookie"
    assert page.text_content("#status") == "active"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-signed-in.png"), full_page=True)


def test_token_mode_from_another_site_shows_the_profile_drops_the_ticket_and_survives_reload(page, live: Stack):
    sign_in(page, live, mode="token", host="localhost")  # localhost:5173 -> 127.0.0.1:3000 is cross-site

    page.wait_for_selector("#signed-in:not([hidden])")
    assert page.text_content("#handle") == "Ada Lovelace"
    assert "ticket" not in page.url
    assert page.text_content("#mode-label") == "token"
    assert page.context.cookies(live.api) == []  # no cookie: the session is a Bearer token

    page.reload()
    page.wait_for_selector("#signed-in:not([hidden])")
    assert page.text_content("#handle") == "Ada Lovelace"


def test_refresh_gives_a_new_expiry_and_the_countdown_follows(page, live: Stack):
    sign_in(page, live)
    page.wait_for_selector("#signed-in:not([hidden])")
    before = page.get_attribute("#countdown", "data-expires-at")
    live.emulator.config(token_lifetime=7200)  # the renewed token lives 2 h instead of 1 h

    page.click("#refresh")

    page.wait_for_function("(before) => document.getElementById('countdown').dataset.expiresAt !== before", arg=before)
    assert page.text_content("#countdown").startswith(("1:59:", "2:00:"))
    assert live.emulator.calls()["refresh"] == 1


def test_open_file_by_key_goes_through_the_proxy(page, live: Stack):
    sign_in(page, live)
    page.wait_for_selector("#signed-in:not([hidden])")

    page.fill("#file-key", "DemoKey42")
    page.click("#open-file")

    page.wait_for_selector("#file:not([hidden])")
    assert "Design file DemoKey42" in page.text_content("#file")
    assert live.emulator.calls()["files"] == 2  # the read-once cache's /meta check, then the file


def test_figmas_rate_limit_is_said_in_words_with_the_upgrade_link(page, live: Stack):
    live.emulator.make_file("DemoLimited1", 20_000, plan="starter")
    live.emulator.limits(seats={"ada": "view"}, file_plans={"DemoLimited1": "starter"})
    sign_in(page, live)
    page.wait_for_selector("#signed-in:not([hidden])")
    page.fill("#file-key", "DemoLimited1")

    for _ in range(8):  # a View seat's six file reads a month, Figma's 429, then ours
        page.click("#open-file")
        page.wait_for_selector("#open-file:not([disabled])")
        live.emulator.edit_file("DemoLimited1")  # a new version each time: the read-once cache cannot answer

    assert page.get_attribute("#error", "data-code") == "rate_limited"
    text = page.text_content("#error")
    assert "Tier 1 rate limit for this user's seat or plan" in text and "day" in text, text
    assert page.get_attribute("#error a", "href").startswith("https://www.figma.com/")
    assert live.emulator.calls()["GET /v1/files/{file_key}"] == 7

    # The user upgrades at Figma and comes back: the page forgets the remembered limit and asks again.
    live.emulator.limits(seats={"ada": "full"}, file_plans={"DemoLimited1": "pro"})
    with page.expect_response(lambda r: r.request.method == "DELETE" and r.url.endswith("/auth/rate_limits")) as clear:
        with page.expect_response(lambda r: "/figma/v1/files/DemoLimited1" in r.url) as read:
            page.click("#clear-limits")

    assert clear.value.status == 204 and read.value.status == 200
    page.wait_for_selector("#open-file:not([disabled])")
    assert "Design file DemoLimited1" in page.text_content("#file")
    assert page.is_hidden("#error") and live.emulator.calls()["GET /v1/files/{file_key}"] == 8


def test_watch_this_file_shows_an_edit_made_at_figma_within_seconds(page, live: Stack):
    sign_in(page, live)
    page.wait_for_selector("#signed-in:not([hidden])")
    page.fill("#file-key", "DemoWatched1")

    page.click("#watch-file")
    page.wait_for_selector("#watching[data-status=active]")  # the realtime API holds the file's webhook
    edit = {"event_type": "FILE_UPDATE", "file_key": "DemoWatched1", "file_name": "Edited in Figma"}
    live.emulator.http.post(f"{live.emulator.url}/_emulator/webhooks/trigger", json=edit).raise_for_status()

    page.wait_for_selector("#events li:has-text('Figma FILE_UPDATE · Edited in Figma')")  # pushed over the socket
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-watch.png"))


@pytest.mark.parametrize("mode, host", [("cookie", "127.0.0.1"), ("token", "localhost")])
def test_get_a_jwt_shows_claims_that_verify_against_the_jwks(page, live: Stack, mode: str, host: str):
    import json

    import httpx
    import jwt as pyjwt

    sign_in(page, live, mode=mode, host=host)
    page.wait_for_selector("#signed-in:not([hidden])")

    with page.expect_response("**/auth/jwt") as answer:
        page.click("#create-jwt")

    page.wait_for_selector("#jwt-claims:not([hidden])")
    shown = json.loads(page.text_content("#jwt-claims"))
    assert shown["header"]["alg"] == "ES256" and shown["claims"]["name"] == "Ada Lovelace"
    assert shown["claims"]["iss"] == live.api and shown["claims"]["aud"] == "figma-auth"
    (key,) = httpx.get(f"{live.api}/.well-known/jwks.json").json()["keys"]
    assert key["kid"] == shown["header"]["kid"]
    # The page's JWT itself, as the app's API would receive it, verifies against the JWKS.
    claims = pyjwt.decode(answer.value.json()["jwt"], pyjwt.PyJWK(key).key, algorithms=["ES256"], audience="figma-auth")
    assert claims == shown["claims"]


def test_sign_out_shows_the_signed_out_view_and_the_session_is_gone(page, live: Stack):
    sign_in(page, live)
    page.wait_for_selector("#signed-in:not([hidden])")

    page.click("#signout")

    page.wait_for_selector("#signed-out:not([hidden])")
    assert session_status(page, live) == 401


def test_sign_out_everywhere_ends_the_other_tabs_session_too(page, live: Stack):
    sign_in(page, live, mode="token", host="localhost")
    page.wait_for_selector("#signed-in:not([hidden])")
    other = page.context.browser.new_context().new_page()
    sign_in(other, live)
    other.wait_for_selector("#signed-in:not([hidden])")

    page.click("#signout-all")

    page.wait_for_selector("#signed-out:not([hidden])")
    assert session_status(other, live) == 401
    other.context.close()


def test_consent_denied_shows_the_error_code(page, live: Stack):
    sign_in(page, live, decision="deny")

    page.wait_for_selector("#error:not([hidden])")
    assert page.get_attribute("#error", "data-code") == "access_denied"
    assert "access_denied" in page.text_content("#error")
    assert "error=" not in page.url  # the code is shown, then cleaned from the address bar
    assert page.is_visible("#signed-out")


def test_a_ticket_from_a_sign_in_someone_else_started_is_burned_not_redeemed(page, live: Stack):
    """Finding 1 of the hardening issue: the attacker starts a token-mode sign-in with their own
    verifier, the victim approves at Figma and lands on the app with the ticket. The demo must
    not leave that ticket for the attacker to redeem."""
    import httpx

    from figma_auth import oauth, tokens
    from tests.support.browser import Browser, start_login, ticket_of

    attacker_verifier = tokens.random_token(48)
    victim = Browser(origin=live.api)
    attempt = start_login(  # the attacker's link, opened and approved by the victim
        victim,
        live.api,
        success=demo_url(live, "localhost"),
        failure=demo_url(live, "localhost"),
        mode="token",
        code_challenge=oauth.pkce_challenge(attacker_verifier),
    )
    landing = victim.get(attempt.callback_url).headers["location"]
    ticket = ticket_of(landing)

    page.goto(landing)  # the victim's browser runs the app with the ticket in the fragment

    page.wait_for_selector("#error:not([hidden])")
    assert page.get_attribute("#error", "data-code") == "invalid_grant"
    assert "ticket" not in page.url
    stolen = httpx.post(f"{live.api}/auth/token", json={"ticket": ticket, "code_verifier": attacker_verifier})
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
