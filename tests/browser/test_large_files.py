"""A file over Lambda's 6 MB in real Chromium, from the demo on another origin: the proxy's 303 to
a presigned S3 URL is followed by fetch (cookie mode, credentials included, and token mode
cross-site), past S3's CORS for the tainted ``Origin: null`` a cross-origin redirect sends, and the
whole document arrives."""

from __future__ import annotations

import pytest

from tests.support.chromium import sign_in
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SIX_MB = 6 * 1024 * 1024


def open_whole(page, key: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("#signed-in:not([hidden])")
    page.fill("#file-key", key)
    page.check("#whole-file")
    page.click("#open-file")
    page.wait_for_selector("#file-meta:not([hidden]), #error:not([hidden])", timeout=60_000)


@pytest.mark.parametrize(("mode", "host"), [("cookie", "127.0.0.1"), ("token", "localhost")])
def test_a_file_over_lambdas_limit_arrives_whole_in_the_browser(page, live: Stack, mode: str, host: str):
    sign_in(page, live, mode=mode, host=host)

    open_whole(page, "HUGE")

    assert page.is_hidden("#error"), page.text_content("#error")
    assert int(page.get_attribute("#file-meta", "data-bytes")) > SIX_MB
    assert '"name"' in page.text_content("#file")
    assert page.is_hidden("#error"), page.text_content("#error")


def test_the_demo_opens_a_30_mb_file_and_shows_the_read_once_cache_at_work(page, live: Stack):
    sign_in(page, live)

    open_whole(page, "Demo30MB")
    first = page.get_attribute("#file-meta", "data-cache")
    page.click("#open-file")
    page.wait_for_function("() => document.getElementById('file-meta').dataset.cache === 'hit'", timeout=60_000)

    assert first == "miss"
    assert int(page.get_attribute("#file-meta", "data-bytes")) >= 30 * 1024 * 1024
    assert "Design system (30 MB)" in page.text_content("#file")
