"""Token mode for cross-site SPAs: the callback returns a one-time ticket, the SPA trades it
with its PKCE verifier for a session token, and uses it as a Bearer token."""

from __future__ import annotations

import pytest

from figma_auth import oauth, tokens
from tests.support.browser import Browser, sign_in, ticket_of
from tests.support.stack import SESSION_COOKIE, Stack


def token_login(stack: Stack, browser: Browser) -> tuple[str, str]:
    """Sign in in token mode; returns (ticket, verifier)."""
    verifier = tokens.random_token(48)
    done = sign_in(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    assert done.headers["location"].startswith(f"{stack.api}/app/done#ticket=")
    return ticket_of(done.headers["location"]), verifier


def test_token_mode_needs_a_code_challenge(stack: Stack, browser: Browser):
    for extra in ({}, {"code_challenge": "short"}, {"code_challenge": "!" * 43}):
        response = browser.get(
            f"{stack.api}/auth/figma/authorize",
            params={"success": f"{stack.api}/a", "failure": f"{stack.api}/b", "mode": "token", **extra},
        )
        assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_an_unknown_mode_is_invalid_request(stack: Stack, browser: Browser):
    response = browser.get(
        f"{stack.api}/auth/figma/authorize",
        params={"success": f"{stack.api}/a", "failure": f"{stack.api}/b", "mode": "implicit"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_token_mode_sign_in_trades_ticket_and_verifier_for_a_working_session_token(stack: Stack, browser: Browser):
    ticket, verifier = token_login(stack, browser)

    assert SESSION_COOKIE not in browser.jar(stack.api)
    response = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        *("access_token", "token_type", "expires_in", "scope"),  # RFC 6749 §5.1
        *("session_token", "session", "user", "provider"),
    }
    assert body["user"]["handle"] == "Ada Lovelace" and body["provider"]["status"] == "active"
    session = browser.http.get(
        f"{stack.api}/auth/session", headers={"Authorization": f"Bearer {body['session_token']}"}
    )
    assert session.status_code == 200 and session.json()["session"]["id"] == body["session"]["id"]
    assert body["session_token"] not in repr(stack.table.items()) and ticket not in repr(stack.table.items())


def test_a_ticket_works_once(stack: Stack, browser: Browser):
    ticket, verifier = token_login(stack, browser)
    assert (
        browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier}).status_code == 200
    )

    again = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})

    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_verifier_burns_the_ticket_and_its_session(stack: Stack, browser: Browser):
    ticket, verifier = token_login(stack, browser)

    wrong = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": "x" * 64})
    right = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})

    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant"
    assert "SESSION" not in stack.table.kinds()


def test_an_expired_ticket_is_invalid_grant(stack: Stack, browser: Browser):
    from devstack import aws

    ticket, verifier = token_login(stack, browser)
    item = next(i for i in stack.table.items() if i["pk"]["S"].startswith("TICKET#"))
    aws.client("dynamodb", stack.table.endpoint).update_item(
        TableName=stack.table.name,
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues={":t": {"S": "2026-01-01T00:00:00Z"}},
    )

    response = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_session_waiting_for_its_ticket_is_not_listed(stack: Stack, browser: Browser):
    token_login(stack, browser)  # never redeemed
    pending = next(i for i in stack.table.items() if i["pk"]["S"].startswith("SESSION#"))
    assert pending["activated"]["BOOL"] is False
    other = Browser(origin=stack.api)
    sign_in(other, stack.api)  # the same user, cookie mode

    listed = other.get(f"{stack.api}/auth/sessions").json()["sessions"]

    assert [s["current"] for s in listed] == [True]


@pytest.mark.parametrize(
    "body",
    [
        "",
        "{}",
        '{"ticket": "abc"}',
        '{"ticket": 5, "code_verifier": "x"}',
        "not json",
        "[]",
        '[{"ticket": "' + "a" * 40 + '", "code_verifier": "' + "v" * 50 + '"}]',
        '{"ticket": "' + "a" * 40 + '", "code_verifier": "short"}',
    ],
)
def test_a_malformed_token_request_is_invalid_request(stack: Stack, browser: Browser, body: str):
    response = browser.post(f"{stack.api}/auth/token", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert response.json()["error_description"] == response.json()["message"]  # RFC 6749 §5.2


def test_unknown_token_parameters_are_ignored_and_the_known_ones_still_decide(stack: Stack, browser: Browser):
    ticket, verifier = token_login(stack, browser)
    unknown = browser.post(
        f"{stack.api}/auth/token", json={"ticket": "a" * 40, "code_verifier": "v" * 50, "client_id": "x", "extra": 1}
    )
    assert (unknown.status_code, unknown.json()["error"]) == (400, "invalid_grant")  # the ticket decides

    granted = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier, "extra": 1})
    assert granted.status_code == 200


def test_a_redeemed_ticket_answers_as_rfc_6749_token_response_uncached(stack: Stack, browser: Browser):
    ticket, verifier = token_login(stack, browser)

    answer = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})

    body = answer.json()
    assert answer.status_code == 200 and body["access_token"] == body["session_token"]
    assert body["token_type"] == "Bearer" and body["scope"] == " ".join(body["provider"]["scopes"])
    assert 30 * 86400 - 60 <= body["expires_in"] <= 30 * 86400  # SESSION_TTL_DAYS: to the session's end
    assert answer.headers["cache-control"] == "no-store" and answer.headers["pragma"] == "no-cache"


def test_another_grant_type_is_invalid_request_naming_the_grants_this_endpoint_takes(stack: Stack, browser: Browser):
    answer = browser.post(f"{stack.api}/auth/token", data={"grant_type": "client_credentials", "code": "x"})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request")
    assert "device_code" in answer.json()["error_description"]


def test_bearer_sessions_work_on_every_auth_route_without_origin(stack: Stack, browser: Browser):
    ticket, verifier = token_login(stack, browser)
    token = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier}).json()[
        "session_token"
    ]
    bearer = {"Authorization": f"Bearer {token}"}

    assert browser.http.get(f"{stack.api}/auth/sessions", headers=bearer).status_code == 200
    assert browser.http.post(f"{stack.api}/auth/refresh", headers=bearer).status_code == 200
    assert browser.http.get(f"{stack.api}/figma/v1/me", headers=bearer).status_code == 200
    assert browser.http.post(f"{stack.api}/auth/logout", headers=bearer).status_code == 204
    assert browser.http.get(f"{stack.api}/auth/session", headers=bearer).status_code == 401


def test_a_ticket_lives_sixty_seconds_at_most(stack: Stack, browser: Browser):
    from datetime import UTC, datetime, timedelta

    verifier = tokens.random_token(48)
    before = datetime.now(UTC)
    sign_in(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))

    (ticket,) = [i for i in stack.table.items() if i["pk"]["S"].startswith("TICKET#")]
    expires = datetime.fromisoformat(ticket["expires_at"]["S"].replace("Z", "+00:00"))
    assert before < expires <= datetime.now(UTC) + timedelta(seconds=60)
    assert int(ticket["ttl"]["N"]) <= int(expires.timestamp())  # DynamoDB's TTL no later than that
