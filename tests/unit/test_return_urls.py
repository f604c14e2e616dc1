"""Return URLs are judged as the browser will follow them: every URL our validator accepts,
a WHATWG URL parser (ada, the one Node uses) also accepts, with the same origin. ada is the
test's oracle; at runtime the validator is stricter than the standard (stdlib only)."""

from __future__ import annotations

import ada_url
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from figma_auth import urls
from figma_auth.errors import InvalidRedirect
from tests.support.properties import Tally, mutated

ALLOWED = [
    "https://app.example.com",
    "http://127.0.0.1:5173",
    "http://localhost:5173",
    "http://[::1]:5173",
    "https://v1.example.com",
]

schemes = st.sampled_from(["http", "https", "HTTPS", "javascript", "data", "ftp", "http ", "ht\ttp"])
separators = st.sampled_from(["://", ":/", ":///", ":\\\\", "://\\", ":", "://./"])
userinfo = st.sampled_from(["", "user@", "user:pass@", "@", "app.example.com@", "%40@"])
hosts = st.sampled_from(
    [
        "app.example.com",
        "APP.Example.COM",
        "app.example.com.",
        "127.0.0.1",
        "localhost",
        "[::1]",
        "[::1]evil.com",
        "[v1.example.com]",
        "[0:0:0:0:0:0:0:1]",
        "v1.example.com",
        "evil.com",
        "app.example.com.evil.com",
        "xn--pple-43d.com",
        "аpp.example.com",
        "127.1",
        "0x7f.0.0.1",
        "app%2eexample.com",
        "",
    ]
)
ports = st.sampled_from(["", ":443", ":80", ":5173", ":", ":0x10", ":99999", ":+5173", ": 5173"])
rests = st.sampled_from(["", "/", "/x", "/a?b=c", "/#frag", "?q", "#f", "/\\evil.com", "/%2f%2fevil.com", "//evil.com"])


# A third of the examples put tricky parts together; the rest mutate an allowed URL (most stay allowed),
# so the oracle judges hundreds of accepted URLs, not the handful the product alone reaches.
combined = st.tuples(schemes, separators, userinfo, hosts, ports, rests).map("".join)
near_valid = mutated(
    st.tuples(st.sampled_from(ALLOWED), rests, st.text("abcXYZ019-._~%", max_size=10)).map("".join),
    st.one_of(separators, userinfo, hosts, ports, rests),
)


def test_every_url_we_accept_a_browser_parses_to_the_same_allowed_origin() -> None:
    tally = Tally()

    @settings(max_examples=1500)
    @given(st.one_of(combined, near_valid, near_valid))
    def check(url: str) -> None:
        try:
            accepted = urls.validate_return_url(url, ALLOWED)
        except InvalidRedirect:
            tally.saw(False)
            return
        tally.saw(True)
        assert ada_url.check_url(accepted), url
        origin = ada_url.URL(accepted).origin
        assert origin in ALLOWED, (url, origin)
        assert origin == urls.normalise_origin(origin)

    check()
    tally.assert_share(0.15, at_least=1200)


@pytest.mark.parametrize("url", ["http://[::1]evil.com:5173/", "https://[v1.example.com]/"])
def test_the_two_shapes_a_browser_calls_invalid_are_refused(url: str) -> None:
    assert not ada_url.check_url(url)
    with pytest.raises(InvalidRedirect):
        urls.validate_return_url(url, ALLOWED)
