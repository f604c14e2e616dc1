"""Any size through the proxy: gzip passed through as Figma sent it to a caller that takes it,
an answer too large for Lambda's 6 MB streamed to S3 and answered 303 to a presigned URL (for the
browser's /figma/… and the backend's /connections/{id}/figma/… alike), and response_too_large
only above PROXY_MAX_BYTES."""

from __future__ import annotations

import gzip
import json
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.backend_client import backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack

HUGE = "HUGE"  # the emulator's file over Lambda's 6 MB (uncompressed)


def signed_in(stack: Stack, scopes: str = "current_user:read,file_content:read") -> Browser:
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=scopes).status_code == 303
    return browser


def test_an_answer_over_lambdas_limit_is_a_303_to_a_presigned_url_that_holds_it_whole(stack: Stack):
    user = signed_in(stack)
    response = user.get(f"{stack.api}/figma/v1/files/{HUGE}", headers={"Accept-Encoding": "identity"})

    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    location = response.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert int(query["X-Amz-Expires"][0]) <= 300 and "X-Amz-Signature" in query
    stored = httpx.get(location)
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("application/json")
    assert len(stored.content) > 6 * 1024 * 1024
    assert json.loads(stored.content)["name"]


def test_the_backend_gets_a_large_answer_through_the_python_helper_transparently(stack: Stack):
    ada = signed_in(stack)
    user_id = ada.get(f"{stack.api}/auth/session").json()["user"]["id"]
    helper = backend(stack)
    helper.http.headers["Accept-Encoding"] = "identity"  # no gzip: the decoded body is over 6 MB

    answer = helper.figma(user_id, "GET", f"/v1/files/{HUGE}")

    assert answer.status_code == 200 and len(answer.content) > 6 * 1024 * 1024
    assert json.loads(answer.content)["name"]


def test_over_proxy_max_bytes_is_response_too_large_with_advice(stack: Stack, reconfigure):  # type: ignore[no-untyped-def]
    reconfigure(PROXY_MAX_BYTES=str(1024 * 1024))
    user = signed_in(stack)

    response = user.get(f"{stack.api}/figma/v1/files/{HUGE}", headers={"Accept-Encoding": "identity"})

    assert response.status_code == 502 and response.json()["error"] == "response_too_large"
    assert "PROXY_MAX_BYTES" in response.json()["message"] and "depth" in response.json()["message"]


def test_a_small_answer_is_held_in_the_response_compressed_or_not(stack: Stack):
    user = signed_in(stack)
    plain = user.get(f"{stack.api}/figma/v1/files/AbC123", headers={"Accept-Encoding": "identity"})
    packed = user.get(f"{stack.api}/figma/v1/files/AbC123", headers={"Accept-Encoding": "gzip"})

    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert json.loads(plain.content) == json.loads(packed.content)


def test_a_caller_that_takes_gzip_gets_figmas_compressed_bytes_as_they_came(stack: Stack):
    user = signed_in(stack)
    response = user.get(f"{stack.api}/figma/v1/files/{HUGE}", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    document = json.loads(response.content)  # httpx decodes it: the JSON is whole
    assert len(response.content) > 6 * 1024 * 1024 and document["name"]
    assert "Accept-Encoding" in response.headers["vary"]


def test_gzip_bytes_are_never_decoded_on_the_way(stack: Stack):
    user = signed_in(stack)
    cookie = "; ".join(f"{k}={v}" for k, v in user.jar(stack.api).items())
    headers = {"Accept-Encoding": "gzip", "Cookie": cookie}
    with user.http.stream("GET", f"{stack.api}/figma/v1/files/{HUGE}", headers=headers) as response:
        raw = b"".join(response.iter_raw())

    assert response.headers["content-encoding"] == "gzip"
    assert len(raw) < 1024 * 1024  # what went over the wire is the compressed form
    assert len(gzip.decompress(raw)) > 6 * 1024 * 1024


def test_curl_dash_l_gets_the_whole_answer(stack: Stack, tmp_path):  # type: ignore[no-untyped-def]
    import subprocess

    user = signed_in(stack)
    cookie = "; ".join(f"{k}={v}" for k, v in user.jar(stack.api).items())
    out = tmp_path / "file.json"

    done = subprocess.run(
        [
            "curl",
            "-sSL",
            "-o",
            str(out),
            "-w",
            "%{http_code} %{num_redirects}",
            "-b",
            cookie,
            f"{stack.api}/figma/v1/files/{HUGE}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.stdout == "200 1", done.stderr  # through the 303, to S3
    assert out.stat().st_size > 6 * 1024 * 1024 and json.loads(out.read_bytes())["name"]
