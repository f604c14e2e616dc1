"""Property tests (hypothesis) on the parsers that stand between the internet and us."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from figma_auth import oauth, times, tokens, urls
from figma_auth.errors import InvalidPath, InvalidRedirect, InvalidScope
from figma_auth.usecases.proxy import proxy_path

ALLOWED = ("https://app.example.com", "http://127.0.0.1:5173")
url_parts = st.sampled_from(["https://", "http://", "//", "/\\", "javascript:", "", "https:/", "HTTPS://"])
hosts = st.sampled_from(
    [
        "app.example.com",
        "evil.example",
        "app.example.com.evil.example",
        "127.0.0.1:5173",
        "user@app.example.com",
        "app.example.com@evil.example",
        "APP.example.com",
        "",
    ]
)
tails = st.text(max_size=40)


@settings(max_examples=500)
@given(url_parts, hosts, tails)
def test_a_return_url_is_accepted_only_on_an_allowed_origin(scheme: str, host: str, tail: str) -> None:
    url = scheme + host + tail
    try:
        accepted = urls.validate_return_url(url, ALLOWED)
    except InvalidRedirect:
        return
    parts = urlsplit(accepted)
    assert f"{parts.scheme}://{parts.netloc}".lower().replace(":443", "") in {
        "https://app.example.com",
        "http://127.0.0.1:5173",
    }
    assert "@" not in parts.netloc and "\\" not in accepted


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_any_text_as_a_return_url_is_accepted_or_invalid_redirect_never_a_crash(url: str) -> None:
    try:
        urls.validate_return_url(url, ALLOWED)
    except InvalidRedirect:
        pass


@settings(max_examples=500)
@given(
    st.lists(st.sampled_from(list("v12/.:%@\\?#files ABab-_~,") + ["//", "..", "v1/", "v2/"]), max_size=30).map("".join)
)
def test_a_proxy_path_never_leaves_figmas_api(path: str) -> None:
    try:
        safe = proxy_path(path)
    except InvalidPath:
        return
    target = urljoin("https://api.figma.com", safe)
    assert urlsplit(target).netloc == "api.figma.com"
    assert safe.startswith(("/v1", "/v2")) and "/../" not in safe + "/" and "//" not in safe


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_scopes_parse_to_documented_scopes_or_invalid_scope(raw: str) -> None:
    try:
        scopes = oauth.parse_scopes(raw)
    except InvalidScope:
        return
    assert scopes and set(scopes) <= oauth.FIGMA_SCOPES


@settings(max_examples=300)
@given(st.text(max_size=100))
def test_url_safe_token_check_accepts_only_the_urlsafe_alphabet(value: str) -> None:
    if tokens.is_url_safe_token(value, min_len=1, max_len=100):
        assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.text(max_size=20),
        st.one_of(st.none(), st.integers(), st.text(max_size=50), st.floats(allow_nan=True), st.booleans()),
        max_size=6,
    )
)
def test_any_token_response_is_a_grant_or_a_figma_error(body: dict[str, Any]) -> None:
    from figma_auth.errors import FigmaError

    try:
        grant = oauth.parse_token_response(body, now=times.utcnow(), scopes=[])
    except FigmaError:
        return
    assert grant.access_token and grant.refresh_token and grant.expires_at > times.utcnow()
