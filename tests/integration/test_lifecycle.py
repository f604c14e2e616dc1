"""The Figma token lifecycle: on-demand and transparent refresh (single-flight), dead
grants, Figma outages, sessions, logout, CSRF, expiry."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.support.browser import Browser, sign_in
from tests.support.stack import (
    SESSION_COOKIE,
    EventCapture,
    Stack,
    connection_item,
    session_item,
    update_connection,
    update_session,
)


def signed_in(stack: Stack, user: str = "ada") -> tuple[Browser, dict]:
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, user=user)
    return browser, browser.get(f"{stack.api}/auth/session").json()


def age_grant(stack: Stack, user_id: str) -> None:
    """Make the last refresh look old, so the next one is not deduplicated (5 s window)."""
    update_connection(stack.table, user_id, "SET grant_obtained_at = :t", {":t": {"S": "2026-01-01T00:00:00Z"}})


def bearer(browser: Browser, stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {browser.jar(stack.api)[SESSION_COOKIE]}"}


def test_refresh_returns_a_new_working_token_and_keeps_the_old_refresh_token(stack: Stack):
    browser, before = signed_in(stack)

    first = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
    age_grant(stack, before["user"]["id"])
    second = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")

    assert first.status_code == 200 and second.status_code == 200
    tokens = [
        before["provider"]["access_token"],
        first.json()["provider"]["access_token"],
        second.json()["provider"]["access_token"],
    ]
    assert len(set(tokens)) == 3
    assert stack.emulator.me(tokens[2]).status_code == 200
    assert stack.emulator.calls()["refresh"] == 2  # the second used the kept refresh token
    assert set(first.json()) == {"session", "user", "provider"} and "refresh_token" not in first.text


def test_refresh_stores_a_rotated_refresh_token_when_figma_sends_one(stack: Stack):
    stack.emulator.config(rotate_refresh_tokens=True)
    browser, view = signed_in(stack)

    for _ in range(3):  # each refresh must use the newest refresh token or Figma rejects it
        response = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
        assert response.status_code == 200 and response.json()["provider"]["status"] == "active"
        age_grant(stack, view["user"]["id"])
    assert stack.emulator.calls()["refresh"] == 3


def test_refresh_skips_figma_when_the_token_outlives_min_validity(stack: Stack):
    browser, before = signed_in(stack)

    response = browser.post(f"{stack.api}/auth/refresh?min_validity=60")

    assert response.json()["provider"]["access_token"] == before["provider"]["access_token"]
    assert "refresh" not in stack.emulator.calls()


def test_refresh_without_min_validity_renews_an_older_token(stack: Stack):
    browser, before = signed_in(stack)

    response = browser.post(f"{stack.api}/auth/refresh")

    assert response.json()["provider"]["access_token"] != before["provider"]["access_token"]


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "99999999999"])
def test_refresh_with_a_malformed_min_validity_is_invalid_request(stack: Stack, bad: str):
    browser, _ = signed_in(stack)
    response = browser.post(f"{stack.api}/auth/refresh?min_validity={bad}")
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_twenty_concurrent_refreshes_cost_one_figma_call_and_agree_on_the_token(stack: Stack):
    stack.emulator.config(latency_ms=200)  # a refresh in flight while the others arrive
    browser, _ = signed_in(stack)
    headers = bearer(browser, stack)
    barrier = threading.Barrier(20)
    results: list[httpx.Response] = []

    def refresh() -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            results.append(client.post(f"{stack.api}/auth/refresh?min_validity=999999", headers=headers))

    threads = [threading.Thread(target=refresh) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert [r.status_code for r in results] == [200] * 20
    assert stack.emulator.calls()["refresh"] == 1
    tokens = {r.json()["provider"]["access_token"] for r in results}
    assert len(tokens) == 1 and stack.emulator.me(tokens.pop()).status_code == 200


def test_a_crashed_refreshers_lease_expires_and_is_taken_over(stack: Stack):
    browser, view = signed_in(stack)
    lease_until = int(time.time() * 1000) + 1500  # a refresher that died 18.5 s into its 20 s lease
    update_connection(
        stack.table,
        view["user"]["id"],
        "SET lease_owner = :o, lease_until = :u",
        {":o": {"S": "dead-refresher"}, ":u": {"N": str(lease_until)}},
    )

    response = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")

    assert response.status_code == 200
    assert response.json()["provider"]["access_token"] != view["provider"]["access_token"]
    assert int(time.time() * 1000) >= lease_until
    assert "lease_owner" not in connection_item(stack.table, view["user"]["id"])


def test_a_revoked_grant_becomes_reauth_required_and_the_app_is_told_once(stack: Stack):
    browser, view = signed_in(stack)
    events = EventCapture(stack.moto)
    stack.emulator.revoke()

    refresh = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
    again = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
    session = browser.get(f"{stack.api}/auth/session")

    assert refresh.status_code == 401 and refresh.json()["error"] == "reauth_required"
    assert again.status_code == 401 and again.json()["error"] == "reauth_required"
    assert session.status_code == 200
    assert session.json()["provider"]["status"] == "reauth_required"
    assert "access_token" not in session.json()["provider"]
    item = connection_item(stack.table, view["user"]["id"])
    assert "grant_box" not in item and "due_day" not in item
    received = events.received()
    assert len(received) == 1
    assert received[0]["detail-type"] == "GrantNeedsReauth" and received[0]["source"] == "figma-auth"
    assert received[0]["detail"] == {"user_id": view["user"]["id"], "reason": "figma_rejected_refresh"}
    assert "figu_" not in str(received) and "figr_" not in str(received)


# A hang is a transport timeout, the same FigmaUnavailable: tests/unit/test_figma_client.py, in no real time.
@pytest.mark.parametrize(("kind", "times"), [("500", 2), ("503", 2), ("429", 1)])
def test_figma_outage_during_refresh_is_503_and_leaves_the_stored_grant_untouched(stack: Stack, kind, times):
    browser, view = signed_in(stack)
    before = connection_item(stack.table, view["user"]["id"])
    stack.emulator.fault("refresh", kind, times=times, retry_after=7)

    response = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")

    assert response.status_code == 503 and response.json()["error"] == "figma_unavailable"
    if kind == "429":
        assert response.headers["retry-after"] == "7"
    after = connection_item(stack.table, view["user"]["id"])
    assert after["grant_box"] == before["grant_box"] and after["version"] == before["version"]
    assert "lease_owner" not in after
    assert browser.post(f"{stack.api}/auth/refresh?min_validity=999999").status_code == 200


def test_a_refresh_right_after_another_reuses_its_token(stack: Stack):
    browser, _ = signed_in(stack)
    first = browser.post(f"{stack.api}/auth/refresh").json()["provider"]["access_token"]
    second = browser.post(f"{stack.api}/auth/refresh?min_validity=999999").json()["provider"]["access_token"]
    assert first == second and stack.emulator.calls()["refresh"] == 1


def test_session_read_refreshes_transparently_inside_the_leeway(stack: Stack):
    stack.emulator.config(token_lifetime=120)  # shorter than REFRESH_LEEWAY_SECONDS (300)
    browser, view = signed_in(stack)

    assert stack.emulator.calls()["refresh"] == 1  # the first read after login already refreshed
    again = browser.get(f"{stack.api}/auth/session").json()
    assert again["provider"]["access_token"] == view["provider"]["access_token"]
    assert stack.emulator.me(view["provider"]["access_token"]).status_code == 200


def test_session_read_during_a_figma_outage_is_503_and_keeps_the_stored_grant(stack: Stack):
    browser, view = signed_in(stack)
    user_id = view["user"]["id"]
    update_connection(stack.table, user_id, "SET grant_expires_at = :t", {":t": {"S": "2026-01-01T00:00:00Z"}})
    before = connection_item(stack.table, user_id)
    stack.emulator.fault("refresh", "500", times=2)

    response = browser.get(f"{stack.api}/auth/session")

    assert response.status_code == 503 and response.json()["error"] == "figma_unavailable"
    after = connection_item(stack.table, user_id)
    assert before is not None and after is not None
    assert (after["grant_box"], after["version"], after["grant_status"]) == (
        before["grant_box"],
        before["version"],
        before["grant_status"],
    )  # the grant as it was, still active
    assert "lease_owner" not in after  # and the lease released: the next read refreshes
    assert browser.get(f"{stack.api}/auth/session").json()["provider"]["status"] == "active"


def test_logout_ends_the_session_deletes_its_grant_and_clears_the_cookie(stack: Stack):
    browser, view = signed_in(stack)

    response = browser.post(f"{stack.api}/auth/logout")

    assert response.status_code == 204
    cleared = browser.set_cookie_headers[-1]
    assert cleared.startswith(f"{SESSION_COOKIE}=;") and "Max-Age=0" in cleared
    for attr in ("Path=/", "HttpOnly", "Secure", "SameSite=Lax"):
        assert attr in cleared
    assert session_item(stack.table, view["session"]["id"]) is None
    assert connection_item(stack.table, view["user"]["id"]) is None  # its last session: the grant goes too
    assert browser.get(f"{stack.api}/auth/session").status_code == 401


def test_logout_without_a_session_is_204_and_clears_the_cookie(stack: Stack):
    response = Browser().post(f"{stack.api}/auth/logout")
    assert response.status_code == 204 and "Max-Age=0" in response.headers["set-cookie"]


def test_logout_all_ends_every_session_of_the_user_only(stack: Stack):
    laptop, mine = signed_in(stack)
    phone, _ = signed_in(stack)
    other, theirs = signed_in(stack, user="grace")

    response = laptop.post(f"{stack.api}/auth/logout", json={"all": True})

    assert response.status_code == 204
    assert laptop.get(f"{stack.api}/auth/session").status_code == 401
    assert phone.get(f"{stack.api}/auth/session").status_code == 401
    assert other.get(f"{stack.api}/auth/session").status_code == 200
    assert stack.table.kinds()["SESSION"] == 1


def test_logout_one_named_session_keeps_the_current_one(stack: Stack):
    laptop, _ = signed_in(stack)
    phone, phone_view = signed_in(stack)

    response = laptop.post(f"{stack.api}/auth/logout", json={"session_id": phone_view["session"]["id"]})

    assert response.status_code == 204 and "set-cookie" not in response.headers
    assert phone.get(f"{stack.api}/auth/session").status_code == 401
    assert laptop.get(f"{stack.api}/auth/session").status_code == 200


def test_logout_cannot_end_another_users_session(stack: Stack):
    mine, _ = signed_in(stack)
    theirs, their_view = signed_in(stack, user="grace")

    mine.post(f"{stack.api}/auth/logout", json={"session_id": their_view["session"]["id"]})

    assert theirs.get(f"{stack.api}/auth/session").status_code == 200


@pytest.mark.parametrize(
    "body", ['{"all": "yes"}', '{"session_id": 5}', '{"everything": true}', "[1]", '[{"all": true}]', "{not json"]
)
def test_logout_with_a_malformed_body_is_invalid_request_and_ends_nothing(stack: Stack, body: str):
    browser, _ = signed_in(stack)
    response = browser.post(f"{stack.api}/auth/logout", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert browser.get(f"{stack.api}/auth/session").status_code == 200


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null"])
@pytest.mark.parametrize("path", ["/auth/refresh", "/auth/logout"])
def test_cookie_post_without_an_allowed_origin_is_csrf_rejected_and_changes_nothing(stack: Stack, origin, path):
    browser, view = signed_in(stack)
    before = session_item(stack.table, view["session"]["id"])
    headers = {"Cookie": f"{SESSION_COOKIE}={browser.jar(stack.api)[SESSION_COOKIE]}"}
    if origin:
        headers["Origin"] = origin

    response = browser.http.post(f"{stack.api}{path}?min_validity=999999", headers=headers)

    assert response.status_code == 403 and response.json()["error"] == "csrf_rejected"
    assert session_item(stack.table, view["session"]["id"]) == before


def test_bearer_post_needs_no_origin(stack: Stack):
    browser, _ = signed_in(stack)
    response = browser.http.post(f"{stack.api}/auth/refresh?min_validity=999999", headers=bearer(browser, stack))
    assert response.status_code == 200


def test_an_expired_session_is_401_and_deleted_on_read(stack: Stack):
    browser, view = signed_in(stack)
    update_session(stack.table, view["session"]["id"], "SET expires_at = :t", {":t": {"S": "2026-01-01T00:00:00Z"}})

    response = browser.get(f"{stack.api}/auth/session")

    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert session_item(stack.table, view["session"]["id"]) is None


def test_every_stored_item_carries_a_ttl(stack: Stack):
    signed_in(stack)
    Browser(origin=stack.api).get(
        f"{stack.api}/auth/figma/authorize", params={"success": f"{stack.api}/a", "failure": f"{stack.api}/b"}
    )
    items = stack.table.items()
    assert {i["pk"]["S"].split("#")[0] for i in items} == {"TX", "SESSION", "CONN"}
    for item in items:  # a connection lives as long as its newest session (OFFLINE_ACCESS: until disconnected)
        assert int(item["ttl"]["N"]) > time.time()


def test_sessions_lists_the_users_sessions_and_marks_the_current_one(stack: Stack):
    laptop, mine = signed_in(stack)
    phone, _ = signed_in(stack)
    signed_in(stack, user="grace")

    body = laptop.get(f"{stack.api}/auth/sessions").json()

    assert len(body["sessions"]) == 2
    assert {s["current"] for s in body["sessions"]} == {True, False}
    current = next(s for s in body["sessions"] if s["current"])
    assert current["id"] == mine["session"]["id"] and set(current) == {
        "id",
        "created_at",
        "expires_at",
        "current",
        "client",
    }
    assert {s["client"] for s in body["sessions"]} == {"web"}


def test_the_stores_conditional_disconnect_spares_a_connection_a_sign_in_joined_since_it_was_read(stack: Stack):
    """The real Store on DynamoDB Local (the unit tests' fake only mirrors it): a disconnect
    conditioned on the ``touched`` marker it read loses to a sign-in that came in between."""
    from devstack import aws
    from figma_auth.store import Store

    store = Store(table_name=stack.table.name, client=aws.client("dynamodb", stack.table.endpoint))
    _, view = signed_in(stack)
    user_id = view["user"]["id"]
    read = store.connection_touched(user_id)
    signed_in(stack)  # another sign-in joins the connection
    now = store.connection_touched(user_id)
    assert read and now and read != now

    assert store.delete_connection(user_id, touched=read) is False
    assert connection_item(stack.table, user_id) is not None  # spared
    assert store.delete_connection(user_id, touched=now) is True
    assert connection_item(stack.table, user_id) is None
    assert store.connection_touched(user_id) is None
