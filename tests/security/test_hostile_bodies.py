"""Anonymous requests that made 500s (the third outside attack): JSON nested past Python's limit,
a lone surrogate escape where a secret is hashed, a webhook id longer than DynamoDB's key. Each
now gets a 4xx naming what is wrong (the webhook receiver: its usual 200, never a 400 that would
stop a webhook at Figma), and no 5xx to page anyone (`Api5xxAlarm`)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, published

DEEP_LIST = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECT = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
ROUTES = [
    ("POST", "/auth/token"),
    ("POST", "/auth/device"),
    ("POST", "/auth/device/verify"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/webhooks"),
    ("POST", "/auth/jwt"),  # reads no body: answered as without one
    ("POST", "/auth/refresh"),  # likewise
]
READ_NO_BODY = {"/auth/jwt", "/auth/refresh"}


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_OBJECT], ids=["list", "object"])
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[p for _, p in ROUTES])
def test_json_nested_past_pythons_limit_is_a_4xx_never_a_5xx(stack: Stack, method: str, path: str, body: bytes):
    for signed_in in (False, True):
        browser = Browser(origin=stack.api)
        if signed_in:
            sign_in(browser, stack.api, scopes="current_user:read,webhooks:write")
        answer = browser.request(
            method, f"{stack.api}{path}", content=body, headers={"Content-Type": "application/json"}
        )
        refused = 400 <= answer.status_code < 500
        assert refused or (path in READ_NO_BODY and answer.status_code < 300), (path, signed_in, answer.text[:200])
        assert answer.headers["content-type"].startswith(("application/json", "text/html")), answer.headers


@pytest.mark.parametrize("body", [b"\x0c", b" \x0b ", b"\x1c"], ids=["form-feed", "vertical-tab", "separator"])
@pytest.mark.parametrize("path", ["/auth/device", "/auth/token"])
def test_a_body_of_what_python_calls_blank_but_json_does_not_is_invalid_request(stack: Stack, path: str, body: bytes):
    answer = httpx.post(f"{stack.api}{path}", content=body, headers={"Content-Type": "application/json"})

    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_request"), answer.text


@pytest.mark.parametrize(
    "body", [DEEP_LIST, DEEP_OBJECT, b"\xff\xfe\x00", b""], ids=["list", "object", "bytes", "empty"]
)
def test_the_receiver_answers_anything_200_and_publishes_nothing(stack: Stack, body: bytes):
    answer = httpx.post(f"{stack.api}/webhooks/figma", content=body, headers={"Content-Type": "application/json"})

    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert published(stack) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"passcode": "\ud800"},
        {"passcode": "\udfff" * 50},
        {"webhook_id": "é" * 1024},  # over DynamoDB's 2,048-byte key
        {"webhook_id": "9" * 5000},
        {"webhook_id": 12345678901234567890},
        {"event_type": "\ud800"},
        {"timestamp": "\ud800"},
    ],
)
def test_a_delivery_with_a_lone_surrogate_or_an_oversized_id_is_answered_200(stack: Stack, fields: dict[str, object]):
    payload = {"webhook_id": "1", "passcode": "p" * 43, "event_type": "FILE_UPDATE", "timestamp": "t", **fields}

    answer = httpx.post(
        f"{stack.api}/webhooks/figma",
        content=json.dumps(payload).encode(),  # ensure_ascii: the surrogate travels as a \\ud800 escape
        headers={"Content-Type": "application/json"},
    )

    assert (answer.status_code, answer.json()) == (200, {"ok": True})


def test_a_lone_surrogate_in_the_verify_pages_csrf_is_a_4xx(stack: Stack):
    browser = Browser(origin=stack.api)
    form = browser.get(f"{stack.api}/auth/device/verify")
    assert form.status_code == 200

    for body, kind in (
        (json.dumps({"user_code": "ABCD-EFGH", "csrf": "\ud800"}).encode(), "application/json"),
        (b"user_code=ABCD-EFGH&csrf=%ED%A0%80", "application/x-www-form-urlencoded"),
    ):
        answer = browser.post(f"{stack.api}/auth/device/verify", content=body, headers={"Content-Type": kind})
        assert 400 <= answer.status_code < 500, (kind, answer.status_code, answer.text[:300])


@pytest.mark.parametrize("webhook_id", ["é" * 1024, "x" * 3000, "%00"])
def test_deleting_a_webhook_id_no_webhook_can_have_is_not_found(stack: Stack, webhook_id: str):
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, scopes="current_user:read,webhooks:write")

    answer = browser.delete(f"{stack.api}/auth/webhooks/{webhook_id}")

    assert answer.status_code == 404 and answer.json()["error"] == "not_found", answer.text[:200]
