"""Backend access: /connections/... behind AWS IAM. The local API checks SigV4 as API Gateway
does (local credentials testing/testing, us-east-1, execute-api); the app's backend uses the
Python helper in clients/python, which signs with the caller's AWS credentials."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.template import ROOT
from tests.support.backend_client import FigmaAuthBackend, FigmaAuthError, ReauthRequired, backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import EventCapture, Stack, connection_item, update_connection


def signed_in(stack: Stack, user: str = "ada", scopes: str = "current_user:read") -> tuple[Browser, dict]:
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, user=user, scopes=scopes).status_code == 303
    return browser, browser.get(f"{stack.api}/auth/session").json()


def signed(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    secret: str = "testing",
    region: str = "us-east-1",
    service: str = "execute-api",
    when: dt.datetime | None = None,
    key: str = "testing",
    token: str | None = None,
) -> dict[str, str]:
    """The headers botocore's signer puts on a request (as any AWS SDK would)."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": httpx.URL(url).netloc.decode()})
    auth = SigV4Auth(Credentials(key, secret, token), service, region)
    if when is None:
        auth.add_auth(request)
    else:  # a signature made at another time
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        request.headers["X-Amz-Date"] = stamp
        request.context["timestamp"] = stamp
        canonical = auth.canonical_request(request)
        signature = auth.signature(auth.string_to_sign(request, canonical), request)
        scope = auth.credential_scope(request)
        headers = ";".join(sorted(auth.headers_to_sign(request)))
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={headers}, Signature={signature}"
        )
    return dict(request.headers.items())


def test_get_connection_returns_the_user_and_the_working_token_in_one_dynamodb_read(stack: Stack):
    _, view = signed_in(stack)

    connection = backend(stack).connection(view["user"]["id"])

    assert connection["user"] == view["user"]
    assert connection["provider"]["status"] == "active" and connection["provider"]["scopes"] == ["current_user:read"]
    token = connection["provider"]["access_token"]
    assert stack.emulator.me(token).status_code == 200
    assert backend(stack).get_token(view["user"]["id"]) == token


def test_a_token_within_the_leeway_is_refreshed_first_and_concurrent_reads_cost_one_refresh(stack: Stack):
    from concurrent.futures import ThreadPoolExecutor

    _, view = signed_in(stack)
    user_id = view["user"]["id"]
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=60)).strftime("%Y-%m-%dT%H:%M:%SZ")
    update_connection(stack.table, user_id, "SET grant_expires_at = :t", {":t": {"S": soon}})

    with ThreadPoolExecutor(4) as pool:
        tokens = set(pool.map(lambda _: backend(stack).get_token(user_id), range(4)))

    assert len(tokens) == 1 and stack.emulator.me(tokens.pop()).status_code == 200
    assert stack.emulator.calls().get("refresh", 0) == 1


def test_a_dead_grant_is_200_reauth_required_without_a_token(stack: Stack):
    _, view = signed_in(stack)
    stack.emulator.revoke()
    update_connection(stack.table, view["user"]["id"], "SET grant_status = :s", {":s": {"S": "reauth_required"}})

    connection = backend(stack).connection(view["user"]["id"])

    assert connection["provider"]["status"] == "reauth_required" and "access_token" not in connection["provider"]
    with pytest.raises(ReauthRequired):
        backend(stack).get_token(view["user"]["id"])


def test_an_unknown_user_is_404_not_found(stack: Stack):
    calls = (
        lambda b: b.connection("424242"),
        lambda b: b.disconnect("424242"),
        lambda b: b.figma("424242", "GET", "/v1/me"),  # figma-auth's 404, not Figma's
    )
    for call in calls:
        with pytest.raises(FigmaAuthError) as refused:
            call(backend(stack))
        assert (refused.value.status, refused.value.error) == (404, "not_found")


def test_proxy_as_a_user_calls_figma_with_their_token(stack: Stack):
    _, view = signed_in(stack, user="grace")

    me = backend(stack).figma(view["user"]["id"], "GET", "/v1/me")
    missing = backend(stack).figma(view["user"]["id"], "GET", "/v1/no-such-endpoint")

    assert me.status_code == 200 and me.json()["handle"] == view["user"]["handle"]
    assert me.headers["cache-control"] == "no-store"
    assert missing.status_code == 404  # Figma's answer, passed through
    with pytest.raises(FigmaAuthError) as escaped:
        backend(stack).figma(view["user"]["id"], "GET", "/v1/..%2F..%2Fetc")
    assert escaped.value.error == "invalid_path"


def test_disconnect_deletes_the_grant_and_every_session_and_tells_the_app(stack: Stack):
    capture = EventCapture(stack.moto)
    laptop, view = signed_in(stack)
    phone, _ = signed_in(stack)
    user_id = view["user"]["id"]

    backend(stack).disconnect(user_id)

    assert connection_item(stack.table, user_id) is None and stack.table.items() == []
    assert laptop.get(f"{stack.api}/auth/session").status_code == 401
    assert phone.get(f"{stack.api}/auth/session").status_code == 401
    events = [(e["detail-type"], e["detail"]) for e in capture.received()]
    assert ("ConnectionCreated", {"user_id": user_id, "scopes": ["current_user:read"]}) in events
    assert ("ConnectionDeleted", {"user_id": user_id, "reason": "disconnect"}) in events
    assert [t for t, _ in events].count("ConnectionCreated") == 1  # the second sign-in joined it


def test_unsigned_wrong_secret_wrong_scope_changed_body_and_stale_requests_are_403_forbidden(stack: Stack):
    _, view = signed_in(stack)
    url = f"{stack.api}/connections/{view['user']['id']}"
    proxy = f"{url}/figma/v1/me"
    body = b'{"message": "hi"}'
    old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6)
    bad = {
        "unsigned": ("GET", url, {}, b""),
        "wrong secret": ("GET", url, signed("GET", url, secret="not-testing"), b""),
        "wrong region": ("GET", url, signed("GET", url, region="eu-west-1"), b""),
        "wrong service": ("GET", url, signed("GET", url, service="lambda"), b""),
        "changed body": ("POST", proxy, signed("POST", proxy, body=body), b'{"message": "ha"}'),
        "stale date": ("GET", url, signed("GET", url, when=old), b""),
        "other method": ("DELETE", url, signed("GET", url), b""),
        "other user": ("GET", url + "0", signed("GET", url), b""),
    }
    for name, (method, target, headers, content) in bad.items():
        answer = httpx.request(method, target, headers=headers, content=content)
        assert (answer.status_code, answer.json()) == (403, {"message": "Forbidden"}), name
    assert connection_item(stack.table, view["user"]["id"]) is not None  # the DELETE never ran
    good = httpx.get(url, headers=signed("GET", url))
    assert good.status_code == 200


def test_a_session_cookie_or_bearer_token_does_not_open_backend_routes(stack: Stack):
    browser, view = signed_in(stack)

    answer = browser.get(f"{stack.api}/connections/{view['user']['id']}")

    assert (answer.status_code, answer.json()) == (403, {"message": "Forbidden"})


def test_the_helper_module_needs_nothing_beyond_boto3_and_httpx():
    source = Path(ROOT / "clients" / "python" / "figma_auth_backend.py").read_text()
    imports = {line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "collections", "typing", "urllib", "boto3", "botocore", "httpx"}  # stdlib + two


@pytest.mark.parametrize(
    "path",
    [
        "../../../../{victim}/figma/v1/me",
        "/v1/files/../../../../{victim}/figma/v1/me",
        "/v1/files/%2e%2e/%2E%2E/%2e%2e/%2e%2e/{victim}/figma/v1/me",
        "/v1/files/..%2F..%2F..%2F..%2F{victim}%2Ffigma%2Fv1%2Fme",
        "/v1/files/.%2e/x",
        "/v1/files/%252e%252e/x",
        "/v1/files/a%5Cb",
        "/v1/files/KEY?x=../../{victim}",
        "/v1/files/KEY#../../{victim}",
        "/v1//files",
        "../../../../{victim}",
    ],
)
def test_hardening_1_the_backend_helper_never_sends_a_path_that_leaves_the_users_figma_routes(stack: Stack, path: str):
    _, ada = signed_in(stack, user="ada")
    _, grace = signed_in(stack, user="grace")
    before = stack.emulator.calls()

    for method in ("GET", "DELETE"):
        with pytest.raises(FigmaAuthError) as refused:
            backend(stack).figma(ada["user"]["id"], method, path.format(victim=grace["user"]["id"]))
        assert (refused.value.status, refused.value.error) == (0, "invalid_path")  # refused before signing

    assert stack.emulator.calls() == before  # Figma was never called
    assert connection_item(stack.table, grace["user"]["id"]) is not None  # Grace is still connected


def test_hardening_1_a_plain_key_and_a_trailing_slash_still_reach_figma(stack: Stack):
    _, ada = signed_in(stack, user="ada", scopes="current_user:read,file_content:read")
    assert backend(stack).figma(ada["user"]["id"], "GET", "v1/files/AbC123/").status_code == 200
    assert backend(stack).figma(ada["user"]["id"], "GET", "/v1/files/AbC123", params={"depth": "1"}).status_code == 200


def test_hardening_8_a_made_up_session_token_is_forbidden(stack: Stack):
    _, view = signed_in(stack)
    url = f"{stack.api}/connections/{view['user']['id']}"

    forged = httpx.get(url, headers=signed("GET", url, token="FwoGZXIvYXdzEJr//made-up"))

    assert (forged.status_code, forged.json()) == (403, {"message": "Forbidden"})
    assert httpx.get(url, headers=signed("GET", url)).status_code == 200


def test_hardening_8_a_scoped_backend_gets_403_outside_its_iam_policy(stack: Stack, monkeypatch: pytest.MonkeyPatch):
    _, ada = signed_in(stack, user="ada")
    _, grace = signed_in(stack, user="grace")
    ada_id, grace_id = ada["user"]["id"], grace["user"]["id"]
    prefix = "arn:aws:execute-api:us-east-1:000000000000:local/$default"
    policy = {  # the README's one-user policy, for Ada
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": [f"{prefix}/GET/connections/{ada_id}", f"{prefix}/GET/connections/{ada_id}/figma/*"],
            }
        ],
    }
    monkeypatch.setenv("DEVSTACK_IAM_USERS", json.dumps({"scoped": {"secret": "scoped-secret", "policy": policy}}))

    def as_scoped(method: str, path: str) -> int:
        url = f"{stack.api}{path}"
        return httpx.request(method, url, headers=signed(method, url, key="scoped", secret="scoped-secret")).status_code

    assert as_scoped("GET", f"/connections/{ada_id}") == 200
    assert as_scoped("GET", f"/connections/{ada_id}/figma/v1/me") == 200
    assert as_scoped("GET", f"/connections/{grace_id}") == 403
    assert as_scoped("GET", f"/connections/{grace_id}/figma/v1/files/connections/{ada_id}/figma/x") == 403
    assert as_scoped("DELETE", f"/connections/{ada_id}") == 403
    assert as_scoped("POST", f"/connections/{ada_id}/figma/v1/files/K/comments") == 403
    assert connection_item(stack.table, ada_id) is not None


def test_hardening_8_path_parameters_arrive_decoded_and_an_encoded_user_id_names_no_connection(stack: Stack):
    _, view = signed_in(stack)
    user_id = view["user"]["id"]
    encoded = "".join(f"%{ord(ch):02X}" for ch in user_id)  # every character percent-encoded

    _, params = stack.containers.route("GET", f"/connections/{encoded}") or (None, {})
    assert params == {"user_id": user_id}  # as API Gateway puts it in pathParameters

    # The function reads the user from the raw path (Powertools matches rawPath), so an encoded id
    # names nobody: a policy that denies the plain id cannot be side-stepped by encoding it.
    url = f"{stack.api}/connections/{encoded}"
    answer = httpx.get(url, headers=signed("GET", url))
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")


def test_hardening_8_a_doubled_slash_is_not_collapsed_into_a_route(stack: Stack):
    _, view = signed_in(stack)
    url = f"{stack.api}//connections/{view['user']['id']}"
    answer = httpx.get(url, headers=signed("GET", url))
    assert answer.status_code == 404


def test_the_helper_signs_for_the_apis_region_not_boto3s_default(stack: Stack):
    _, view = signed_in(stack)
    session = boto3.session.Session(  # a backend whose AWS default is eu-west-1: every call was a 403
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1"
    )

    assert FigmaAuthBackend(stack.api, session=session).connection(view["user"]["id"])["user"]["id"]
    assert (
        FigmaAuthBackend("https://abc123.execute-api.ap-south-1.amazonaws.com", session=session).region == "ap-south-1"
    )
    with pytest.raises(ValueError, match="pass region="):
        FigmaAuthBackend("https://auth.example.com", session=session)  # a custom domain says no region


def test_a_403_from_api_gateway_says_what_to_check(stack: Stack):
    _, view = signed_in(stack)
    wrong = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="not-the-secret")

    with pytest.raises(FigmaAuthError) as refused:
        FigmaAuthBackend(stack.api, session=wrong).connection(view["user"]["id"])

    assert (refused.value.status, refused.value.error) == (403, "forbidden")
    for hint in ("region it is signed for (us-east-1)", "access key …ting", "IAM policy allows execute-api:Invoke"):
        assert hint in refused.value.message
