"""The pure protocol helpers, value by value: known vectors for hashing and derivation, every
boundary the code states (lengths, ranges), and each refusal's message (the message is the
contract's "says what to fix"). Written against the survivors of `make mutate`."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth import oauth, tokens, urls
from figma_auth.errors import FigmaError, InvalidRedirect, InvalidScope
from figma_auth.urls import validate_return_url

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ALLOWED = ["https://app.example.com", "http://127.0.0.1:5173"]

# -- tokens -------------------------------------------------------------------------------------


def test_hashing_and_derivation_match_known_vectors() -> None:
    assert tokens.hash_secret("abc") == "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"  # SHA-256, base64url
    assert tokens.derive("key", "purpose") == "DrLquvVsPgUfJm6bI7pNKdAWOdVTucxnA5KUsAWUs0s"  # HMAC-SHA256
    assert tokens.derive("key", "other") != tokens.derive("key", "purpose") != tokens.derive("kez", "purpose")
    assert tokens.b64url(b"\xfb\xff") == "-_8"  # URL-safe alphabet, no padding
    # RFC 7636 appendix B
    assert (
        oauth.pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_random_tokens_are_43_url_safe_characters_and_never_repeat() -> None:
    made = {tokens.random_token() for _ in range(50)}
    assert len(made) == 50
    assert all(tokens.is_url_safe_token(t, min_len=43, max_len=43) for t in made)
    assert len(tokens.random_token(16)) == 22


def test_user_codes_are_eight_consonants_shown_as_two_fours() -> None:
    code = tokens.new_user_code()
    assert len(code) == 8 and set(code) <= set(tokens.USER_CODE_ALPHABET)
    assert tokens.show_user_code("BCDFGHJK") == "BCDF-GHJK"


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("BCDF-GHJK", "BCDFGHJK"),
        ("bcdf ghjk", "BCDFGHJK"),
        (" bcdfghjk ", "BCDFGHJK"),
        ("BCDF-GHJ", None),  # seven
        ("BCDF-GHJKL", None),  # nine
        ("BCDF-GHJA", None),  # a vowel: not in the alphabet
        ("BCDF_GHJK", None),
        ("", None),
    ],
)
def test_a_typed_user_code_is_read_forgivingly_or_not_at_all(typed: str, parsed: str | None) -> None:
    assert tokens.parse_user_code(typed) == parsed


def test_constant_time_equal_compares_the_whole_text() -> None:
    assert tokens.constant_time_equal("abc", "abc")
    assert not tokens.constant_time_equal("abc", "abd")
    assert not tokens.constant_time_equal("abc", "abcd")
    assert tokens.constant_time_equal("é", "é") and not tokens.constant_time_equal("é", "e")


def test_a_session_token_names_its_user_whatever_the_length_of_the_id() -> None:
    """Every id length from 1 to MAX_USER_ID, so the prefix's base64 length takes every value its
    padding arithmetic must handle (a 7-byte id's 10 characters need two "=", not zero)."""
    for length in range(1, tokens.MAX_USER_ID + 1):
        user_id = "7" * length
        assert tokens.user_of_token(tokens.new_session_token(user_id)) == user_id, length


def test_a_session_token_names_its_user_and_nothing_else_parses() -> None:
    token = tokens.new_session_token("1143925780461227139")
    assert tokens.user_of_token(token) == "1143925780461227139"
    assert tokens.user_of_token(tokens.new_session_token("7")) == "7"  # a one-character id
    longest = "9" * tokens.MAX_USER_ID
    assert tokens.user_of_token(tokens.new_session_token(longest)) == longest
    secret = token.partition(".")[2]
    not_utf8 = base64.urlsafe_b64encode(bytes([0xFF])).decode().rstrip("=")
    unprintable = base64.urlsafe_b64encode(b"a" + bytes([10]) + b"b").decode().rstrip("=")
    too_long = base64.urlsafe_b64encode(b"9" * (tokens.MAX_USER_ID + 1)).decode().rstrip("=")
    for bad in (
        secret,  # no user part
        f"{token}.x",  # a second dot
        f"{token[:-1]}",  # a 42-character secret
        f"{too_long}.{secret}",
        f".{secret}",
        f"!!.{secret}",
        f"{not_utf8}.{secret}",  # not UTF-8
        f"{unprintable}.{secret}",  # not printable
    ):
        assert tokens.user_of_token(bad) is None, bad


def test_b64url_keeps_a_trailing_x_and_drops_only_padding() -> None:
    from figma_auth.tokens import b64url

    assert b64url(b"\x00\x00\x17") == "AAAX" and b64url(b"\x00\x00\x17\x00") == "AAAXAA"


def test_a_user_code_with_x_and_z_reads_back() -> None:
    from figma_auth.tokens import parse_user_code

    assert parse_user_code("bcdx-zxzx") == "BCDXZXZX" and parse_user_code("XXXX XXXX") == "XXXXXXXX"


# -- return URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "success and failure must be absolute URLs on an allowed origin"),
        ("https://app.example.com/" + "a" * 1001, "success and failure may be 1024 characters at most"),
        ("https://app.example.com/a b", "URL contains whitespace, control or non-ASCII characters"),
        ("https://app.example.com/\x7f", "URL contains whitespace, control or non-ASCII characters"),
        ("https://app.example.com/é", "URL contains whitespace, control or non-ASCII characters"),
        ("https://app.example.com\\@evil.example", "URL contains a backslash"),
        ("https://[app.example.com", "URL is malformed"),
        ("javascript:alert(1)", "URL must be http or https"),
        ("https:app.example.com", "URL must be absolute"),
        ("https://user@app.example.com/", "URL must not contain userinfo"),
        ("https:///path", "URL must not contain userinfo"),
        ("http://[::1]evil.com/", "URL host is malformed"),
        ("https://[v1.example.com]/", "URL host is malformed"),
        ("https://app.example.com:/", "URL has an empty port"),
        ("https://app_example.com/", "URL host is not a valid hostname"),
        ("https://app.example.com:99999/", "URL port is invalid"),
        ("https://evil.example/", "https://evil.example is not in ALLOWED_ORIGINS"),
        ("http://app.example.com/", "http://app.example.com is not in ALLOWED_ORIGINS"),
    ],
)
def test_each_refused_return_url_says_why(url: str, message: str) -> None:
    with pytest.raises(InvalidRedirect) as refused:
        urls.validate_return_url(url, ALLOWED)
    assert refused.value.message == message


def test_the_length_limits_are_inclusive() -> None:
    base = "https://app.example.com/"
    assert urls.validate_return_url(base + "a" * (1024 - len(base)), ALLOWED)
    with pytest.raises(InvalidRedirect):
        urls.validate_return_url(base + "a" * (1025 - len(base)), ALLOWED)
    assert urls.origin_of_url(base + "a" * (urls.MAX_URL_LENGTH - len(base))) == "https://app.example.com"
    with pytest.raises(InvalidRedirect) as refused:
        urls.origin_of_url(base + "a" * (urls.MAX_URL_LENGTH + 1 - len(base)))
    assert refused.value.message == "URL is too long"


def test_visible_ascii_is_accepted_in_a_return_url() -> None:
    url = "https://app.example.com/!$&'()*+,;=~-_.%20?a=b&c=#frag"
    assert urls.validate_return_url(url, ALLOWED) == url
    assert urls.validate_return_url("HTTPS://APP.example.com:443/x", ALLOWED) == "HTTPS://APP.example.com:443/x"


def test_exact_redirect_urls_compare_origin_and_path() -> None:
    exact = [urls.exact_redirect("https://app.example.com/done")]
    assert exact == ["https://app.example.com/done"]
    assert urls.validate_return_url("https://app.example.com/done?x=1", ALLOWED, exact)
    with pytest.raises(InvalidRedirect) as refused:
        urls.validate_return_url("https://app.example.com/other", ALLOWED, exact)
    assert refused.value.message == "https://app.example.com/other is not in ALLOWED_REDIRECT_URLS"
    assert urls.exact_redirect("https://app.example.com") == "https://app.example.com/"
    with pytest.raises(InvalidRedirect) as refused:
        urls.exact_redirect("https://app.example.com/done?x=1")
    assert refused.value.message == "an allowed redirect URL has no query or fragment (any query is accepted)"


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://App.Example.com", "https://app.example.com"),
        ("https://app.example.com:443/", "https://app.example.com"),
        ("http://app.example.com:80", "http://app.example.com"),
        ("http://app.example.com:443", "http://app.example.com:443"),
        ("http://[::1]:5173", "http://[::1]:5173"),
        ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
    ],
)
def test_origins_are_normalised(value: str, origin: str) -> None:
    assert urls.normalise_origin(value) == origin


@pytest.mark.parametrize(
    "value", ["https://app.example.com/x", "https://app.example.com/?q", "https://app.example.com/#f"]
)
def test_an_origin_has_no_path_query_or_fragment(value: str) -> None:
    with pytest.raises(InvalidRedirect) as refused:
        urls.normalise_origin(value)
    assert refused.value.message == f"{value!r} is not an origin"


def test_parameters_go_into_the_query_or_the_fragment() -> None:
    assert urls.append_query("https://a.example/p?x=1&e=&y=2#f", {"x": "9", "z": "3"}) == (
        "https://a.example/p?e=&y=2&x=9&z=3#f"
    )
    assert (
        urls.append_query("https://a.example/p", {"error": "access_denied"})
        == "https://a.example/p?error=access_denied"
    )
    assert urls.append_fragment("https://a.example/p?q=1#old", {"ticket": "t", "a": "b c"}) == (
        "https://a.example/p?q=1#ticket=t&a=b+c"
    )


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


# -- OAuth --------------------------------------------------------------------------------------


def test_scopes_are_split_deduplicated_in_order() -> None:
    assert oauth.parse_scopes(" file_content:read, current_user:read file_content:read\tfile_comments:read ") == [
        "file_content:read",
        "current_user:read",
        "file_comments:read",
    ]


@pytest.mark.parametrize(
    ("raw", "start"),
    [
        ("", "no scope requested"),
        (" , ", "no scope requested"),
        ("files:read", "files:read is being removed by Figma (deprecated; new and re-published apps cannot ask"),
        ("file_read", "file_read is being removed by Figma"),
        ("a b c d", "unknown Figma scope 'a', 'b', 'c'; see"),
        ("x" * 50, f"unknown Figma scope {'x' * 40!r}; see"),
        ("current_user:read," * 57, "scopes is too long"),
    ],
)
def test_each_refused_scope_list_says_why(raw: str, start: str) -> None:
    with pytest.raises(InvalidScope) as refused:
        oauth.parse_scopes(raw)
    assert refused.value.message.startswith(start), refused.value.message


def test_a_scope_list_of_exactly_1024_characters_is_read() -> None:
    raw = "current_user:read" + " " * (1024 - len("current_user:read"))
    assert oauth.parse_scopes(raw) == ["current_user:read"]


def grant_body(**fields: object) -> dict[str, object]:
    return {"access_token": "a" * 20, "refresh_token": "r" * 20, "expires_in": 3600, **fields}


def test_a_token_response_becomes_a_grant_with_an_absolute_expiry() -> None:
    grant = oauth.parse_token_response(grant_body(expires_in=90.9), now=NOW, scopes=["current_user:read"])
    assert (grant.access_token, grant.refresh_token) == ("a" * 20, "r" * 20)
    assert grant.expires_at == NOW + timedelta(seconds=90) and grant.scopes == ("current_user:read",)
    assert grant.expires_within(90, NOW) and not grant.expires_within(89, NOW)
    assert oauth.parse_token_response(grant_body(expires_in=1), now=NOW, scopes=[]).expires_at == NOW + timedelta(
        seconds=1
    )
    top = oauth.MAX_EXPIRES_IN
    assert oauth.parse_token_response(grant_body(expires_in=top), now=NOW, scopes=[]).expires_at == NOW + timedelta(
        seconds=top
    )
    assert (
        oauth.parse_token_response(grant_body(access_token="t" * 4096), now=NOW, scopes=[]).access_token == "t" * 4096
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (["not", "an", "object"], "Figma's token response is not a JSON object"),
        (grant_body(access_token=None), "Figma's response has no valid access_token"),
        (grant_body(access_token="has space"), "Figma's response has no valid access_token"),
        (grant_body(access_token="t" * 4097), "Figma's response has no valid access_token"),
        (grant_body(refresh_token=""), "Figma's response has no valid refresh_token"),
        (grant_body(expires_in="3600"), "Figma's response has no numeric expires_in"),
        (grant_body(expires_in=True), "Figma's response has no numeric expires_in"),
        (grant_body(expires_in=0), "Figma's expires_in is out of bounds"),
        (grant_body(expires_in=oauth.MAX_EXPIRES_IN + 1), "Figma's expires_in is out of bounds"),
    ],
)
def test_each_refused_token_response_says_what_was_wrong(body: object, message: str) -> None:
    with pytest.raises(FigmaError) as refused:
        oauth.parse_token_response(body, now=NOW, scopes=[])
    assert refused.value.message == message


def test_a_refresh_keeps_the_old_refresh_token_unless_a_valid_new_one_comes() -> None:
    previous = oauth.FigmaGrant("old-a", "old-r", NOW, ("current_user:read", "file_content:read"))
    for missing in ({}, {"refresh_token": None}, {"refresh_token": ""}):
        body = {"access_token": "new-a", "expires_in": 60, **missing}
        kept = oauth.parse_refresh_response(body, now=NOW, previous=previous)
        assert (kept.access_token, kept.refresh_token, kept.scopes) == ("new-a", "old-r", previous.scopes)
    renewed = oauth.parse_refresh_response(grant_body(), now=NOW, previous=previous)
    assert renewed.refresh_token == "r" * 20
    with pytest.raises(FigmaError) as refused:
        oauth.parse_refresh_response(grant_body(refresh_token="bad token"), now=NOW, previous=previous)
    assert refused.value.message == "Figma's response has no valid refresh_token"
    with pytest.raises(FigmaError) as refused:
        oauth.parse_refresh_response("nope", now=NOW, previous=previous)
    assert refused.value.message == "Figma's refresh response is not a JSON object"


@pytest.mark.parametrize(
    ("scope", "granted"),
    [
        (None, ("current_user:read", "file_content:read")),
        (42, ("current_user:read", "file_content:read")),
        ("x" * 2001, ("current_user:read", "file_content:read")),
        ("current_user:read", ("current_user:read",)),
        (" file_content:read,current_user:read ", ("current_user:read", "file_content:read")),
        ("current_user:read  file_comments:write", ("current_user:read",)),  # never widened
        ("", ()),
    ],
)
def test_a_scope_in_the_answer_only_narrows_what_was_asked(scope: object, granted: tuple[str, ...]) -> None:
    body = {} if scope is None else {"scope": scope}
    assert oauth.granted_scopes(body, ("current_user:read", "file_content:read")) == granted


def test_an_answer_scope_of_2000_characters_is_still_read() -> None:
    scope = "current_user:read" + " " * (2000 - len("current_user:read"))
    assert oauth.granted_scopes({"scope": scope}, ("current_user:read", "file_content:read")) == ("current_user:read",)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"error": "INVALID_GRANT"}, "invalid_grant"),
        ({"error": True, "message": "Invalid_Client: bad secret"}, "invalid_client"),
        ({"err": "Token expired"}, "invalid_token"),
        ({"err": "Invalid refresh token"}, "invalid_token"),
        ({"err": "the token was revoked"}, "invalid_token"),
        ({"error": True, "message": "Not found"}, None),
        ({"error": False, "message": "invalid_grant"}, None),  # "message" is read only with error: true
        ({"err": 5}, None),
        ("invalid_grant", None),
        ({"err": "Invalid scope(s): files:read"}, None),
    ],
)
def test_figmas_error_shapes_are_read_to_one_code(body: object, code: str | None) -> None:
    assert oauth.figma_error_code(body) == code


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
