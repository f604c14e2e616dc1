"""A sign-in never narrows a connection (Figma keeps one token per user per app: the newest
sign-in's token is every session's), and the strict emulator refuses what a token's scopes
don't cover, as Figma does."""

from __future__ import annotations

import httpx

from devstack.figma_emulator import USERS
from tests.support.browser import Browser, confirm_device, decide_at_figma, query_of, sign_in, start_login
from tests.support.stack import Stack, connection_item

ADA = USERS["ada"]["id"]
FILES = "current_user:read,file_content:read"


def signed_in(stack: Stack, **params: str) -> Browser:
    browser = Browser(origin=stack.api)
    done = sign_in(browser, stack.api, **params)
    assert done.status_code == 303 and done.headers["location"].startswith(f"{stack.api}/app/done"), done.headers
    return browser


def opens_a_file(browser: Browser, stack: Stack) -> int:
    return browser.get(f"{stack.api}/figma/v1/files/abc123").status_code


def back_at_figma(response: httpx.Response, stack: Stack) -> dict[str, str]:
    """The callback sent the browser back to Figma (not to the app): the query it asks with."""
    location = response.headers["location"]
    assert response.status_code == 303 and location.startswith(f"{stack.emulator.url}/oauth?"), location
    return query_of(location)


def test_a_token_without_file_content_read_is_refused_at_figma_and_the_proxy_passes_figmas_403(stack: Stack):
    narrow = signed_in(stack, scopes="current_user:read")

    refused = narrow.get(f"{stack.api}/figma/v1/files/abc123")
    comment = narrow.post(f"{stack.api}/figma/v1/files/abc123/comments", json={"message": "hi"})

    assert refused.status_code == 403 and "file_content:read" in refused.json()["err"]
    assert comment.status_code == 403 and "file_comments:write" in comment.json()["err"]
    assert narrow.get(f"{stack.api}/figma/v1/me").status_code == 200
    assert stack.emulator.calls().get("refresh", 0) == 0  # a scope refusal is not an invalid token


def test_a_fresh_browsers_narrower_sign_in_goes_back_to_figma_once_for_the_union(stack: Stack):
    web = signed_in(stack, scopes=FILES)
    assert opens_a_file(web, stack) == 200
    before = stack.emulator.calls()["token"]

    fresh = Browser(origin=stack.api)
    first = start_login(fresh, stack.api, scopes="current_user:read")
    again = fresh.get(first.callback_url)

    asked = back_at_figma(again, stack)
    assert set(asked["scope"].replace(",", " ").split()) == {"current_user:read", "file_content:read"}
    assert stack.table.kinds()["SESSION"] == 1  # nothing created on the narrower answer
    done = fresh.get(decide_at_figma(fresh, again.headers["location"]))
    assert done.status_code == 303 and done.headers["location"].startswith(f"{stack.api}/app/done")
    assert stack.emulator.calls()["token"] == before + 2  # the narrow exchange and the union's
    assert opens_a_file(web, stack) == 200  # session A still opens files
    assert opens_a_file(fresh, stack) == 200
    for browser in (web, fresh):
        provider = browser.get(f"{stack.api}/auth/session").json()["provider"]
        assert set(provider["scopes"]) == {"current_user:read", "file_content:read"}


def test_token_mode_and_device_sign_ins_widen_the_same_way(stack: Stack):
    web = signed_in(stack, scopes=FILES)

    from figma_auth import oauth, tokens

    spa = Browser(origin=stack.api)
    verifier = tokens.random_token(48)
    attempt = start_login(
        spa, stack.api, scopes="current_user:read", mode="token", code_challenge=oauth.pkce_challenge(verifier)
    )
    widened = spa.get(decide_at_figma(spa, spa.get(attempt.callback_url).headers["location"]))
    ticket = query_of(widened.headers["location"].replace("#", "?"))["ticket"]
    redeemed = spa.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})
    assert redeemed.status_code == 200 and "file_content:read" in redeemed.json()["provider"]["scopes"]
    assert opens_a_file(web, stack) == 200

    started = httpx.post(f"{stack.api}/auth/device", json={"scopes": "current_user:read"}).json()
    phone = Browser()
    to_figma_again = confirm_device(phone, started["verification_uri_complete"], follow_widening=False)
    back_at_figma(to_figma_again, stack)
    done = phone.get(decide_at_figma(phone, to_figma_again.headers["location"]))
    assert done.headers["location"].endswith("/auth/device/verify?result=done")
    polled = httpx.post(
        f"{stack.api}/auth/token",
        json={"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": started["device_code"]},
    )
    assert polled.status_code == 200, polled.text
    device = {"Authorization": f"Bearer {polled.json()['session_token']}"}
    assert httpx.get(f"{stack.api}/figma/v1/files/abc123", headers=device).status_code == 200
    assert opens_a_file(web, stack) == 200


def test_declining_the_second_consent_creates_no_session_and_keeps_the_connections_scopes(stack: Stack):
    signed_in(stack, scopes=FILES)
    fresh = Browser(origin=stack.api)
    attempt = start_login(fresh, stack.api, scopes="current_user:read")
    again = fresh.get(attempt.callback_url)

    declined = fresh.get(decide_at_figma(fresh, again.headers["location"], "deny"))

    assert declined.headers["location"] == f"{stack.api}/app/failed?error=access_denied"
    assert stack.table.kinds()["SESSION"] == 1
    conn = connection_item(stack.table, ADA)
    assert conn is not None and {s["S"] for s in conn["scopes"]["L"]} == {"current_user:read", "file_content:read"}


def test_a_sign_in_asking_for_the_same_or_more_never_goes_back_to_figma(stack: Stack):
    signed_in(stack, scopes=FILES)
    signed_in(stack, scopes=f"{FILES},file_comments:read")  # a fresh browser asking for more

    assert stack.emulator.calls()["authorize"] == 4  # two consent pages shown, two decisions
    assert stack.table.kinds()["SESSION"] == 2


def test_base_scopes_make_every_sign_in_ask_for_them_so_none_needs_a_second_consent(stack: Stack, reconfigure):
    reconfigure(BASE_SCOPES=FILES)
    web = signed_in(stack, scopes="current_user:read")
    attempt = start_login(Browser(origin=stack.api), stack.api, scopes="current_user:read")

    asked = query_of(attempt.authorize.headers["location"])["scope"].replace(",", " ").split()
    assert set(asked) == {"current_user:read", "file_content:read"}
    assert opens_a_file(web, stack) == 200


def test_every_sign_in_asks_for_current_user_read_which_figmas_v1_me_needs(stack: Stack):
    attempt = start_login(Browser(origin=stack.api), stack.api, scopes="file_content:read")

    asked = query_of(attempt.authorize.headers["location"])["scope"].replace(",", " ").split()
    assert asked == ["current_user:read", "file_content:read"]


def test_a_refresh_figma_answers_with_fewer_scopes_narrows_the_connection_and_the_view_says_so(stack: Stack):
    web = signed_in(stack, scopes=f"{FILES},file_comments:read")
    stack.emulator.narrow(ADA, ["current_user:read", "file_comments:read"])

    provider = web.post(f"{stack.api}/auth/refresh").json()["provider"]

    assert provider["scopes"] == ["current_user:read", "file_comments:read"]
    assert provider["revoked_scopes"] == ["file_content:read"]
    assert web.get(f"{stack.api}/auth/session").json()["provider"]["revoked_scopes"] == ["file_content:read"]
    # a sign-in asking for it again brings it back, and the view forgets the revocation
    again = sign_in(web, stack.api, scopes=FILES)
    assert again.status_code == 303
    provider = web.get(f"{stack.api}/auth/session").json()["provider"]
    assert "file_content:read" in provider["scopes"] and provider["revoked_scopes"] == []
