"""Adversarial cases (RFC 9700, OAuth for Browser-Based Apps, OWASP ASVS V7/V10) not already
pinned by the flow suites; docs/SECURITY.md maps every requirement to its test."""

from __future__ import annotations

import json

import pytest

from devstack.figma_emulator import EMULATOR_CLIENT, FigmaEmulator
from figma_auth import oauth, tokens
from figma_auth.credentials import TX_COOKIE_PREFIX, tx_cookie_name
from tests.support.browser import Browser, sign_in, start_login, ticket_of
from tests.support.stack import SESSION_COOKIE, Stack, connection_item, update_connection


def test_a_session_cookie_planted_before_login_is_replaced_and_never_valid(stack: Stack):
    victim = Browser(origin=stack.api)
    planted = tokens.random_token()  # the attacker knows this value
    victim.jar(stack.api)[SESSION_COOKIE] = planted

    sign_in(victim, stack.api)

    assert victim.jar(stack.api)[SESSION_COOKIE] != planted
    attacker = Browser()
    response = attacker.http.get(f"{stack.api}/auth/session", headers={"Authorization": f"Bearer {planted}"})
    assert response.status_code == 401


def test_the_old_cookie_is_dead_after_logout(stack: Stack):
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)
    stolen = browser.jar(stack.api)[SESSION_COOKIE]
    browser.post(f"{stack.api}/auth/logout")

    replay = browser.http.get(f"{stack.api}/auth/session", headers={"Cookie": f"{SESSION_COOKIE}={stolen}"})

    assert replay.status_code == 401


def test_a_ciphertext_copied_into_another_row_fails_closed(stack: Stack):
    mallory, ada = Browser(origin=stack.api), Browser(origin=stack.api)
    sign_in(mallory, stack.api, user="grace")
    sign_in(ada, stack.api)
    mallory_id = mallory.get(f"{stack.api}/auth/session").json()["user"]["id"]
    ada_id = ada.get(f"{stack.api}/auth/session").json()["user"]["id"]
    stolen_box = connection_item(stack.table, ada_id)["grant_box"]
    update_connection(stack.table, mallory_id, "SET grant_box = :b", {":b": stolen_box})
    stack.cold_start()  # a new container too: nothing cached may paper over it

    response = mallory.get(f"{stack.api}/auth/session")

    assert response.status_code == 401 and "access_token" not in response.text
    assert ada.get(f"{stack.api}/auth/session").status_code == 200


def test_a_code_from_another_login_injected_into_this_browsers_callback_is_rejected(stack: Stack):
    victim, attacker = Browser(origin=stack.api), Browser(origin=stack.api)
    victims = start_login(victim, stack.api)
    attackers = start_login(attacker, stack.api, user="grace")  # the attacker's own code
    injected = (
        f"{stack.api}/auth/figma/callback?code={attackers.callback_query['code']}"
        f"&state={victims.callback_query['state']}"
    )

    response = victim.get(injected)

    assert response.headers["location"] == f"{stack.api}/app/failed?error=figma_error"  # PKCE binds the code
    assert stack.table.items() == [] or "SESSION" not in stack.table.kinds()


def _victims_callback_with_the_attackers_own_transaction_cookie(stack: Stack) -> tuple[Browser, Browser, str]:
    """The attack on the transaction's browser binding: the attacker holds the victim's callback
    URL (code and state) and a transaction cookie of their own sign-in with the same return URLs,
    renamed to the victim's state (a cookie's name is the attacker's to choose; its value carries
    the same URLs). Only the store's binding condition stands between them and the victim's login.
    Returns the victim, the attacker and the victim's callback URL, the attack already sent."""
    victim, attacker = Browser(origin=stack.api), Browser(origin=stack.api)
    victims = start_login(victim, stack.api)  # the victim consented at Figma: their code is in this URL
    start_login(attacker, stack.api, user="grace")  # the attacker's own transaction cookie
    jar = attacker.jar(stack.api)
    (own,) = [name for name in jar if name.startswith(TX_COOKIE_PREFIX)]
    jar[tx_cookie_name(victims.callback_query["state"])] = jar.pop(own)

    stolen = attacker.get(victims.callback_url)

    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_state"
    assert SESSION_COOKIE not in jar
    assert "token" not in stack.emulator.calls()  # the victim's code was never spent
    return victim, attacker, victims.callback_url


def test_a_victims_callback_with_the_attackers_transaction_cookie_signs_nobody_in_without_pkce(
    stack: Stack, reconfigure
):
    reconfigure(FIGMA_PKCE="false")  # a supported setting: only the binding ties the code to the browser
    victim, attacker, callback = _victims_callback_with_the_attackers_own_transaction_cookie(stack)

    assert attacker.get(f"{stack.api}/auth/session").status_code == 401
    assert "SESSION" not in stack.table.kinds()
    assert victim.get(callback).headers["location"] == f"{stack.api}/app/done"  # the owner still finishes
    assert victim.get(f"{stack.api}/auth/session").json()["user"]["handle"] == "Ada Lovelace"


def test_a_victims_callback_with_the_attackers_transaction_cookie_leaves_the_victims_sign_in_intact_with_pkce(
    stack: Stack,
):
    victim, attacker, callback = _victims_callback_with_the_attackers_own_transaction_cookie(stack)

    assert attacker.get(f"{stack.api}/auth/session").status_code == 401
    assert victim.get(callback).headers["location"] == f"{stack.api}/app/done"  # not burned by the attempt
    assert victim.get(f"{stack.api}/auth/session").status_code == 200


def test_the_callback_uses_the_stored_urls_never_ones_from_its_query(stack: Stack):
    browser = Browser(origin=stack.api)
    attempt = start_login(browser, stack.api)

    response = browser.get(attempt.callback_url + "&success=https://evil.example/&redirect_uri=https://evil.example/")

    # the stored success URL, and the stored redirect_uri for the exchange (Figma would refuse another)
    assert response.headers["location"] == f"{stack.api}/app/done"


def test_no_response_ever_carries_a_refresh_token_or_the_client_secret(stack: Stack, emulator: FigmaEmulator):
    seen: list[str] = []
    browser = Browser(origin=stack.api)
    attempt = start_login(browser, stack.api)
    for response in (
        browser.get(attempt.callback_url),
        browser.get(f"{stack.api}/auth/session"),
        browser.post(f"{stack.api}/auth/refresh?min_validity=999999"),
        browser.get(f"{stack.api}/auth/sessions"),
        browser.get(f"{stack.api}/figma/v1/me"),
    ):
        seen.append(json.dumps(dict(response.headers)) + response.text)
    verifier = tokens.random_token(48)
    done = sign_in(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    ticket = ticket_of(done.headers["location"])
    seen.append(browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier}).text)

    everything = "\n".join(seen)
    refresh_tokens = list(emulator.state.refresh_tokens)
    assert refresh_tokens and not any(token in everything for token in refresh_tokens)
    assert EMULATOR_CLIENT["FIGMA_CLIENT_SECRET"] not in everything


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/auth/figma/authorize?" + "x=1&" * 70, "too many parameters"),
        ("/auth/figma/authorize?success=" + "a" * 5000, "query too long"),
        ("/auth/session?a=1&a=2", "repeated parameter"),
    ],
)
def test_oversized_or_repeated_query_parameters_are_invalid_request(stack: Stack, path: str, why: str):
    response = Browser().get(f"{stack.api}{path}")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request", why


@pytest.mark.parametrize("body", [b"x" * 20000, b"\xff\xfe{}", b'{"all": true' + b" " * 10])
def test_oversized_or_garbage_bodies_are_invalid_request_and_end_nothing(stack: Stack, body: bytes):
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)
    response = browser.post(f"{stack.api}/auth/logout", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert browser.get(f"{stack.api}/auth/session").status_code == 200


@pytest.mark.parametrize("state", ["A" * 42, "A" * 44, "A" * 42 + "%", "../" * 15, "\u00e9" * 43, ""])
def test_malformed_states_are_invalid_state_without_touching_the_table(stack: Stack, state: str):
    browser = Browser(origin=stack.api)
    attempt = start_login(browser, stack.api)  # a real login in flight, which must stay as it is
    before = stack.table.items()

    response = browser.get(f"{stack.api}/auth/figma/callback", params={"code": "x", "state": state})

    assert response.status_code == 400 and response.json()["error"] == "invalid_state"
    assert stack.table.items() == before and "token" not in stack.emulator.calls()
    assert browser.get(attempt.callback_url).status_code == 303  # the real one still completes


def test_every_auth_response_has_the_security_headers(stack: Stack):
    browser = Browser(origin=stack.api)
    responses = [
        browser.get(f"{stack.api}/auth/session"),
        browser.post(f"{stack.api}/auth/logout"),
        browser.get(f"{stack.api}/auth/figma/authorize", params={"success": "x"}),
        browser.get(f"{stack.api}/auth/figma/callback"),
    ]
    attempt = start_login(browser, stack.api)
    responses += [attempt.authorize, browser.get(attempt.callback_url), browser.get(f"{stack.api}/auth/session")]
    assert [r.status_code for r in responses[-3:]] == [302, 303, 200]  # the successes carry them too
    for response in responses:
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.status_code < 500


def test_a_session_token_with_another_users_id_spliced_in_finds_nothing(stack: Stack):
    from figma_auth.tokens import b64url

    ada, grace = Browser(origin=stack.api), Browser(origin=stack.api)
    sign_in(ada, stack.api)
    sign_in(grace, stack.api, user="grace")
    grace_id = grace.get(f"{stack.api}/auth/session").json()["user"]["id"]
    secret = ada.jar(stack.api)[SESSION_COOKIE].partition(".")[2]

    forged = {"Authorization": f"Bearer {b64url(grace_id.encode())}.{secret}"}
    response = ada.http.get(f"{stack.api}/auth/session", headers=forged)

    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert ada.get(f"{stack.api}/auth/session").status_code == 200
