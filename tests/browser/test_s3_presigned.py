"""Chromium following the proxy's 303 to a presigned S3 URL, as a cookie-mode app does: a page
on the app's origin fetches the API (another origin) with ``credentials: "include"``; the API
answers 303 to the bucket. The redirect is cross-origin from a cross-origin URL, so Chromium
sends ``Origin: null`` to S3 and reads the body only when S3's CORS answer is exactly right:
the template's rules (the app's origins and ``null``) let it through, rules without ``null``
do not, and a rule for ``*`` does not either (never with credentials). Against the local S3
(devstack/s3_strict.py) in front of moto, as ``make run`` serves it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.s3 import StrictMoto

BODY = '{"answer": "too large for Lambda"}'
PAGE = b"<!doctype html><title>app</title><p>app"
FETCH = """async ({url, headers}) => {
  try {
    const answer = await fetch(url, {credentials: "include", headers});
    return {status: answer.status, body: await answer.text()};
  } catch (error) {
    return {error: String(error)};
  }
}"""


@dataclass
class Api:
    """The app's page (origin ``app``) and an API answering 303 to a presigned URL (origin
    ``api``), with CORS for the app's origin and credentials, as the product's proxy answers."""

    moto: StrictMoto
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.servers = [ThreadingHTTPServer(("127.0.0.1", 0), self._handler()) for _ in range(2)]
        for server in self.servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.app, self.api = (f"http://127.0.0.1:{server.server_address[1]}" for server in self.servers)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's name
                api.seen.append(("OPTIONS", dict(self.headers.items())))
                self.send_response(204)
                self._cors()
                self.send_header("Access-Control-Allow-Methods", "GET")
                self.send_header("Access-Control-Allow-Headers", "authorization")
                self.end_headers()

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/page":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(PAGE)
                    return
                if not self.path.startswith("/answer?"):
                    self.send_error(404)  # the browser's /favicon.ico
                    return
                api.seen.append(("GET", dict(self.headers.items())))
                bucket = parse_qs(urlsplit(self.path).query)["bucket"][0]
                self.send_response(303)
                self._cors()
                self.send_header("Location", api.presign(bucket))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _cors(self) -> None:
                self.send_header("Access-Control-Allow-Origin", api.app)
                self.send_header("Access-Control-Allow-Credentials", "true")

            def log_message(self, *_: Any) -> None:
                pass

        return Handler

    def presign(self, bucket: str) -> str:
        params = {"Bucket": bucket, "Key": "answers/large.json", "ResponseCacheControl": "no-store"}
        return str(self.moto.s3().generate_presigned_url("get_object", Params=params, ExpiresIn=300))

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def moto() -> Iterator[StrictMoto]:
    server = StrictMoto()
    yield server
    server.stop()


@pytest.fixture
def api(moto: StrictMoto) -> Iterator[Api]:
    served = Api(moto)
    yield served
    served.stop()


def bucket_with(moto: StrictMoto, origins: list[str]) -> str:
    name = f"bodies-{uuid.uuid4().hex[:12]}"
    s3 = moto.s3()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="answers/large.json", Body=BODY.encode(), ContentType="application/json")
    rule = {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": origins, "AllowedHeaders": ["*"], "MaxAgeSeconds": 600}
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [rule]})
    return name


def s3_requests(moto: StrictMoto, bucket: str) -> list[tuple[str, dict[str, str]]]:
    """What Chromium sent to the bucket (boto3's own calls left out)."""
    return [
        (seen.method, seen.headers)
        for seen in moto.recorder.seen
        if seen.path.startswith(f"/{bucket}/") and "Chrome" in seen.headers.get("user-agent", "")
    ]


def fetch(page: Any, api: Api, bucket: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    page.goto(f"{api.app}/page")
    return dict(page.evaluate(FETCH, {"url": f"{api.api}/answer?bucket={bucket}", "headers": headers or {}}))


def test_the_body_arrives_through_the_303_when_the_bucket_allows_the_tainted_origin_null(
    page: Any, api: Api, moto: StrictMoto
) -> None:
    bucket = bucket_with(moto, [api.app, "null"])  # template.yaml's rule: the app's origins and null

    result = fetch(page, api, bucket)

    assert result == {"status": 200, "body": BODY}
    [(method, sent)] = s3_requests(moto, bucket)
    assert (method, sent["origin"]) == ("GET", "null")  # Chromium's tainted origin after the redirect
    assert "cookie" not in sent and "authorization" not in sent


@pytest.mark.parametrize("origins", [["APP"], ["*"]], ids=["without-null", "any-origin"])
def test_the_read_is_blocked_when_the_bucket_lacks_null_or_allows_any_origin(
    page: Any, api: Api, moto: StrictMoto, origins: list[str]
) -> None:
    bucket = bucket_with(moto, [api.app if origin == "APP" else origin for origin in origins])

    result = fetch(page, api, bucket)

    assert "error" in result, result  # S3 answered 200; the browser refused the page the body
    assert [method for method, _ in s3_requests(moto, bucket)] == ["GET"]


def test_an_authorization_header_of_the_api_call_is_not_sent_on_to_s3(page: Any, api: Api, moto: StrictMoto) -> None:
    bucket = bucket_with(moto, [api.app, "null"])

    result = fetch(page, api, bucket, {"Authorization": "Bearer the-apps-session-token"})

    assert result == {"status": 200, "body": BODY}
    api_get = next(sent for method, sent in api.seen if method == "GET")
    assert api_get["Authorization"] == "Bearer the-apps-session-token"  # the API got it, after a preflight
    assert [method for method, _ in api.seen] == ["OPTIONS", "GET"]
    [(method, sent)] = s3_requests(moto, bucket)  # no preflight to S3: the redirected GET is simple
    assert (method, sent["origin"]) == ("GET", "null")
    assert "authorization" not in sent
