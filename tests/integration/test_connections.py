"""Connections: one Figma grant per user, shared by all of their sessions, as Figma keeps one
active token per user per app (the emulator's default mode)."""

from __future__ import annotations

import threading

from devstack.figma_emulator import FigmaEmulator
from devstack.hooks import AwsFaults
from figma_auth import oauth, runtime, tokens
from tests.support.browser import Browser, query_of, sign_in, start_login, ticket_of
from tests.support.stack import SESSION_COOKIE, Stack, connection_item


def signed_in(stack: Stack, user: str = "ada", **params: str) -> tuple[Browser, dict]:
    browser = Browser(origin=stack.api)
    done = sign_in(browser, stack.api, user=user, **params)
    assert done.status_code == 303 and "error" not in done.headers["location"], done.headers.get("location")
    return browser, browser.get(f"{stack.api}/auth/session").json()


def token_mode_session(stack: Stack) -> str:
    browser = Browser(origin=stack.api)
    verifier = tokens.random_token(48)
    done = sign_in(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    ticket = ticket_of(done.headers["location"])
    answer = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["session_token"])


def test_two_browsers_and_a_token_mode_session_of_one_user_all_hold_the_working_token(stack: Stack):
    laptop, _ = signed_in(stack)
    phone, _ = signed_in(stack)
    bearer = {"Authorization": f"Bearer {token_mode_session(stack)}"}

    views = [laptop.get(f"{stack.api}/auth/session").json(), phone.get(f"{stack.api}/auth/session").json()]
    views.append(laptop.http.get(f"{stack.api}/auth/session", headers=bearer).json())

    tokens = {v["provider"]["access_token"] for v in views}
    assert len(tokens) == 1 and stack.emulator.me(tokens.pop()).status_code == 200
    assert stack.table.kinds() == {"SESSION": 3, "CONN": 1}
    listed = laptop.get(f"{stack.api}/auth/sessions").json()["sessions"]
    assert sorted(s["client"] for s in listed) == ["token", "web", "web"]


def test_alternating_proxy_calls_from_two_browsers_cost_no_refresh(stack: Stack):
    laptop, _ = signed_in(stack)
    phone, _ = signed_in(stack)

    answers = [(laptop if i % 2 else phone).get(f"{stack.api}/figma/v1/me") for i in range(10)]

    assert [a.status_code for a in answers] == [200] * 10
    assert stack.emulator.calls().get("refresh", 0) == 0


def test_a_refresh_from_one_session_is_the_token_every_session_reads(stack: Stack):
    laptop, _ = signed_in(stack)
    phone, _ = signed_in(stack)

    renewed = laptop.post(f"{stack.api}/auth/refresh").json()["provider"]["access_token"]

    assert phone.get(f"{stack.api}/auth/session").json()["provider"]["access_token"] == renewed
    assert phone.get(f"{stack.api}/figma/v1/me").status_code == 200
    assert stack.emulator.calls()["refresh"] == 1


def test_a_signed_in_users_new_sign_in_asks_figma_for_the_scopes_the_connection_holds_too(stack: Stack):
    browser, first = signed_in(stack, scopes="current_user:read,file_content:read")
    assert first["provider"]["scopes"] == ["current_user:read", "file_content:read"]

    again = start_login(browser, stack.api, scopes="file_comments:read")
    browser.get(again.callback_url)

    asked = query_of(again.authorize.headers["location"])["scope"].replace(",", " ").split()
    assert set(asked) == {"current_user:read", "file_content:read", "file_comments:read"}
    held = browser.get(f"{stack.api}/auth/session").json()["provider"]["scopes"]
    assert set(held) == set(asked)


def _concurrent_sign_ins(stack: Stack, emulator: FigmaEmulator) -> tuple[Browser, Browser]:
    """Tab A's exchange finishes first, but its /v1/me is held until tab B has signed in."""
    tab_a, tab_b = Browser(origin=stack.api), Browser(origin=stack.api)
    first, second = start_login(tab_a, stack.api), start_login(tab_b, stack.api)
    before = emulator.state.calls["me"]
    stack.emulator.fault("me", "stall")
    slow = threading.Thread(target=tab_a.get, args=(first.callback_url,))
    slow.start()
    assert emulator.state.wait_for_call("me", before + 1)  # A has its token and waits at /v1/me
    assert tab_b.get(second.callback_url).status_code == 303
    emulator.state.release.set()
    slow.join()
    return tab_a, tab_b


def test_concurrent_sign_ins_of_one_user_both_work_and_the_newest_token_is_kept(stack: Stack, emulator):
    tab_a, tab_b = _concurrent_sign_ins(stack, emulator)

    a = tab_a.get(f"{stack.api}/auth/session")
    b = tab_b.get(f"{stack.api}/auth/session")

    assert a.status_code == 200 and b.status_code == 200
    token = b.json()["provider"]["access_token"]
    assert a.json()["provider"]["access_token"] == token and stack.emulator.me(token).status_code == 200
    assert stack.table.kinds() == {"SESSION": 2, "CONN": 1}


def test_an_exchange_that_finished_earlier_never_overwrites_a_newer_grant(stack: Stack, emulator):
    stack.emulator.config(one_token_per_user=False)  # A's token stays valid: only our ordering decides
    tab_a, tab_b = _concurrent_sign_ins(stack, emulator)

    a = tab_a.get(f"{stack.api}/auth/session").json()
    b = tab_b.get(f"{stack.api}/auth/session").json()

    assert a["provider"]["access_token"] == b["provider"]["access_token"]
    assert int(connection_item(stack.table, b["user"]["id"])["version"]["N"]) == 1  # one grant written: B's


def test_logging_out_one_session_keeps_the_connection_for_the_others(stack: Stack):
    laptop, view = signed_in(stack)
    phone, _ = signed_in(stack)

    assert laptop.post(f"{stack.api}/auth/logout").status_code == 204

    assert phone.get(f"{stack.api}/figma/v1/me").status_code == 200
    assert connection_item(stack.table, view["user"]["id"]) is not None


def test_the_last_session_ending_deletes_the_connection(stack: Stack):
    laptop, view = signed_in(stack)
    phone, _ = signed_in(stack)

    laptop.post(f"{stack.api}/auth/logout")
    phone.post(f"{stack.api}/auth/logout")

    assert connection_item(stack.table, view["user"]["id"]) is None
    assert stack.table.items() == []


def test_offline_access_keeps_the_connection_after_the_last_session(stack: Stack, reconfigure):
    reconfigure(OFFLINE_ACCESS="true")
    browser, view = signed_in(stack)

    browser.post(f"{stack.api}/auth/logout")

    item = connection_item(stack.table, view["user"]["id"])
    assert item is not None and "grant_box" in item and "ttl" not in item
    assert stack.table.kinds() == {"CONN": 1}


def test_logout_all_ends_every_session_and_without_offline_access_the_connection(stack: Stack):
    laptop, view = signed_in(stack)
    signed_in(stack)
    other, _ = signed_in(stack, user="grace")

    assert laptop.post(f"{stack.api}/auth/logout", json={"all": True}).status_code == 204

    assert connection_item(stack.table, view["user"]["id"]) is None
    assert stack.table.kinds() == {"SESSION": 1, "CONN": 1}  # grace's
    assert other.get(f"{stack.api}/auth/session").status_code == 200


def test_disconnect_deletes_sessions_and_connection_even_with_offline_access(stack: Stack, reconfigure):
    reconfigure(OFFLINE_ACCESS="true")
    laptop, view = signed_in(stack)
    phone, _ = signed_in(stack)

    answer = laptop.post(f"{stack.api}/auth/logout", json={"all": True, "disconnect": True})

    assert answer.status_code == 204
    assert phone.get(f"{stack.api}/auth/session").status_code == 401
    assert connection_item(stack.table, view["user"]["id"]) is None and stack.table.items() == []


def test_disconnect_without_all_is_invalid_request_and_ends_nothing(stack: Stack):
    browser, _ = signed_in(stack)

    answer = browser.post(f"{stack.api}/auth/logout", json={"disconnect": True})

    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert stack.table.kinds() == {"SESSION": 1, "CONN": 1}


def test_a_partly_failed_logout_all_is_503_and_the_same_request_finishes_it(stack: Stack):
    laptop, view = signed_in(stack)
    for _ in range(2):
        signed_in(stack)
    stack.cold_start()
    runtime.reset()
    faults = AwsFaults()
    faults.fail("dynamodb", "BatchWriteItem", "UNPROCESSED", times=6)  # every retry of the batch

    first = laptop.post(f"{stack.api}/auth/logout", json={"all": True})

    assert first.status_code == 503 and first.json()["error"] == "temporarily_unavailable"
    assert stack.table.kinds() == {"SESSION": 3, "CONN": 1}  # nothing reported done that was not
    second = laptop.post(f"{stack.api}/auth/logout", json={"all": True})
    assert second.status_code == 204
    assert stack.table.items() == [] and faults.fired.count("dynamodb:BatchWriteItem:UNPROCESSED") == 6
    assert connection_item(stack.table, view["user"]["id"]) is None


def test_a_dead_grant_is_reauth_required_in_every_session_and_the_app_is_told_once(stack: Stack):
    from tests.support.stack import EventCapture

    events = EventCapture(stack.moto)
    laptop, _ = signed_in(stack)
    phone, _ = signed_in(stack)
    stack.emulator.revoke()

    assert laptop.post(f"{stack.api}/auth/refresh").json()["error"] == "reauth_required"
    assert phone.post(f"{stack.api}/auth/refresh").json()["error"] == "reauth_required"

    assert phone.get(f"{stack.api}/auth/session").json()["provider"]["status"] == "reauth_required"
    assert [e["detail-type"] for e in events.received()] == ["ConnectionCreated", "GrantNeedsReauth"]
    assert SESSION_COOKIE in laptop.jar(stack.api)  # the sessions stay: sign in again to revive them


def test_a_sign_in_during_a_refresh_of_the_same_connection_keeps_the_sign_ins_grant(stack: Stack, emulator):
    """RELIABILITY: the sign-in drops the refresh's lease, so the refresh's save fails its
    condition and the grant the sign-in stored stays (Figma keeps only the newest token)."""
    first, view = signed_in(stack)
    user_id = view["user"]["id"]
    stack.emulator.fault("refresh", "stall")  # the refresh is held at Figma...
    answers: dict[str, object] = {}
    refresh = threading.Thread(
        target=lambda: answers.update(r=first.post(f"{stack.api}/auth/refresh?min_validity=999999"))
    )
    refresh.start()
    assert emulator.state.wait_for_call("refresh")
    second, signed = signed_in(stack)  # ...while the same user signs in again
    emulator.state.release.set()
    refresh.join()

    kept = signed["provider"]["access_token"]
    assert kept != view["provider"]["access_token"]
    assert "lease" not in (connection_item(stack.table, user_id) or {"lease": "gone"})
    for browser in (first, second):  # both sessions see the sign-in's token, not the refresh's
        assert browser.get(f"{stack.api}/auth/session").json()["provider"]["access_token"] == kept
    assert first.get(f"{stack.api}/figma/v1/me").status_code == 200
