"""Against the running local stack over HTTP, as a developer's app would talk to it."""

from __future__ import annotations

import pytest

from devstack.figma_emulator import EMULATOR_CLIENT
from tests.support.browser import Browser, sign_in, start_login
from tests.support.stack import SESSION_COOKIE, Stack, SubprocessStack

pytestmark = pytest.mark.e2e


def sessions_in(stack: Stack) -> int:
    return stack.table.kinds().get("SESSION", 0)


def test_home_page_offers_sign_in_under_a_strict_csp(live: Stack):
    page = Browser().get(f"{live.api}/")

    assert page.status_code == 200 and "Sign in with Figma" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unsafe-inline" not in page.headers["content-security-policy"].split("script-src")[1].split(";")[0]


def test_cookie_login_then_session_then_logout(live: Stack):
    browser = Browser(origin=live.api)
    done = sign_in(browser, live.api)
    assert done.headers["location"] == f"{live.api}/app/done"

    session = browser.get(f"{live.api}/auth/session")
    assert session.status_code == 200
    token = session.json()["provider"]["access_token"]
    assert live.emulator.me(token).status_code == 200

    assert browser.post(f"{live.api}/auth/logout").status_code == 204
    assert browser.get(f"{live.api}/auth/session").status_code == 401


def test_replayed_callback_is_rejected(live: Stack):
    browser = Browser(origin=live.api)
    attempt = start_login(browser, live.api)
    saved = dict(browser.jar(live.api))
    assert browser.get(attempt.callback_url).status_code == 303
    browser.jars[live.api.split("//")[1]] = saved

    replay = browser.get(attempt.callback_url)

    assert replay.status_code == 400 and replay.json()["error"] == "invalid_state"


def test_forged_state_and_foreign_browser_never_reach_figma(live: Stack):
    browser = Browser(origin=live.api)
    attempt = start_login(browser, live.api)
    forged = attempt.callback_url.replace(attempt.callback_query["state"], "B" * 43)

    assert browser.get(forged).json()["error"] == "invalid_state"
    assert Browser().get(attempt.callback_url).json()["error"] == "invalid_state"
    assert "token" not in live.emulator.calls()


def test_consent_denied_lands_on_the_failure_url(live: Stack):
    before = sessions_in(live)
    response = sign_in(Browser(origin=live.api), live.api, decision="deny")

    assert response.headers["location"].endswith("/app/failed?error=access_denied")
    assert sessions_in(live) == before


@pytest.mark.parametrize(
    ("endpoint", "kind", "times", "code"),
    [
        ("token", "500", 1, "figma_unavailable"),
        ("token", "malformed", 1, "figma_error"),
        ("token", "hang", 1, "figma_unavailable"),
        ("me", "500", 2, "figma_unavailable"),
        ("me", "malformed", 1, "figma_error"),
    ],
)
def test_figma_faults_during_callback_end_on_the_failure_url_with_nothing_stored(
    live: Stack, endpoint: str, kind: str, times: int, code: str
):
    browser = Browser(origin=live.api)
    attempt = start_login(browser, live.api)
    before = live.table.kinds()
    live.emulator.fault(endpoint, kind, times=times)

    response = browser.get(attempt.callback_url)

    assert response.headers["location"] == f"{live.api}/app/failed?error={code}"
    assert SESSION_COOKIE not in browser.jar(live.api)
    after = live.table.kinds()
    assert after.get("SESSION", 0) == before.get("SESSION", 0) and after.get("CONN", 0) == before.get("CONN", 0)


def test_the_stack_logs_one_line_per_request_and_no_secret(running_stack: tuple[Stack, SubprocessStack]):
    live, proc = running_stack
    browser = Browser(origin=live.api)
    attempt = start_login(browser, live.api, user="logcheck")  # a user of its own: one consent, no widening
    secrets = [attempt.callback_query["code"], attempt.callback_query["state"], *browser.jar(live.api).values()]
    browser.get(attempt.callback_url)
    secrets += list(browser.jar(live.api).values())
    secrets.append(browser.get(f"{live.api}/auth/session").json()["provider"]["access_token"])
    secrets.append(EMULATOR_CLIENT["FIGMA_CLIENT_SECRET"])

    log = proc.log_path.read_text()

    assert "GET /auth/figma/callback -> 303" in log
    for secret in secrets:
        assert secret not in log


def test_the_stack_serves_the_published_openapi_document_with_its_own_address(live: Stack):
    import json
    from pathlib import Path

    served = Browser().get(f"{live.api}/openapi.json")
    published = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())

    assert served.status_code == 200 and served.headers["content-type"] == "application/json"
    assert served.json()["servers"] == [{"url": live.api}]
    assert {**served.json(), "servers": published["servers"]} == published


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND"])
def test_a_method_no_route_takes_is_a_json_404_as_api_gateway_answers(live: Stack, method: str):
    import httpx

    response = httpx.request(method, f"{live.api}/auth/session", timeout=10)

    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_a_chunked_request_body_is_read_whole(live: Stack):
    import httpx

    browser = Browser(origin=live.api)
    sign_in(browser, live.api)
    token = browser.jar(live.api)[SESSION_COOKIE]

    def chunks():  # a generator body makes httpx send Transfer-Encoding: chunked
        yield b'{"all":'
        yield b' "yes"}'  # read whole, this is a bad body (400); unread, logout would end the session (204)

    rejected = httpx.post(
        f"{live.api}/auth/logout",
        content=chunks(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )

    assert rejected.status_code == 400 and rejected.json()["message"].startswith("all:")
    assert httpx.get(f"{live.api}/auth/session", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_swagger_ui_at_docs_shows_the_same_document(live: Stack):
    page = Browser().get(f"{live.api}/docs")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "SwaggerUIBundle" in page.text and '"/auth/figma/authorize"' in page.text


def test_the_home_pages_demo_link_follows_the_demo_port(live: Stack):
    page = Browser().get(f"{live.api}/")

    assert f'href="{live.demo}"' in page.text and "{{DEMO_URL}}" not in page.text
