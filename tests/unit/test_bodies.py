"""Where large answers are stored and how they are handed out: S3's regional host for the
presigned URL (the global one redirects for a new bucket in another Region, breaking the
signature), the local endpoint path-style, and parts regrouped to S3's minimum."""

from __future__ import annotations

from urllib.parse import urlsplit

import botocore.session
import pytest

from figma_auth import aws
from figma_auth.bodies import PART_BYTES, _parts


def session(region: str) -> botocore.session.Session:
    """A botocore session, as ``figma_auth.aws.session()`` makes one, in ``region``."""
    made = botocore.session.Session()
    made.set_config_variable("region", region)
    made.set_credentials("a", "b")
    return made


@pytest.mark.parametrize(
    ("region", "host"),
    [("eu-west-1", "bodies-x.s3.eu-west-1.amazonaws.com"), ("us-east-1", "bodies-x.s3.amazonaws.com")],
)
def test_presigned_urls_name_the_buckets_regional_host(region: str, host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    url = aws.s3(session(region)).generate_presigned_url(
        "get_object", Params={"Bucket": "bodies-x", "Key": "answers/1"}, ExpiresIn=300
    )
    assert urlsplit(url).netloc == host and urlsplit(url).scheme == "https"
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url  # SigV4: KMS-encrypted objects need it


def test_a_local_endpoint_gets_path_style_urls_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    url = aws.s3(session("us-east-1")).generate_presigned_url(
        "get_object", Params={"Bucket": "bodies-x", "Key": "answers/1"}, ExpiresIn=300
    )
    assert url.startswith("http://127.0.0.1:4566/bodies-x/answers/1?")


def test_chunks_are_regrouped_into_parts_of_s3s_size_the_last_shorter() -> None:
    chunks = [b"a" * 3_000_000, b"b" * 7_000_000, b"c" * 9_000_000]
    parts = list(_parts(iter(chunks), PART_BYTES))
    assert [len(p) for p in parts] == [PART_BYTES, PART_BYTES, 19_000_000 - 2 * PART_BYTES]
    assert b"".join(parts) == b"".join(chunks)


def test_an_empty_body_is_one_empty_part() -> None:
    assert list(_parts(iter([]), PART_BYTES)) == [b""]
