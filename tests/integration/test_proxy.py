"""ANY /figma/{proxy+}: Figma's REST API on the user's behalf, the token never in the browser."""

from __future__ import annotations

import datetime as dt
import http.client
import json
from urllib.parse import urlsplit

import pytest

from devstack.hooks import AwsCalls
from tests.support.browser import Browser, sign_in
from tests.support.stack import SESSION_COOKIE, Stack, last_figma_request, update_connection


@pytest.fixture
def user(stack: Stack) -> Browser:
    """Signed in with the scopes these calls need (the emulator refuses others, as Figma does)."""
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, scopes="current_user:read,file_content:read,file_comments:read,file_comments:write")
    return browser


def test_get_a_file_through_the_proxy(stack: Stack, user: Browser):
    response = user.get(f"{stack.api}/figma/v1/files/AbC123")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["name"] == "Design file AbC123"


def test_get_me_through_the_proxy(stack: Stack, user: Browser):
    assert user.get(f"{stack.api}/figma/v1/me").json()["handle"] == "Ada Lovelace"


def test_query_strings_pass_through_unchanged(stack: Stack, user: Browser):
    shallow = user.get(f"{stack.api}/figma/v1/files/AbC123?depth=1").json()
    nodes = user.get(f"{stack.api}/figma/v1/files/AbC123/nodes?ids=1:2,3:4").json()

    assert shallow["document"]["children"][0]["children"] == []
    assert set(nodes["nodes"]) == {"1:2", "3:4"}
    assert last_figma_request(stack)["query"] == {"ids": "1:2,3:4"}


def test_a_posted_comment_reaches_figma_with_its_body_and_content_type(stack: Stack, user: Browser):
    response = user.post(f"{stack.api}/figma/v1/files/AbC123/comments", json={"message": "Looks great"})

    assert response.status_code == 200 and response.json()["message"] == "Looks great"
    seen = last_figma_request(stack)
    assert seen["method"] == "POST" and seen["headers"]["Content-Type"] == "application/json"
    assert user.get(f"{stack.api}/figma/v1/files/AbC123/comments").json()["comments"][0]["message"] == "Looks great"


def test_the_browsers_cookies_and_authorization_never_reach_figma(stack: Stack, user: Browser):
    token = user.jar(stack.api)[SESSION_COOKIE]
    user.http.get(f"{stack.api}/figma/v1/me", headers={"Authorization": f"Bearer {token}", "Cookie": "a=b"})

    headers = {k.lower(): v for k, v in last_figma_request(stack)["headers"].items()}
    assert "cookie" not in headers
    assert headers["authorization"].startswith("Bearer figu_") and token not in headers["authorization"]


def test_an_expiring_token_is_refreshed_before_the_call(stack: Stack):
    stack.emulator.config(token_lifetime=120)  # inside REFRESH_LEEWAY_SECONDS
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)

    assert browser.get(f"{stack.api}/figma/v1/me").status_code == 200
    assert stack.emulator.calls()["refresh"] == 1


def test_figma_calling_the_token_invalid_triggers_one_refresh_and_one_retry(stack: Stack, user: Browser):
    stack.emulator.http.post(f"{stack.emulator.url}/_emulator/expire_access_tokens")

    response = user.get(f"{stack.api}/figma/v1/files/AbC123")

    assert response.status_code == 200
    assert stack.emulator.calls()["refresh"] == 1 and stack.emulator.calls()["files"] == 2


def test_a_dead_grant_is_reauth_required(stack: Stack, user: Browser):
    stack.emulator.revoke()

    response = user.get(f"{stack.api}/figma/v1/files/AbC123")

    assert response.status_code == 401 and response.json()["error"] == "reauth_required"


@pytest.mark.parametrize(("kind", "status"), [("404", 404), ("403_no_access", 403)])
def test_figma_errors_that_are_not_about_the_token_pass_through_without_a_refresh(
    stack: Stack, user: Browser, kind: str, status: int
):
    stack.emulator.fault("files", kind)
    response = user.get(f"{stack.api}/figma/v1/files/nope")
    assert response.status_code == status and "refresh" not in stack.emulator.calls()


PATH_ESCAPES = [
    "/figma/../auth/session",
    "/figma/v1/../../auth/session",
    "/figma/v1/%2e%2e/%2e%2e/auth",
    "/figma/v1/files%2fAbC123",
    "/figma/v1/files%2FAbC123",
    "/figma/v1/files%5cAbC123",
    "/figma/v1\\files",
    "/figma//evil.example/v1/me",
    "/figma/v1//files",
    "/figma/@evil.example/v1/me",
    "/figma/v1/files/@evil.example",
    "/figma/http://evil.example/v1/me",
    "/figma/https:/evil.example",
    "/figma/v1/files/%00",
    "/figma/v1/files/a%20b",
    "/figma/v3/files/x",
    "/figma/auth/session",
    "/figma/.",
    "/figma/v1/./me",
]


@pytest.mark.parametrize("path", PATH_ESCAPES)
def test_paths_that_could_escape_figmas_api_are_invalid_path_and_reach_no_host(stack: Stack, user: Browser, path):
    before = stack.emulator.calls()
    parts = urlsplit(stack.api)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.putrequest("GET", path, skip_accept_encoding=True)  # the exact bytes, no normalising
    connection.putheader("Cookie", f"{SESSION_COOKIE}={user.jar(stack.api)[SESSION_COOKIE]}")
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()

    assert response.status in (400, 404), body
    if response.status == 400:
        assert b'"invalid_path"' in body
    assert stack.emulator.calls() == before


def test_no_session_is_401(stack: Stack):
    response = Browser().get(f"{stack.api}/figma/v1/me")
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"
    assert "me" not in stack.emulator.calls()  # nobody signed in: Figma never called


def test_cookie_post_without_an_allowed_origin_is_csrf_rejected(stack: Stack, user: Browser):
    response = user.http.post(
        f"{stack.api}/figma/v1/files/AbC123/comments",
        json={"message": "x"},
        headers={"Cookie": f"{SESSION_COOKIE}={user.jar(stack.api)[SESSION_COOKIE]}"},
    )
    assert response.status_code == 403 and response.json()["error"] == "csrf_rejected"
    assert "files" not in stack.emulator.calls()


def test_backend_for_frontend_hides_the_token_while_the_proxy_works(stack: Stack, reconfigure):
    reconfigure(EXPOSE_PROVIDER_TOKEN="false")
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)

    session = browser.get(f"{stack.api}/auth/session")
    assert "access_token" not in session.json()["provider"] and "figu_" not in session.text
    assert browser.get(f"{stack.api}/figma/v1/me").status_code == 200


def test_figma_429_passes_through_with_its_rate_limit_headers(stack: Stack, user: Browser):
    stack.emulator.fault("files", "429", retry_after=42)

    response = user.get(f"{stack.api}/figma/v1/files/AbC123")

    assert response.status_code == 429 and response.headers["retry-after"] == "42"
    assert response.headers["x-figma-rate-limit-type"] == "low"


@pytest.mark.parametrize("kind", ["500", "503"])  # a hang: tests/unit/test_figma_client.py (injected transport)
def test_figma_down_is_502_figma_unavailable(stack: Stack, user: Browser, kind: str):
    stack.emulator.fault("files", kind)
    response = user.get(f"{stack.api}/figma/v1/files/AbC123")

    assert response.status_code == 502 and response.json()["error"] == "figma_unavailable"


def test_a_response_over_lambdas_limit_arrives_whole(stack: Stack, user: Browser):
    response = user.get(f"{stack.api}/figma/v1/files/HUGE")  # gzip, or a 303 to S3 (test_large_answers.py)
    if response.status_code == 303:
        response = user.get(response.headers["location"])

    assert response.status_code == 200 and len(response.content) > 6 * 1024 * 1024


def test_a_body_over_1_mb_is_invalid_request(stack: Stack, user: Browser):
    response = user.post(
        f"{stack.api}/figma/v1/files/AbC123/comments",
        content=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_a_warm_proxy_call_costs_one_dynamodb_read_and_no_kms(stack: Stack, user: Browser):
    stack.cold_start()  # a new container: empty key cache
    counter = AwsCalls()
    user.get(f"{stack.api}/figma/v1/me")
    assert counter.by_service("kms") == {"Decrypt": 1}  # cold: the data key is decrypted once
    counter.reset()
    user.get(f"{stack.api}/figma/v1/me")

    assert counter.by_service("dynamodb") == {"BatchGetItem": 1} and counter.total("kms") == 0


# -- hardening (issue 17) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "v1/oauth/refresh",
        "v1/oauth/token",
        "v1/OAuth/token",
        "v2/oauth/anything",
        "v1/%6fauth/token",
        "v1/./oauth/token",
        "v1//oauth/token",
        "v1/x/../oauth/token",
        "v1/oauth;x/token",
        "v1/oauth%00/token",
        "v1/@oauth/token",
    ],
)
def test_figmas_oauth_endpoints_cannot_be_reached_through_the_proxy(stack: Stack, user: Browser, path: str):
    response = user.post(f"{stack.api}/figma/{path}", data={"refresh_token": "x"})

    assert response.status_code == 400 and response.json()["error"] == "invalid_path"
    calls = stack.emulator.calls()
    assert "refresh" not in calls and calls["token"] == 1  # the sign-in's exchange only


def test_repeated_invalid_token_answers_cost_at_most_one_refresh_per_30s_and_keep_the_session(
    stack: Stack, user: Browser
):
    for _ in range(10):
        stack.emulator.fault("files", "403", times=2)  # Figma: "Invalid token", before and after a refresh
        response = user.get(f"{stack.api}/figma/v1/files/AbC123")
        assert response.status_code == 403  # Figma's own answer, passed on: not reauth_required

    assert stack.emulator.calls()["refresh"] == 1
    session = user.get(f"{stack.api}/auth/session").json()
    assert session["provider"]["status"] == "active"

    # The window is the grant's age: 29 s after the refresh still none, 31 s after one more.
    for age, refreshes in ((29, 1), (31, 2)):
        obtained = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
        update_connection(stack.table, session["user"]["id"], "SET grant_obtained_at = :t", {":t": {"S": obtained}})
        stack.emulator.fault("files", "403", times=2)
        assert user.get(f"{stack.api}/figma/v1/files/AbC123").status_code == 403
        assert stack.emulator.calls()["refresh"] == refreshes, age


def test_proxy_answers_are_never_cached_nor_rendered_as_html_from_our_origin(stack: Stack, user: Browser):
    json_answer = user.get(f"{stack.api}/figma/v1/me")
    stack.emulator.fault("me", "html")  # an HTML page from something in front of Figma
    html_answer = user.get(f"{stack.api}/figma/v1/me")

    for answer in (json_answer, html_answer):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert json_answer.headers["content-type"].startswith("application/json")
    assert html_answer.headers["content-type"] == "application/octet-stream"
    assert html_answer.headers["content-disposition"] == "attachment"


@pytest.mark.parametrize("raw", ["/figma/v1/me?a=\x7f", "/figma/v1/me?a=\x00b", "/figma/v1/me?a=\x01"])
def test_raw_control_bytes_in_the_proxy_query_are_invalid_request(stack: Stack, user: Browser, raw: str):
    import socket

    cookie = "; ".join(f"{k}={v}" for k, v in user.jar(stack.api).items())
    host, port = stack.api.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(
            f"GET {raw} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")

    assert head.split(b"\r\n", 1)[0].split()[1] == b"400", head
    assert json.loads(body)["error"] == "invalid_request", body


def test_a_non_ascii_content_type_is_invalid_request(stack: Stack, user: Browser):
    response = user.post(
        f"{stack.api}/figma/v1/files/AbC/comments",
        content=b"{}",
        headers={"Content-Type": "application/json; x=é".encode()},
    )

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_every_answer_carries_hsts(stack: Stack, user: Browser):
    for answer in (
        user.get(f"{stack.api}/auth/session"),
        user.get(f"{stack.api}/figma/v1/me"),
        user.get(f"{stack.api}/auth/figma/authorize"),  # an error
        user.get(f"{stack.api}/.well-known/jwks.json"),
    ):
        assert answer.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


def test_a_get_with_a_body_is_invalid_request_and_never_reaches_figma(stack: Stack, user: Browser):
    """Found by the raw-bytes property test: a GET with a (non-UTF-8) body."""
    response = user.request("GET", f"{stack.api}/figma/v1/me", content=b"\x80")

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "me" not in stack.emulator.calls() or stack.emulator.calls()["me"] == 1  # the sign-in's only


def test_hardening_6_a_body_sent_a_byte_at_a_time_ends_in_our_502_within_the_deadline(stack: Stack, user: Browser):
    from devstack.lambdas import http_event
    from devstack.template import Route, _compile
    from devstack.workers import LambdaContext, load_module

    stack.emulator.config(slow_body_ms=200)  # a design file (≈ 1 KB) would take minutes to arrive
    fn = stack.containers.by_name("figma_proxy")
    path = "/figma/v1/files/SlowFile1"
    host = urlsplit(stack.api).netloc
    event = http_event(
        method="GET",
        path=path,
        raw_query="",
        headers=[("host", host), ("cookie", f"{SESSION_COOKIE}={user.jar(stack.api)[SESSION_COOKIE]}")],
        body=b"",
        route=Route("GET", path, fn.logical_id, _compile(path)),
        path_params={},
        domain=host,
    )

    # 3 s left in the invocation (a 4 s Lambda): every read is bounded by what is left in all.
    answer = load_module(fn).lambda_handler(event, LambdaContext(fn.logical_id, 4))

    assert answer["statusCode"] == 502 and '"figma_unavailable"' in answer["body"]


def test_hardening_6_an_oauth_answer_sent_a_byte_at_a_time_is_bounded_by_the_deadline_too(stack: Stack):
    from figma_auth import deadline, runtime
    from figma_auth.client_secret import figma_client
    from figma_auth.errors import FigmaUnavailable
    from figma_auth.figma import TokenRejected

    stack.emulator.config(slow_body_ms=200)
    client = figma_client(runtime.settings(), runtime.container().client_secret)
    bound = deadline.start(3000)
    try:
        with pytest.raises(FigmaUnavailable):
            client.me("figu_not-a-token-000000000")  # Figma's 403 body, a byte every 200 ms
    finally:
        deadline.finish(bound)
    stack.emulator.config(slow_body_ms=0)
    with pytest.raises(TokenRejected):  # the same call answered at once is read as usual
        client.me("figu_not-a-token-000000000")
