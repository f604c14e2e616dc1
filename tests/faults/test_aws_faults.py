"""DynamoDB and KMS faults at every call site, and crashes between steps: each ends in a
documented outcome, and nothing stored is lost or corrupted (docs/RELIABILITY.md)."""

from __future__ import annotations

import time

import pytest

from devstack.hooks import AwsFaults
from figma_auth import oauth, runtime, times, tokens
from tests.support.browser import Browser, sign_in, start_login, ticket_of
from tests.support.stack import SESSION_COOKIE, Stack, connection_item, session_item, update_connection

THROTTLES = [
    ("dynamodb", "ThrottlingException"),
    ("dynamodb", "ProvisionedThroughputExceededException"),
    ("dynamodb", "RequestLimitExceeded"),
]


def faults(stack: Stack) -> AwsFaults:
    stack.cold_start()  # new containers: nothing cached (data keys) hides the fault
    runtime.reset()  # and handlers loaded in this process get clients that carry the hook
    return AwsFaults()


def signed_in(stack: Stack, user: str = "ada") -> tuple[Browser, dict]:
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, user=user)
    return browser, browser.get(f"{stack.api}/auth/session").json()


def assert_unavailable(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "temporarily_unavailable" and response.headers["retry-after"] == "1"


# -- authorize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "code"), THROTTLES)
def test_authorize_put_throttled_is_503_and_stores_nothing(stack: Stack, browser: Browser, service, code):
    f = faults(stack)
    f.fail(service, "PutItem", code)

    response = browser.get(
        f"{stack.api}/auth/figma/authorize", params={"success": f"{stack.api}/a", "failure": f"{stack.api}/b"}
    )

    assert_unavailable(response)
    assert stack.table.items() == []


# -- callback ----------------------------------------------------------------------------------


def test_callback_consume_throttled_is_503_and_the_same_callback_can_be_retried(stack: Stack, browser: Browser):
    attempt = start_login(browser, stack.api)
    f = faults(stack)
    f.fail("dynamodb", "DeleteItem", "ThrottlingException")

    first = browser.get(attempt.callback_url)
    assert_unavailable(first)
    assert stack.table.kinds() == {"TX": 1}  # not consumed, Figma not called
    assert "token" not in stack.emulator.calls()

    retry = browser.get(attempt.callback_url)
    assert retry.headers["location"] == f"{stack.api}/app/done"


@pytest.mark.parametrize(
    ("service", "operation", "code", "error"),
    [
        ("kms", "GenerateDataKey", "ThrottlingException", "temporarily_unavailable"),
        ("kms", "GenerateDataKey", "KMSInvalidStateException", "temporarily_unavailable"),
        ("dynamodb", "TransactWriteItems", "TransactionCanceledException", "temporarily_unavailable"),
        ("dynamodb", "TransactWriteItems", "ProvisionedThroughputExceededException", "temporarily_unavailable"),
        ("dynamodb", "TransactWriteItems", "CRASH", "server_error"),
    ],
)
def test_callback_failing_after_figma_answered_redirects_with_the_code_and_leaves_nothing(
    stack: Stack, browser: Browser, service, operation, code, error
):
    attempt = start_login(browser, stack.api)
    f = faults(stack)
    f.fail(service, operation, code)

    response = browser.get(attempt.callback_url)

    assert response.headers["location"] == f"{stack.api}/app/failed?error={error}"
    assert SESSION_COOKIE not in browser.jar(stack.api)
    assert stack.table.items() == []  # no session, no user, no grant; the transaction is spent
    assert f.fired


# -- session read --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "code"),
    [
        ("dynamodb", "BatchGetItem", "ThrottlingException"),
        ("kms", "Decrypt", "ThrottlingException"),
        ("kms", "Decrypt", "KMSInvalidStateException"),
    ],
)
def test_session_read_fault_is_503_and_the_session_survives(stack: Stack, service, operation, code):
    browser, view = signed_in(stack)
    before = session_item(stack.table, view["session"]["id"])
    f = faults(stack)  # cold container: the data key must be decrypted
    f.fail(service, operation, code)

    assert_unavailable(browser.get(f"{stack.api}/auth/session"))
    assert session_item(stack.table, view["session"]["id"]) == before
    assert browser.get(f"{stack.api}/auth/session").status_code == 200


# -- refresh -------------------------------------------------------------------------------------


def test_refresh_losing_one_lease_race_recovers(stack: Stack):
    browser, _ = signed_in(stack)
    f = faults(stack)
    f.fail("dynamodb", "UpdateItem", "ConditionalCheckFailedException")

    response = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")

    assert f.fired == ["dynamodb:UpdateItem:ConditionalCheckFailedException"]  # the race was really lost once
    assert response.status_code == 200 and stack.emulator.calls()["refresh"] == 1


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ThrottlingException", 503, "temporarily_unavailable"),
        ("CRASH", 500, "server_error"),
    ],
)
def test_refresh_failing_between_figmas_answer_and_our_write_loses_nothing(stack: Stack, code, status, error):
    browser, view = signed_in(stack)
    uid = view["user"]["id"]
    before = connection_item(stack.table, uid)
    f = faults(stack)
    f.fail("dynamodb", "UpdateItem", code, skip=1)  # the lease goes through, the save does not

    response = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")

    assert response.status_code == status and response.json()["error"] == error
    after = connection_item(stack.table, uid)
    assert after["grant_box"] == before["grant_box"] and after["version"] == before["version"]
    assert "lease_owner" in after  # held by the failed refresher until it expires (20 s)
    update_connection(stack.table, uid, "SET lease_until = :past", {":past": {"N": str(int(time.time() * 1000) - 1)}})
    again = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
    assert again.status_code == 200  # the old refresh token still works: nothing was lost
    assert stack.emulator.me(again.json()["provider"]["access_token"]).status_code == 200


def test_refresh_kms_throttled_is_503_and_the_grant_is_intact(stack: Stack):
    browser, view = signed_in(stack)
    before = connection_item(stack.table, view["user"]["id"])
    f = faults(stack)
    f.fail("kms", "Decrypt", "ThrottlingException")

    assert_unavailable(browser.post(f"{stack.api}/auth/refresh?min_validity=999999"))
    after = connection_item(stack.table, view["user"]["id"])
    assert after["grant_box"] == before["grant_box"] and "refresh" not in stack.emulator.calls()


# -- logout, proxy, token ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "operation"), [(None, "DeleteItem"), ({"all": True}, "Query"), ({"all": True}, "BatchWriteItem")]
)
def test_logout_throttled_is_503_and_the_sessions_remain(stack: Stack, body, operation):
    browser, view = signed_in(stack)
    f = faults(stack)
    f.fail("dynamodb", operation, "ThrottlingException")

    assert_unavailable(browser.post(f"{stack.api}/auth/logout", json=body))
    assert session_item(stack.table, view["session"]["id"]) is not None
    assert browser.post(f"{stack.api}/auth/logout", json=body).status_code == 204


def test_proxy_read_throttled_is_503_and_figma_is_not_called(stack: Stack):
    browser, _ = signed_in(stack)
    f = faults(stack)
    f.fail("dynamodb", "BatchGetItem", "ThrottlingException")

    assert_unavailable(browser.get(f"{stack.api}/figma/v1/me"))
    assert stack.emulator.calls().get("me") == 1  # only the login's


def test_ticket_redeem_throttled_is_503_and_the_ticket_still_works(stack: Stack, browser: Browser):
    verifier = tokens.random_token(48)
    done = sign_in(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    ticket = ticket_of(done.headers["location"])
    f = faults(stack)
    f.fail("dynamodb", "DeleteItem", "ThrottlingException")

    assert_unavailable(browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier}))
    retry = browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier})
    assert retry.status_code == 200


# -- scheduler -----------------------------------------------------------------------------------


def test_scheduler_decrypt_throttled_for_one_grant_fails_it_alone(stack: Stack):
    from devstack.lambdas import Containers, LambdaContext, load_module

    for user in ("ada", "grace", "alan"):
        signed_in(stack, user)
    for item in stack.table.items():
        if item["pk"]["S"].startswith("CONN#"):  # make them due
            due = times.iso(times.utcnow() + __import__("datetime").timedelta(minutes=10))
            update_connection(
                stack.table,
                item["pk"]["S"].removeprefix("CONN#"),
                "SET due_at = :d, due_day = :day, grant_expires_at = :d",
                {":d": {"S": due}, ":day": {"S": due[:10]}},
            )
    f = faults(stack)
    f.fail("kms", "Decrypt", "ThrottlingException")
    fn = Containers().by_name("refresh_scheduler")

    report = load_module(fn).lambda_handler({}, LambdaContext(fn.logical_id, 300))

    assert (report["refreshed"], report["failed"]) == (2, 1)
    assert not any("lease_owner" in i for i in stack.table.items())


# -- the remaining call sites ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["malformed", "html", "missing_fields", "negative_expires"])
def test_refresh_with_a_malformed_figma_answer_is_502_figma_error_and_the_grant_is_intact(stack: Stack, kind):
    browser, view = signed_in(stack)
    before = connection_item(stack.table, view["user"]["id"])
    stack.emulator.fault("refresh", kind)

    response = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")

    assert response.status_code == 502 and response.json()["error"] == "figma_error"
    after = connection_item(stack.table, view["user"]["id"])
    assert after["grant_box"] == before["grant_box"] and "lease_owner" not in after


def test_refresh_lease_throttled_is_503_and_figma_is_not_called(stack: Stack):
    browser, _ = signed_in(stack)
    f = faults(stack)
    f.fail("dynamodb", "UpdateItem", "ThrottlingException")

    assert_unavailable(browser.post(f"{stack.api}/auth/refresh?min_validity=999999"))
    assert "refresh" not in stack.emulator.calls()


def test_marking_a_dead_grant_throttled_is_503_and_the_next_try_marks_it(stack: Stack):
    browser, view = signed_in(stack)
    stack.emulator.revoke()
    f = faults(stack)
    f.fail("dynamodb", "UpdateItem", "ThrottlingException", skip=1)  # the lease, then the mark fails

    assert_unavailable(browser.post(f"{stack.api}/auth/refresh?min_validity=999999"))
    update_connection(stack.table, view["user"]["id"], "SET lease_until = :past", {":past": {"N": "1"}})
    again = browser.post(f"{stack.api}/auth/refresh?min_validity=999999")
    assert again.status_code == 401 and again.json()["error"] == "reauth_required"


def test_listing_sessions_throttled_is_503(stack: Stack):
    browser, _ = signed_in(stack)
    f = faults(stack)
    f.fail("dynamodb", "Query", "ThrottlingException")
    assert_unavailable(browser.get(f"{stack.api}/auth/sessions"))


def test_ticket_activation_throttled_is_503_and_the_pending_session_stays_unusable(stack: Stack, browser: Browser):
    verifier = tokens.random_token(48)
    done = sign_in(browser, stack.api, mode="token", code_challenge=oauth.pkce_challenge(verifier))
    ticket = ticket_of(done.headers["location"])
    f = faults(stack)
    f.fail("dynamodb", "UpdateItem", "ThrottlingException")

    assert_unavailable(browser.post(f"{stack.api}/auth/token", json={"ticket": ticket, "code_verifier": verifier}))
    pending = next(i for i in stack.table.items() if i["pk"]["S"].startswith("SESSION#"))
    assert pending["activated"]["BOOL"] is False  # nobody holds its token; it expires with its TTL


def test_scheduler_query_throttled_fails_the_run_and_changes_nothing(stack: Stack):
    from devstack.lambdas import Containers, LambdaContext, load_module

    signed_in(stack)
    before = stack.table.items()
    f = faults(stack)
    f.fail("dynamodb", "Query", "ThrottlingException")
    fn = Containers().by_name("refresh_scheduler")

    with pytest.raises(Exception, match="ThrottlingException"):  # a Lambda error: alarmed, retried next run
        load_module(fn).lambda_handler({}, LambdaContext(fn.logical_id, 300))
    assert stack.table.items() == before


def test_logout_racing_a_refresh_in_flight_does_not_resurrect_the_session(stack: Stack, emulator):
    import threading

    browser, view = signed_in(stack)
    token = browser.jar(stack.api)[SESSION_COOKIE]
    stack.emulator.fault("refresh", "stall")  # the refresh is held at Figma while the logout lands
    results = {}

    def refresh() -> None:
        results["refresh"] = browser.http.post(
            f"{stack.api}/auth/refresh?min_validity=999999", headers={"Authorization": f"Bearer {token}"}
        )

    worker = threading.Thread(target=refresh)
    worker.start()
    assert emulator.state.wait_for_call("refresh")  # the refresh has reached Figma
    logout = browser.http.post(f"{stack.api}/auth/logout", headers={"Authorization": f"Bearer {token}"})
    emulator.state.release.set()  # only now does Figma answer the refresh
    worker.join()

    assert logout.status_code == 204
    assert results["refresh"].status_code == 401  # its save found no session: nothing written back
    assert session_item(stack.table, view["session"]["id"]) is None
