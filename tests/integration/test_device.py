"""Device sign-in (RFC 8628) for Figma plugins, the VS Code extension and CLIs: the device
starts, a person confirms the code on our page and consents at Figma, the device polls."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest

from devstack.hooks import AwsCalls
from tests.support.browser import Browser, confirm_device, decide_at_figma, hidden_fields, look_up_code
from tests.support.stack import Stack

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def fast(reconfigure) -> None:  # noqa: ANN001
    reconfigure(DEVICE_POLL_INTERVAL_SECONDS="1")


def start(stack: Stack, **body: Any) -> dict[str, Any]:
    answer = httpx.post(f"{stack.api}/auth/device", json=body, headers={"Origin": "null"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def poll(stack: Stack, device_code: str, *, form: bool = False) -> httpx.Response:
    body = {"grant_type": DEVICE_GRANT, "device_code": device_code}
    if form:
        return httpx.post(f"{stack.api}/auth/token", data=body, headers={"Origin": "null"})
    return httpx.post(f"{stack.api}/auth/token", json=body, headers={"Origin": "null"})


def error_of(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


def test_start_gives_codes_uris_and_pacing_and_stores_only_hashes(stack: Stack):
    started = start(stack, scopes="current_user:read,file_content:read")

    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", started["user_code"])
    assert started["verification_uri"] == f"{stack.api}/auth/device/verify"
    assert started["verification_uri_complete"] == f"{stack.api}/auth/device/verify?user_code={started['user_code']}"
    assert (started["expires_in"], started["interval"]) == (600, 5)
    stored = str(stack.table.items())
    assert started["device_code"] not in stored and started["user_code"].replace("-", "") not in stored


def test_the_whole_flow_polls_pending_then_gives_one_session_once(stack: Stack, fast):
    started = start(stack)
    assert error_of(poll(stack, started["device_code"])) == (400, "authorization_pending")

    done = confirm_device(Browser(), started["verification_uri_complete"])
    assert done.status_code == 303 and done.headers["location"].endswith("/auth/device/verify?result=done")
    page = httpx.get(done.headers["location"])
    assert "You're signed in — return to Figma" in page.text

    granted = _poll_after_interval(stack, started["device_code"])
    assert granted.status_code == 200
    body = granted.json()
    assert body["user"]["handle"] == "Ada Lovelace" and body["provider"]["status"] == "active"
    me = httpx.get(f"{stack.api}/figma/v1/me", headers={"Authorization": f"Bearer {body['session_token']}"})
    assert me.status_code == 200 and me.json()["handle"] == "Ada Lovelace"
    sessions = httpx.get(
        f"{stack.api}/auth/sessions", headers={"Authorization": f"Bearer {body['session_token']}"}
    ).json()["sessions"]
    assert [s["client"] for s in sessions] == ["device"]
    assert error_of(_poll_after_interval(stack, started["device_code"])) == (400, "invalid_grant")  # once


def test_the_done_page_names_the_app_that_asked_only_in_the_browser_that_confirmed(stack: Stack):
    started = start(stack, client_id="Acme CLI <b>")
    person = Browser()
    done = confirm_device(person, started["verification_uri_complete"])
    assert done.status_code == 303 and "result=done" in done.headers["location"]

    named = person.get(done.headers["location"])
    assert named.status_code == 200
    assert '<strong id="client">Acme CLI &lt;b&gt;</strong>' in named.text  # the name it gave itself, escaped
    assert 'id="client-note">(the name the app gave itself, not verified by figma-auth)' in named.text
    elsewhere = httpx.get(done.headers["location"])  # the same link without that browser's verify cookie
    assert "Acme CLI" not in elsewhere.text and "return to Figma" in elsewhere.text
    verify = done.headers["location"].split("?")[0]
    forged = person.get(verify, params={"result": "done", "client": "Evil Corp", "mark": "x" * 43})
    assert "Evil Corp" not in forged.text and "return to Figma" in forged.text


def _poll_after_interval(stack: Stack, device_code: str, interval: int = 1) -> httpx.Response:
    """The device's next poll, once the person has finished on our page (every caller polls
    after that): RFC 8628 §3.5 has it wait ``interval`` seconds since its last poll, which the
    server enforces with slow_down. Not a wait for the state: the answer is already stored."""
    import time

    time.sleep(interval)
    return poll(stack, device_code)


def test_form_encoded_start_and_poll_work_as_rfc_8628_clients_send_them(stack: Stack):
    answer = httpx.post(f"{stack.api}/auth/device", data={"scopes": "current_user:read"})
    assert answer.status_code == 200, answer.text

    polled = poll(stack, answer.json()["device_code"], form=True)

    assert error_of(polled) == (400, "authorization_pending")


def test_polling_faster_than_the_interval_is_slow_down_and_the_interval_grows_by_5s(stack: Stack):
    started = start(stack)
    assert error_of(poll(stack, started["device_code"])) == (400, "authorization_pending")

    too_soon = poll(stack, started["device_code"])
    again = poll(stack, started["device_code"])

    assert error_of(too_soon) == (400, "slow_down") and "10 s" in too_soon.json()["message"]
    assert error_of(again) == (400, "slow_down") and "15 s" in again.json()["message"]


def test_a_declined_consent_makes_the_poll_access_denied(stack: Stack, fast):
    started = start(stack)

    done = confirm_device(Browser(), started["verification_uri_complete"], decision="deny")

    assert done.status_code == 303 and "error=access_denied" in done.headers["location"]
    page = httpx.get(done.headers["location"])
    assert 'data-error="access_denied"' in page.text and "declined" in page.text
    assert error_of(_poll_after_interval(stack, started["device_code"])) == (400, "access_denied")


def test_an_expired_code_is_expired_token_at_the_poll_and_on_the_page(stack: Stack, reconfigure):
    from tests.support.stack import _update

    started = start(stack)
    for item in stack.table.items():
        if item["pk"]["S"].startswith("DEVICE#"):
            _update(
                stack.table, item["pk"]["S"], "DEVICE", "SET expires_at = :e", {":e": {"S": "2020-01-01T00:00:00Z"}}
            )

    assert error_of(poll(stack, started["device_code"])) == (400, "expired_token")
    page = look_up_code(Browser(), started["verification_uri_complete"])
    assert page.status_code == 400 and 'data-error="expired_token"' in page.text


def test_an_unknown_device_code_is_invalid_grant_and_a_malformed_poll_is_invalid_request(stack: Stack):
    assert error_of(poll(stack, "A" * 43)) == (400, "invalid_grant")
    bad = httpx.post(f"{stack.api}/auth/token", json={"grant_type": DEVICE_GRANT, "device_code": "short"})
    assert error_of(bad) == (400, "invalid_request") and "device_code" in bad.json()["message"]


def test_a_link_sent_by_someone_else_needs_the_victim_to_see_and_confirm_the_code(stack: Stack):
    started = start(stack)  # the attacker's device
    victim = Browser()
    code = started["user_code"].replace("-", "")

    # The attacker's crafted link: "confirmed" without the page the victim never saw.
    forged = victim.get(f"{stack.api}/auth/device/verify", params={"user_code": code, "confirm": "A" * 43})
    # A confirmation value from the attacker's own browser, replayed into the victim's.
    attacker = Browser()
    page = look_up_code(attacker, started["verification_uri_complete"])
    value = re.search(r'name="confirm" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    replayed = victim.get(f"{stack.api}/auth/device/verify", params={"user_code": code, "confirm": value})

    for answer in (forged, replayed):
        assert answer.status_code == 400 and 'data-error="invalid_state"' in answer.text
    assert "location" not in forged.headers and "location" not in replayed.headers  # never on to Figma
    shown = look_up_code(victim, started["verification_uri_complete"])
    assert started["user_code"] in shown.text and "Check that this is the code" in shown.text


@pytest.fixture
def one_guess_window() -> None:
    """The guessing budgets are per 15-minute window (GUESS_WINDOW_SECONDS): a test that spends
    one and then expects it spent must not straddle a window's end. A precondition on the wall
    clock (waited out only in the last 30 s of a window), not a wait for the service."""
    import time

    from figma_auth.usecases.device_verify import GUESS_WINDOW_SECONDS

    left = GUESS_WINDOW_SECONDS - time.time() % GUESS_WINDOW_SECONDS
    if left < 30:
        time.sleep(left + 0.5)


@pytest.mark.usefixtures("one_guess_window")
def test_hardening_4_wrong_codes_are_limited_per_browser_and_other_browsers_at_the_address_go_on(stack: Stack):
    verify = f"{stack.api}/auth/device/verify"
    guesser = Browser()
    for _ in range(10):
        wrong = look_up_code(guesser, verify, typed="BBBB-BBBB")
        assert wrong.status_code == 404 and "not right" in wrong.text
    started = start(stack)

    blocked = look_up_code(guesser, started["verification_uri_complete"])  # even the right code, now
    neighbour = look_up_code(Browser(), started["verification_uri_complete"])  # same address, another browser

    assert blocked.status_code == 429 and 'data-error="too_many_attempts"' in blocked.text
    assert neighbour.status_code == 200 and 'name="confirm"' in neighbour.text


def test_hardening_4_a_cross_site_page_cannot_spend_the_guessing_budget(stack: Stack):
    verify = f"{stack.api}/auth/device/verify"
    for _ in range(20):  # <img src=".../verify?user_code=…">: a GET looks nothing up
        assert httpx.get(verify, params={"user_code": "BBBB-BBBB"}).status_code == 200
    for _ in range(20):  # a cross-site form: no verify cookie (SameSite) and no value from our page
        forged = httpx.post(verify, data={"user_code": "BBBB-BBBB", "via": "typed", "csrf": "A" * 43})
        assert forged.status_code == 400 and 'data-error="invalid_state"' in forged.text
    assert stack.table.kinds()["GUESS"] == 0

    started = start(stack)
    assert 'name="confirm"' in look_up_code(Browser(), started["verification_uri_complete"]).text


@pytest.mark.usefixtures("one_guess_window")
def test_hardening_4_parallel_guesses_never_spend_past_the_ceiling(stack: Stack):
    from concurrent.futures import ThreadPoolExecutor

    guesser = Browser()
    fields = hidden_fields(guesser.get(f"{stack.api}/auth/device/verify"))
    fields.update(user_code="BBBB-BBBB", via="typed")

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: guesser.post(f"{stack.api}/auth/device/verify", data=fields), range(16)))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [404] * 10 + [429] * 6  # one conditional write per look-up: never an 11th


def test_a_code_can_be_opened_five_times_then_it_is_burned(stack: Stack):
    other = start(stack)
    for _ in range(5):
        assert look_up_code(Browser(), other["verification_uri_complete"]).status_code == 200
    burned = look_up_code(Browser(), other["verification_uri_complete"])
    assert burned.status_code == 400 and 'data-error="expired_token"' in burned.text


@pytest.mark.parametrize("gone", ["USERCODE", "DEVICE"])
def test_confirming_a_code_that_no_longer_exists_is_expired_token_on_the_page(stack: Stack, gone: str):
    from devstack import aws

    started = start(stack)
    person = Browser()
    fields = hidden_fields(look_up_code(person, started["verification_uri_complete"]))
    db = aws.client("dynamodb", stack.table.endpoint)
    for item in stack.table.items():
        if item["pk"]["S"].startswith(gone + "#"):  # DynamoDB's TTL deleted it while the page was open
            db.delete_item(TableName=stack.table.name, Key={"pk": item["pk"], "sk": item["sk"]})

    confirmed = person.get(f"{stack.api}/auth/device/verify", params=fields)

    assert confirmed.status_code == 400 and 'data-error="expired_token"' in confirmed.text
    assert "location" not in confirmed.headers  # never on to Figma


def test_the_verify_page_without_a_code_asks_for_one_and_is_locked_down(stack: Stack):
    page = httpx.get(f"{stack.api}/auth/device/verify")

    assert page.status_code == 200 and 'name="user_code"' in page.text and '<form method="post"' in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


def test_a_typed_code_in_any_case_with_or_without_the_dash_finds_the_sign_in(stack: Stack):
    started = start(stack)
    typed = started["user_code"].replace("-", " ").lower()

    page = look_up_code(Browser(), f"{stack.api}/auth/device/verify", typed=typed)

    assert page.status_code == 200 and started["user_code"] in page.text and 'name="confirm"' in page.text


def test_the_consent_can_come_late_but_not_after_the_code_expired(stack: Stack):
    started = start(stack)
    person = Browser()
    page = look_up_code(person, started["verification_uri_complete"])
    fields = dict(re.findall(r'name="(user_code|confirm)" value="([^"]+)"', page.text))
    to_figma = person.get(f"{stack.api}/auth/device/verify", params=fields)
    callback = decide_at_figma(person, to_figma.headers["location"])
    from tests.support.stack import _update

    for item in stack.table.items():
        if item["pk"]["S"].startswith("DEVICE#"):
            _update(
                stack.table, item["pk"]["S"], "DEVICE", "SET expires_at = :e", {":e": {"S": "2020-01-01T00:00:00Z"}}
            )

    done = person.get(callback)

    assert done.status_code == 303 and "error=expired_token" in done.headers["location"]
    assert not [i for i in stack.table.items() if i["pk"]["S"].startswith("SESSION#")]


def test_plugins_and_other_origins_get_cors_without_credentials_and_cookies_stay_for_allowed_origins(stack: Stack):
    preflight = httpx.options(
        f"{stack.api}/auth/token",
        headers={
            "Origin": "null",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    device = httpx.post(f"{stack.api}/auth/device", json={}, headers={"Origin": "null"})
    allowed = httpx.options(
        f"{stack.api}/auth/session",
        headers={"Origin": "http://127.0.0.1:5173", "Access-Control-Request-Method": "GET"},
    )

    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in preflight.headers
    assert device.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in device.headers
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    assert allowed.headers["access-control-allow-credentials"] == "true"


def test_a_session_cookie_sent_from_a_foreign_origin_is_not_honoured(stack: Stack):
    from tests.support.browser import sign_in
    from tests.support.stack import SESSION_COOKIE

    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)
    cookie = {"Cookie": f"{SESSION_COOKIE}={browser.jar(stack.api)[SESSION_COOKIE]}"}

    foreign = httpx.get(f"{stack.api}/auth/session", headers={**cookie, "Origin": "null"})
    own = httpx.get(f"{stack.api}/auth/session", headers=cookie)

    assert foreign.status_code == 401 and own.status_code == 200


def test_a_pending_poll_costs_one_dynamodb_call_and_no_kms(stack: Stack):
    started = start(stack)
    counter = AwsCalls()

    assert error_of(poll(stack, started["device_code"])) == (400, "authorization_pending")

    assert counter.by_service("dynamodb") == {"UpdateItem": 1} and counter.total("kms") == 0


@pytest.mark.parametrize(
    "body",
    [
        "&".join(f"client_id={i}" for i in range(40)) + f"&grant_type={DEVICE_GRANT}&device_code=x",
        f"grant_type={DEVICE_GRANT}&grant_type={DEVICE_GRANT}&device_code=" + "A" * 43,
        "x=" + "y" * 5000,
    ],
    ids=["many fields (found by the fuzzer)", "a repeated field", "too long"],
)
def test_a_malformed_form_poll_is_invalid_request(stack: Stack, body: str):
    answer = httpx.post(
        f"{stack.api}/auth/token", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )

    assert error_of(answer) == (400, "invalid_request")


def _device_item(stack: Stack) -> dict[str, Any]:
    (item,) = [i for i in stack.table.items() if i["pk"]["S"].startswith("DEVICE#")]
    return item


def test_rfc_8628_clients_send_client_id_and_a_space_delimited_scope_and_the_page_names_the_client(stack: Stack):
    answer = httpx.post(
        f"{stack.api}/auth/device",
        data={"client_id": "figma-cli", "scope": "current_user:read file_content:read", "audience": "ignored"},
    )

    assert answer.status_code == 200, answer.text
    item = _device_item(stack)
    assert sorted(v["S"] for v in item["scopes"]["L"]) == ["current_user:read", "file_content:read"]
    assert item["client_id"]["S"] == "figma-cli"
    page = look_up_code(Browser(), answer.json()["verification_uri_complete"])
    assert '<strong id="client">figma-cli</strong>' in page.text


def test_a_device_sign_in_without_client_id_is_named_an_app_on_a_device(stack: Stack):
    page = look_up_code(Browser(), start(stack, scopes="current_user:read")["verification_uri_complete"])
    assert '<strong id="client">an app on a device</strong>' in page.text


@pytest.mark.parametrize(
    ("body", "same"),
    [
        ({"scope": "current_user:read file_content:read", "scopes": "file_content:read,current_user:read"}, True),
        ({"scope": "current_user:read", "scopes": "current_user:read,file_content:read"}, False),
    ],
    ids=["the same scopes", "different scopes"],
)
def test_scope_and_scopes_may_both_come_only_naming_the_same_scopes(stack: Stack, body: dict[str, str], same: bool):
    answer = httpx.post(f"{stack.api}/auth/device", json=body)

    if same:
        assert answer.status_code == 200, answer.text
    else:
        assert error_of(answer) == (400, "invalid_request") and "scope and scopes" in answer.json()["message"]


@pytest.mark.parametrize(
    "body",
    [{"scope": "not_a_scope"}, {"client_id": "x" * 101}, {"client_id": "line\nbreak"}, {"scopes": 5}],
    ids=["unknown scope", "client_id too long", "client_id not printable", "scopes not text"],
)
def test_what_the_device_endpoint_knows_is_still_validated(stack: Stack, body: dict[str, Any]):
    answer = httpx.post(f"{stack.api}/auth/device", json=body)
    assert answer.status_code == 400 and answer.json()["error"] in ("invalid_scope", "invalid_request")
    assert stack.table.kinds()["DEVICE"] == 0


def test_the_device_grant_answers_rfc_6749s_token_response_and_its_errors_carry_error_description(stack: Stack, fast):
    started = start(stack, scope="current_user:read file_content:read")
    pending = poll(stack, started["device_code"], form=True)
    assert pending.json()["error_description"] == pending.json()["message"] and pending.headers["pragma"] == "no-cache"

    confirm_device(Browser(), started["verification_uri_complete"])
    granted = _poll_after_interval(stack, started["device_code"])

    body = granted.json()
    assert granted.status_code == 200 and body["access_token"] == body["session_token"]
    assert body["token_type"] == "Bearer" and set(body["scope"].split(" ")) >= {"current_user:read"}
    assert 30 * 86400 - 60 <= body["expires_in"] <= 30 * 86400
    assert granted.headers["cache-control"] == "no-store" and granted.headers["pragma"] == "no-cache"
    me = httpx.get(f"{stack.api}/auth/session", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["user"]["handle"] == "Ada Lovelace"


def start_from(stack: Stack, address: str) -> dict[str, Any]:
    """A device sign-in started from another loopback address (another network: 127.0.1.0/24)."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address)) as device:
        answer = device.post(f"{stack.api}/auth/device", json={"client_id": "some-cli"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_hardening_5_a_link_from_this_network_just_now_goes_to_confirm_with_who_when_and_where(stack: Stack):
    page = look_up_code(Browser(), start(stack, client_id="my-cli")["verification_uri_complete"])

    assert 'name="confirm"' in page.text and '<strong id="client">my-cli</strong>' in page.text
    assert 'Started just now, <span id="network">from this browser\'s network</span>' in page.text
    assert 'id="warning"' in page.text and "someone sent you this link" in page.text


def test_hardening_5_a_link_from_another_network_needs_the_code_typed(stack: Stack):
    started = start_from(stack, "127.0.1.5")  # the attacker's device, elsewhere
    victim = Browser()

    clicked = look_up_code(victim, started["verification_uri_complete"])  # one click on the link

    assert clicked.status_code == 200 and 'name="confirm"' not in clicked.text
    assert "type the code your app shows" in clicked.text and 'name="via" value="typed"' in clicked.text
    typed = look_up_code(victim, f"{stack.api}/auth/device/verify", typed=started["user_code"])
    assert 'name="confirm"' in typed.text and "from another network than this browser's" in typed.text


def test_hardening_5_an_old_link_needs_the_code_typed_and_says_how_old(stack: Stack):
    from tests.support.stack import _update

    started = start(stack)
    (device,) = [i for i in stack.table.items() if i["pk"]["S"].startswith("DEVICE#")]
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _update(stack.table, device["pk"]["S"], "DEVICE", "SET started_at = :s", {":s": {"S": long_ago}})

    clicked = look_up_code(Browser(), started["verification_uri_complete"])
    typed = look_up_code(Browser(), f"{stack.api}/auth/device/verify", typed=started["user_code"])

    assert 'name="confirm"' not in clicked.text and "type the code your app shows" in clicked.text
    assert 'name="confirm"' in typed.text and "Started 7 minutes ago" in typed.text
