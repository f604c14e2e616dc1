"""Boundaries and words the other unit tests leave loose, each pinned where a mutant showed
it loose (`make mutate`): lengths at their limits, messages as the contract words them, the
arguments a use case hands its store and engine, and times in a process whose zone is not UTC."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth import oauth, times
from figma_auth.errors import FigmaError, InvalidPath, InvalidRedirect, InvalidRequest, InvalidScope, NotFound
from figma_auth.models import AuthorizeQuery, DeviceRequest
from figma_auth.records import Connection, RateLimit
from figma_auth.settings import Settings
from figma_auth.urls import validate_return_url
from figma_auth.usecases.authorize import StartSignIn
from figma_auth.usecases.device import network_of
from figma_auth.usecases.proxy import proxy_path, proxy_query
from tests.unit.test_settings import GOOD


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_utc_whatever_the_process_zone(new_york: Any) -> None:
    assert times.utcnow().tzinfo is UTC
    moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert times.iso(moment) == "2026-12-01T12:00:00Z"
    assert times.parse_iso("2026-12-01T12:00:00Z") == moment and times.parse_iso("2026-12-01T12:00:00Z").tzinfo is UTC


def test_parse_iso_reads_an_offset_too() -> None:
    assert times.parse_iso("2026-12-01T07:00:00-05:00") == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_scopes_longer_than_1024_characters_are_refused_in_words() -> None:
    padded = "current_user:read" + " " * (1024 - len("current_user:read"))
    assert oauth.parse_scopes(padded) == ["current_user:read"]
    with pytest.raises(InvalidScope) as refused:
        oauth.parse_scopes(padded + " ")
    assert refused.value.message == "scopes is too long"
    with pytest.raises(InvalidScope) as deprecated:
        oauth.parse_scopes("files:read")
    assert deprecated.value.message.endswith(
        "granular scopes you need instead: file_content:read, file_metadata:read, file_versions:read, "
        "file_comments:read, file_dev_resources:read, library_content:read"
    )


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"err": "Invalid_Grant: the refresh token was revoked"}, "invalid_grant"),
        ({"err": "invalid_token"}, "invalid_token"),
        ({"error": True, "message": "INVALID_CLIENT"}, "invalid_client"),
        ({"err": "something else"}, None),
    ],
)
def test_figmas_error_code_is_read_from_its_message_shapes(body: dict[str, Any], code: str | None) -> None:
    assert oauth.figma_error_code(body) == code


def test_a_refresh_answer_without_an_access_token_names_the_field() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    previous = oauth.FigmaGrant("a", "r", now, ("current_user:read",))
    with pytest.raises(FigmaError) as refused:
        oauth.parse_refresh_response({"expires_in": 60}, now=now, previous=previous)
    assert refused.value.message == "Figma's response has no valid access_token"


def test_exact_redirect_urls_are_checked_by_path_and_a_bare_origin_is_its_root() -> None:
    exact = ("https://app.example.com/", "https://app.example.com/done")
    assert validate_return_url("https://app.example.com", ("https://app.example.com",), exact)
    assert validate_return_url("https://app.example.com/done", ("https://app.example.com",), exact)
    with pytest.raises(InvalidRedirect) as refused:
        validate_return_url("https://app.example.com/other", ("https://app.example.com",), exact)
    assert refused.value.message == "https://app.example.com/other is not in ALLOWED_REDIRECT_URLS"
    with pytest.raises(InvalidRedirect) as bare:
        validate_return_url("https://app.example.com", ("https://app.example.com",), ("https://app.example.com/done",))
    assert bare.value.message == "https://app.example.com/ is not in ALLOWED_REDIRECT_URLS"  # named as its root


def test_authorize_checks_both_return_urls_against_allowed_redirect_urls() -> None:
    settings = Settings.from_env({**GOOD, "ALLOWED_REDIRECT_URLS": "https://app.example.com/ok"})
    login = StartSignIn(settings=settings, store=None, authenticate=None, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    for success, failure in (
        ("https://app.example.com/elsewhere", "https://app.example.com/ok"),
        ("https://app.example.com/ok", "https://app.example.com/elsewhere"),
    ):
        with pytest.raises(InvalidRedirect):
            login.start(AuthorizeQuery(success=success, failure=failure), callback_url="https://api.example.com/cb")
    with pytest.raises(InvalidRequest) as refused:
        login.start(
            AuthorizeQuery(success="https://app.example.com/ok", failure="https://app.example.com/ok", mode="token"),
            callback_url="https://api.example.com/cb",
        )
    assert refused.value.message == "token mode needs code_challenge: the S256 challenge (43 chars) of your verifier"


def test_proxy_paths_up_to_1024_characters_pass_and_v1_oauth_itself_is_refused() -> None:
    exactly = "v1/" + "/".join(["a" * 203] * 5)  # 3 + 5 × 203 + 4 = 1022
    exactly += "/b"  # 1024
    assert len(exactly) == 1024 and proxy_path(exactly) == "/" + exactly
    with pytest.raises(InvalidPath):
        proxy_path(exactly + "c")
    with pytest.raises(InvalidPath) as oauth_root:
        proxy_path("v1/oauth")
    assert oauth_root.value.message == "Figma's OAuth endpoints cannot be called through the proxy."


def test_the_query_refusal_in_words() -> None:
    with pytest.raises(InvalidRequest) as refused:
        proxy_query("a b")
    assert refused.value.message == "the query string has characters a URL cannot carry; percent-encode them"


def test_the_ipv6_network_is_the_64() -> None:
    assert network_of("2001:db8::1") == network_of("2001:db8:0:0:ffff::1")  # the same /64
    assert network_of("2001:db8:0:1::1") != network_of("2001:db8::1")  # another /64
    assert network_of("2001:db8::8000:0:0:1") == network_of("2001:db8::1")  # bit 65 set: still the same /64


def test_device_scope_or_scopes_alone_is_what_is_asked_for_and_a_mismatch_is_refused_in_words() -> None:
    from tests.support.fakes import Devices
    from tests.unit.test_device_signin import started

    store, clock = Devices(), [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]
    started(store, clock, scopes="file_content:read")
    started(store, clock, scope="file_comments:read")
    first, second = store.devices.values()
    assert first.scopes == ("current_user:read", "file_content:read")
    assert second.scopes == ("current_user:read", "file_comments:read")
    with pytest.raises(InvalidRequest) as refused:
        started(store, clock, scope="file_content:read", scopes="file_comments:read")
    assert refused.value.message == "scope and scopes name different scopes: send one of them"
    assert DeviceRequest(scopes="x").scope is None


def test_a_recorded_limit_is_written_for_its_connection_at_the_clocks_time() -> None:
    from figma_auth.figma import ProxyResponse
    from figma_auth.figma_tiers import Classified
    from figma_auth.usecases.rate_limits import RateLimitLedger
    from tests.unit.test_rate_limit_ledger import NOW, connection

    written: list[tuple[Connection, RateLimit, datetime]] = []

    class Store:
        def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
            written.append((conn, limit, now))
            return True

    ledger = RateLimitLedger(store=Store(), publish=lambda t, d: None, clock=lambda: NOW)
    conn = connection()
    ledger.remember(conn, Classified(1, "user"), ProxyResponse(429, b"{}", "application/json", {"Retry-After": "9"}))
    ((got_conn, limit, now),) = written
    assert got_conn is conn and now == NOW and limit.until == NOW + timedelta(seconds=9)


def test_no_connection_and_no_jwts_say_so() -> None:
    from figma_auth.usecases.connections import NO_CONNECTION, checked_user_id
    from tests.unit.test_webhooks import Backend, backend

    with pytest.raises(NotFound) as missing:
        backend(Backend()).disconnect("nobody")
    assert missing.value.message == NO_CONNECTION == "No Figma connection for this user."
    with pytest.raises(NotFound) as bad:
        checked_user_id("")
    assert bad.value.message == NO_CONNECTION


def test_the_backend_view_shows_the_connection_the_refresh_returned() -> None:
    from tests.unit.test_proxy_and_sessions import Narrowing
    from tests.unit.test_webhooks import USER, Backend, backend, connection

    store = Backend(
        connections={USER: replace(connection(), grant_expires_at=datetime(2026, 12, 1, 12, 1, tzinfo=UTC))}
    )
    shown = backend(store, Narrowing()).view(USER)  # type: ignore[arg-type]
    assert shown.provider.scopes == ["current_user:read"]


def test_b64url_keeps_a_trailing_x_and_drops_only_padding() -> None:
    from figma_auth.tokens import b64url

    assert b64url(b"\x00\x00\x17") == "AAAX" and b64url(b"\x00\x00\x17\x00") == "AAAXAA"


def test_a_user_code_with_x_and_z_reads_back() -> None:
    from figma_auth.tokens import parse_user_code

    assert parse_user_code("bcdx-zxzx") == "BCDXZXZX" and parse_user_code("XXXX XXXX") == "XXXXXXXX"


def test_a_request_without_a_deadline_is_unbounded() -> None:
    from figma_auth import deadline

    token = deadline.start(None, clock=lambda: 100.0)
    try:
        assert deadline.left(clock=lambda: 100.0) is None and deadline.bounded(10.0, clock=lambda: 100.0) == 10.0
    finally:
        deadline.finish(token)


def test_the_discovery_document_says_id_tokens_and_public_subjects_and_without_jwts_why_not() -> None:
    from figma_auth.usecases.discovery import Discovery

    doc = Discovery(scopes=("current_user:read",), jwts=True).openid_configuration("https://api.example.com")
    assert (doc.response_types_supported, doc.subject_types_supported) == (["id_token"], ["public"])
    with pytest.raises(NotFound) as off:
        Discovery(scopes=(), jwts=False).openid_configuration("https://api.example.com")
    assert off.value.message == "JWTs are not enabled on this deployment: set JWT_KEY_ID to a KMS ECC_NIST_P256 key."


def test_a_one_character_proxy_path_is_refused_as_no_figma_api_path_in_words() -> None:
    with pytest.raises(InvalidPath) as refused:
        proxy_path("v")
    assert refused.value.message == "Only Figma API paths are allowed: /figma/v1/… or /figma/v2/…"


def test_an_empty_proxy_path_is_the_plain_invalid_path() -> None:
    with pytest.raises(InvalidPath) as refused:
        proxy_path("")
    assert refused.value.message == InvalidPath.default_message


@pytest.mark.parametrize("field", ["webhook_id", "passcode", "event_type", "timestamp"])
def test_an_empty_delivery_field_is_malformed(field: str) -> None:
    from tests.unit.test_webhook_delivery import payload, world

    receive, _, events = world()
    assert receive(payload(**{field: ""})) == "malformed" and events == []


def test_a_jwt_carries_the_users_name_email_and_picture_and_none_without_a_key() -> None:
    from figma_auth.credentials import Credentials
    from figma_auth.records import Current, Profile, Session
    from figma_auth.usecases.discovery import NO_JWTS
    from figma_auth.usecases.jwts import AppJwts

    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    signed: list[dict[str, Any]] = []

    class Signer:
        def sign(self, body: Any) -> str:
            signed.append(dict(body))
            return "a.b.c"

        def jwks(self) -> dict[str, Any]:
            return {"keys": []}

    conn = Connection("u1", Profile("Ada", "ada@example.com", "https://img/ada.png"), ("current_user:read",))
    current = Current(Session("sid", "u1", now, now + timedelta(days=1)), conn)
    jwts = AppJwts(signer=Signer(), authenticate=lambda c: current, audience="api", ttl_seconds=900, clock=lambda: now)
    assert jwts.create(Credentials("t", "cookie"), issuer="https://i").jwt == "a.b.c"
    ((body,),) = [signed]
    assert (body["name"], body["email"], body["picture"]) == ("Ada", "ada@example.com", "https://img/ada.png")
    off = AppJwts(signer=None, authenticate=lambda c: current, audience="api", ttl_seconds=900, clock=lambda: now)
    for call in (lambda: off.jwks(), lambda: off.create(Credentials("t", "cookie"), issuer="https://i")):
        with pytest.raises(NotFound) as refused:
            call()
        assert refused.value.message == NO_JWTS


def test_a_missing_connection_is_not_found_in_words() -> None:
    from figma_auth.usecases.connections import NO_CONNECTION, connection_of
    from tests.support.fakes import WebhookStore

    with pytest.raises(NotFound) as missing:
        connection_of(WebhookStore(), "nobody")
    assert missing.value.message == NO_CONNECTION


def test_an_opened_grants_data_key_is_cached_for_the_next_open() -> None:
    import boto3
    from moto import mock_aws

    from figma_auth.vault import DataKeyCache, Vault, grant_context

    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        box = Vault(kms=lambda: kms, key_id=key, cache=DataKeyCache(max_entries=0)).seal(
            {"a": "b"}, grant_context("u1")
        )
        decrypts: list[int] = []

        class Counting:
            exceptions = kms.exceptions

            def decrypt(self, **kwargs: Any) -> Any:
                decrypts.append(1)
                return kms.decrypt(**kwargs)

        vault = Vault(kms=lambda: Counting(), key_id=key)  # type: ignore[arg-type,return-value]
        assert vault.open(box, grant_context("u1")) == {"a": "b"} == vault.open(box, grant_context("u1"))
        assert decrypts == [1]  # the second open used the cached data key


def test_the_data_key_cache_keeps_1024_keys_for_5_minutes_by_default() -> None:
    from figma_auth.vault import DataKeyCache

    cache = DataKeyCache()
    assert (cache.max_entries, cache.max_age) == (1024, 300.0)  # docs/ARCHITECTURE.md's numbers
