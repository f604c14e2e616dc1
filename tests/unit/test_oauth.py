"""Pure protocol helpers: state, PKCE, the return-URL allowlist, scopes, Figma's answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest

from figma_auth import oauth, times, tokens, urls
from figma_auth.errors import FigmaError, InvalidRedirect, InvalidScope

ALLOWED = ("https://app.example.com", "http://127.0.0.1:5173", "http://localhost:5173")
NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def test_pkce_challenge_matches_rfc_7636_appendix_b() -> None:
    assert oauth.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_random_tokens_carry_256_bits_and_never_repeat() -> None:
    drawn = {tokens.random_token() for _ in range(1000)}
    assert len(drawn) == 1000
    assert all(len(t) == 43 and tokens.is_url_safe_token(t, min_len=43, max_len=43) for t in drawn)


def test_derived_values_differ_by_purpose_and_secret() -> None:
    assert tokens.derive("s1", "pkce:x") != tokens.derive("s1", "binding:x")
    assert tokens.derive("s1", "pkce:x") != tokens.derive("s2", "pkce:x")
    assert tokens.derive("s1", "pkce:x") == tokens.derive("s1", "pkce:x")


def test_a_derived_verifier_is_a_valid_pkce_verifier() -> None:
    verifier = tokens.derive(tokens.random_token(), "pkce:state")
    assert 43 <= len(verifier) <= 128 and tokens.is_url_safe_token(verifier, min_len=43, max_len=128)


@pytest.mark.parametrize(
    "url",
    [
        "https://app.example.com/",
        "https://app.example.com/after/login?x=1#/route",
        "https://APP.example.com:443/path",
        "http://127.0.0.1:5173/",
        "http://localhost:5173/cb",
    ],
)
def test_return_urls_on_an_allowed_origin_pass(url: str) -> None:
    assert urls.validate_return_url(url, ALLOWED) == url


OPEN_REDIRECT_CORPUS = [
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "https:/evil.example",
    "https:evil.example",
    "https://app.example.com@evil.example/",
    "https://evil.example@app.example.com/",
    "https://user:pass@app.example.com/",
    "https://app.example.com.evil.example/",
    "https://evil-app.example.com/",
    "https://app.example.community/",
    "https://app.example.com:8443/",
    "http://app.example.com/",
    "http://127.0.0.1:5174/",
    "http://127.0.0.1/",
    "https://app.exаmple.com/",  # Cyrillic 'а'
    "https://xn--app-example-com/",
    "https://app.example.com\t.evil.example/",
    "https://app.example.com\r\n.evil.example/",
    "https://app.example.com%2f.evil.example/",
    "https://app.example.com%2F@evil.example/",
    " https://app.example.com/",
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "javascript://app.example.com/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://app.example.com/",
    "/relative/path",
    "app.example.com/path",
    "",
    "https://",
    "https://app.example.com:99999/",
    "https://app.example.com[",
    "https://app.example.com:/",
    "https://[app.example.com/",
    "https://[::1]:5173/",
    "https://app.example.com/" + "a" * 3000,
]


@pytest.mark.parametrize("url", OPEN_REDIRECT_CORPUS)
def test_open_redirect_corpus_is_rejected(url: str) -> None:
    with pytest.raises(InvalidRedirect):
        urls.validate_return_url(url, ALLOWED)


@pytest.mark.parametrize("value", [None, 42, ["https://app.example.com/"], {"u": 1}])
def test_non_string_return_urls_are_rejected(value: object) -> None:
    with pytest.raises(InvalidRedirect):
        urls.validate_return_url(value, ALLOWED)


def test_origins_normalise_case_and_default_ports() -> None:
    assert urls.normalise_origin("HTTPS://App.Example.com:443") == "https://app.example.com"
    assert urls.normalise_origin("http://localhost:5173/") == "http://localhost:5173"
    for bad in ("https://app.example.com/path", "*", "null", "https://*.example.com"):
        with pytest.raises(InvalidRedirect):
            urls.normalise_origin(bad)


def test_scopes_accept_commas_and_spaces_and_drop_duplicates() -> None:
    assert oauth.parse_scopes("current_user:read, file_content:read current_user:read") == [
        "current_user:read",
        "file_content:read",
    ]


@pytest.mark.parametrize("raw", ["", "  ", "file_read", "current_user:read,admin", "files:write", "x" * 2000])
def test_unknown_or_empty_scopes_are_invalid_scope(raw: str) -> None:
    with pytest.raises(InvalidScope):
        oauth.parse_scopes(raw)


def test_authorize_url_carries_the_oauth_parameters_and_keeps_existing_query() -> None:
    url = oauth.authorize_url(
        auth_url="https://www.figma.com/oauth?x=1",
        client_id="cid",
        redirect_uri="https://api.example.com/auth/figma/callback",
        scopes=["current_user:read"],
        state="S",
        code_challenge="C",
    )
    q = parse_qsl(url.split("?", 1)[1])
    assert dict(q) == {
        "x": "1",
        "client_id": "cid",
        "redirect_uri": "https://api.example.com/auth/figma/callback",
        "scope": "current_user:read",
        "state": "S",
        "response_type": "code",
        "code_challenge": "C",
        "code_challenge_method": "S256",
    }


def test_append_query_puts_parameters_before_the_fragment() -> None:
    assert urls.append_query("https://a.example/p?x=1#/r", {"error": "access_denied"}) == (
        "https://a.example/p?x=1&error=access_denied#/r"
    )
    assert urls.append_query("https://a.example/p?error=old", {"error": "new"}) == "https://a.example/p?error=new"


def test_token_response_becomes_a_grant_with_absolute_expiry() -> None:
    grant = oauth.parse_token_response(
        {"access_token": "figu_a", "refresh_token": "figr_b", "expires_in": 7776000, "user_id": 1},
        now=NOW,
        scopes=["current_user:read"],
    )
    assert grant.expires_at == NOW + timedelta(days=90)
    assert grant.scopes == ("current_user:read",)
    assert "figu_a" not in repr(grant) and "figr_b" not in repr(grant)
    assert grant.expires_within(91 * 86400, NOW) and not grant.expires_within(89 * 86400, NOW)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {},
        {"access_token": "a"},
        {"access_token": "a", "refresh_token": "b"},
        {"access_token": "a", "refresh_token": "b", "expires_in": -5},
        {"access_token": "a", "refresh_token": "b", "expires_in": 0},
        {"access_token": "a", "refresh_token": "b", "expires_in": "3600"},
        {"access_token": "a", "refresh_token": "b", "expires_in": True},
        {"access_token": "a", "refresh_token": "b", "expires_in": 10**12},
        {"access_token": "", "refresh_token": "b", "expires_in": 60},
        {"access_token": "a b", "refresh_token": "b", "expires_in": 60},
        {"access_token": 5, "refresh_token": "b", "expires_in": 60},
        {"access_token": "a" * 5000, "refresh_token": "b", "expires_in": 60},
    ],
)
def test_malformed_token_responses_are_rejected_closed(body: object) -> None:
    with pytest.raises(FigmaError):
        oauth.parse_token_response(body, now=NOW, scopes=[])


def test_refresh_without_a_new_refresh_token_keeps_the_old_one() -> None:
    old = oauth.FigmaGrant("figu_old", "figr_keep", NOW, ("current_user:read",))
    new = oauth.parse_refresh_response({"access_token": "figu_new", "expires_in": 3600}, now=NOW, previous=old)
    assert (new.access_token, new.refresh_token, new.scopes) == ("figu_new", "figr_keep", old.scopes)
    assert new.expires_at == NOW + timedelta(hours=1)


def test_refresh_with_a_new_refresh_token_stores_it() -> None:
    old = oauth.FigmaGrant("figu_old", "figr_old", NOW)
    new = oauth.parse_refresh_response(
        {"access_token": "figu_new", "refresh_token": "figr_new", "expires_in": 60}, now=NOW, previous=old
    )
    assert new.refresh_token == "figr_new"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"error": "invalid_grant", "error_description": "revoked"}, "invalid_grant"),
        ({"error": True, "status": 400, "message": "Invalid refresh token", "i18n": None}, "invalid_token"),
        ({"status": 403, "err": "Invalid token"}, "invalid_token"),
        ({"error": "invalid_client"}, "invalid_client"),
        ({"status": 400, "err": "Invalid request"}, None),
        ({"status": 500, "err": "Internal error"}, None),
        ("not a dict", None),
    ],
)
def test_figma_errors_are_read_in_all_three_shapes(body: object, code: str | None) -> None:
    assert oauth.figma_error_code(body) == code


def test_iso_times_are_utc_with_z_and_round_trip() -> None:
    assert times.iso(NOW) == "2026-11-28T14:00:00Z"
    assert times.parse_iso("2026-11-28T14:00:00Z") == NOW


@pytest.mark.parametrize("value", ["A" * 43 + "\n", "A" * 42 + "\n"])
def test_a_trailing_newline_never_passes_as_a_token(value: str) -> None:
    assert not tokens.is_url_safe_token(value, min_len=42, max_len=44)


def test_a_token_response_with_a_trailing_newline_is_rejected() -> None:
    with pytest.raises(FigmaError):
        oauth.parse_token_response(
            {"access_token": "figu_a\n", "refresh_token": "figr_b", "expires_in": 60}, now=NOW, scopes=[]
        )


def test_a_proxy_segment_with_a_trailing_newline_is_invalid_path() -> None:
    from figma_auth.errors import InvalidPath
    from figma_auth.usecases.proxy import proxy_path

    with pytest.raises(InvalidPath):
        proxy_path("v1/files/abc\n")


def test_the_deprecated_files_read_scope_is_invalid_scope_naming_the_granular_ones() -> None:
    from figma_auth.errors import InvalidScope

    with pytest.raises(InvalidScope) as refused:
        oauth.parse_scopes("current_user:read,files:read")

    assert "deprecated" in refused.value.message and "file_content:read" in refused.value.message
