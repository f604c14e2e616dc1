"""Property tests (hypothesis) on the parsers that stand between the internet and us. Inputs
are valid ones mutated (tests/support/properties.py), and each test asserts the share of its
examples the parser accepted: the property is checked on hundreds of accepted inputs, not on
the three a random string would reach."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from figma_auth import oauth, times, tokens, urls
from figma_auth.errors import FigmaError, InvalidPath, InvalidRedirect, InvalidScope
from figma_auth.usecases.proxy import proxy_path
from tests.support.properties import Tally, mutated

ALLOWED = ("https://app.example.com", "http://127.0.0.1:5173")
TRICKY = st.sampled_from(
    [
        "@",
        "\\",
        "//",
        "/",
        ":",
        "#",
        "?",
        "%2f",
        "%40",
        ".",
        "..",
        "evil.example",
        "HTTPS",
        ":443",
        " ",
        "\t",
        "é",
        "\x00",
    ]
)
PATHY = "abcXYZ019-._~!$&'()*+,;=%"
return_urls = mutated(
    st.tuples(
        st.sampled_from(ALLOWED),
        st.lists(st.text(PATHY, max_size=8), max_size=3).map(lambda segs: "".join("/" + s for s in segs)),
        st.sampled_from(["", "?", "?a=b", "?next=/x&y=1"]),
        st.sampled_from(["", "#", "#top", "#/route?q"]),
    ).map("".join),
    TRICKY,
)


def test_a_return_url_is_accepted_only_on_an_allowed_origin() -> None:
    tally = Tally()

    @settings(max_examples=500)
    @given(return_urls)
    def check(url: str) -> None:
        try:
            accepted = urls.validate_return_url(url, ALLOWED)
        except InvalidRedirect:
            tally.saw(False)
            return
        tally.saw(True)
        parts = urlsplit(accepted)
        assert f"{parts.scheme}://{parts.netloc}".lower().replace(":443", "") in {
            "https://app.example.com",
            "http://127.0.0.1:5173",
        }
        assert "@" not in parts.netloc and "\\" not in accepted

    check()
    tally.assert_share(0.3, at_least=400)


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_any_text_as_a_return_url_is_accepted_or_invalid_redirect_never_a_crash(url: str) -> None:
    try:
        urls.validate_return_url(url, ALLOWED)
    except InvalidRedirect:
        pass


proxy_paths = mutated(
    st.tuples(
        st.sampled_from(["v1/me", "v1/files/", "v1/images/", "v2/webhooks/", "v1/files/K/nodes", "v1/projects/"]),
        st.text("ABCabc0123456789-_", max_size=12),
    ).map("".join),
    st.sampled_from(["..", "//", "/", "%2e", "%2f", "\\", "?", "#", "@", ":", ".", "v1/", "v2/", "~", " "]),
)


def test_a_proxy_path_never_leaves_figmas_api() -> None:
    tally = Tally()

    @settings(max_examples=500)
    @given(proxy_paths)
    def check(path: str) -> None:
        try:
            safe = proxy_path(path)
        except InvalidPath:
            tally.saw(False)
            return
        tally.saw(True)
        target = urljoin("https://api.figma.com", safe)
        assert urlsplit(target).netloc == "api.figma.com"
        assert safe.startswith(("/v1", "/v2")) and "/../" not in safe + "/" and "//" not in safe

    check()
    tally.assert_share(0.3, at_least=400)


scope_lists = mutated(
    st.tuples(
        st.lists(st.sampled_from(sorted(oauth.FIGMA_SCOPES)), min_size=1, max_size=4), st.sampled_from([",", " ", ", "])
    ).map(lambda parts: parts[1].join(parts[0])),
    st.sampled_from([",", " ", ":", "files:read", "file_read", "read", "\n", "é", "\x00", ":write"]),
)


def test_scopes_parse_to_documented_scopes_or_invalid_scope() -> None:
    tally = Tally()

    @settings(max_examples=300)
    @given(scope_lists)
    def check(raw: str) -> None:
        try:
            scopes = oauth.parse_scopes(raw)
        except InvalidScope:
            tally.saw(False)
            return
        tally.saw(True)
        assert scopes and set(scopes) <= oauth.FIGMA_SCOPES
        assert len(scopes) == len(set(scopes))

    check()
    tally.assert_share(0.3, at_least=250)


URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_url_safe_token_check_accepts_only_the_urlsafe_alphabet() -> None:
    tally = Tally()

    @settings(max_examples=300)
    @given(mutated(st.text(alphabet=URL_SAFE, min_size=1, max_size=60), st.sampled_from(list("+/=.~ %é\x00"))))
    def check(value: str) -> None:
        accepted = tokens.is_url_safe_token(value, min_len=1, max_len=100)
        tally.saw(accepted)
        assert accepted == (1 <= len(value) <= 100 and set(value) <= set(URL_SAFE))

    check()
    tally.assert_share(0.3, at_least=250)


tokens_ = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)
wrong = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20), st.just(""))


@st.composite
def token_responses(draw: st.DrawFn) -> dict[str, Any]:
    """Figma's answer ({access_token, refresh_token, expires_in, ...}) with 0-2 fields broken."""
    body: dict[str, Any] = {
        "access_token": draw(tokens_),
        "refresh_token": draw(tokens_),
        "expires_in": draw(st.one_of(st.integers(1, 400 * 86400), st.floats(1, 400 * 86400))),
        "user_id": draw(st.text(max_size=12)),
    }
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(["access_token", "refresh_token", "expires_in", "scope", "junk"]))
        if draw(st.booleans()):
            body.pop(key, None)
        else:
            body[key] = draw(st.one_of(wrong, st.integers(-10, 0), st.integers(400 * 86400 + 1, 10**12)))
    return body


def test_any_token_response_is_a_grant_or_a_figma_error() -> None:
    tally = Tally()

    @settings(max_examples=200)
    @given(token_responses())
    def check(body: dict[str, Any]) -> None:
        now = times.utcnow()
        try:
            grant = oauth.parse_token_response(body, now=now, scopes=["current_user:read"])
        except FigmaError:
            tally.saw(False)
            return
        tally.saw(True)
        assert (grant.access_token, grant.refresh_token) == (body["access_token"], body["refresh_token"])
        assert grant.expires_at > now
        assert grant.scopes == ("current_user:read",) or "scope" in body  # a scope answer may only narrow

    check()
    tally.assert_share(0.3, at_least=150)
