"""The local S3's pure rules (devstack/s3_strict.py): SigV4 query authentication held to AWS's
published example, S3's origin and header wildcards, which rule decides, which requests leave
moto unchanged, and template.yaml's bucket read into the S3 API's shapes."""

from __future__ import annotations

from typing import Any

import pytest

from devstack import aws, template
from devstack.s3_strict import (
    CorsRule,
    Presigned,
    canonical_request,
    first_match,
    parse_presigned,
    query_pairs,
    s3_leaves_nothing,
    signature,
    string_to_sign,
    wildcard_match,
)

# "Authenticating Requests: Using Query Parameters (AWS Signature Version 4)", the S3 API
# Reference's example: GET examplebucket/test.txt, valid 86400 s from 2013-05-24.
AWS_EXAMPLE_QUERY = (
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
)
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS's published example


def test_the_query_signature_of_aws_s_published_example_is_computed_exactly() -> None:
    pairs = query_pairs(AWS_EXAMPLE_QUERY)
    presigned = parse_presigned(dict(pairs))
    assert isinstance(presigned, Presigned)

    canonical = canonical_request(
        "GET", b"/test.txt", pairs, {"host": "examplebucket.s3.amazonaws.com"}, presigned.signed_headers
    )

    assert canonical.splitlines()[2] == AWS_EXAMPLE_QUERY.rpartition("&X-Amz-Signature")[0]
    assert canonical.endswith("\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD")
    assert signature(AWS_EXAMPLE_SECRET, presigned.scope, string_to_sign(presigned, canonical)) == presigned.signature


def test_the_canonical_request_encodes_the_key_once_and_sorts_the_encoded_parameters() -> None:
    pairs = query_pairs("response-cache-control=no-store%2C%20max-age%3D0&X-Amz-Date=1&a=b+c")

    canonical = canonical_request("GET", "/b/ä x".encode(), pairs, {"host": "h"}, ["host"]).splitlines()

    assert canonical[1] == "/b/%C3%A4%20x"
    assert canonical[2] == "X-Amz-Date=1&a=b%2Bc&response-cache-control=no-store%2C%20max-age%3D0"


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("*", "http://anything", True),
        ("*", "null", True),
        ("null", "null", True),
        ("null", "http://null", False),
        ("http://*.example.com", "http://app.example.com", True),
        ("http://*.example.com", "http://example.com", False),
        ("http://*.example.com", "https://app.example.com", False),
        ("http://127.0.0.1:5173", "http://127.0.0.1:51730", False),
        ("x-amz-*", "x-amz-date", True),
    ],
)
def test_an_allowed_origin_matches_exactly_or_with_its_one_wildcard(pattern: str, value: str, matches: bool) -> None:
    assert wildcard_match(pattern, value) is matches


def test_the_first_rule_matching_origin_method_and_headers_decides() -> None:
    rules = [
        CorsRule(("*",), ("PUT",)),
        CorsRule(("http://a",), ("GET",), ("range",)),
        CorsRule(("*",), ("GET",), ("*",)),
    ]

    assert first_match(rules, "http://a", "GET") == (rules[1], "http://a")
    assert first_match(rules, "http://a", "GET", ["authorization"]) == (rules[2], "*")
    assert first_match(rules, "http://a", "DELETE") is None
    assert first_match(rules[:2], "null", "GET") is None


@pytest.mark.parametrize(
    ("method", "path", "query", "leaves"),
    [
        ("PUT", "/bodies/answers/x", "", True),
        ("GET", "/bodies/answers/x", "X-Amz-Signature=s", True),
        ("HEAD", "/bodies/files/k", "", True),
        ("DELETE", "/bodies/answers/x", "", True),
        ("POST", "/bodies/answers/x", "uploads", True),
        ("PUT", "/bodies/answers/x", "uploadId=u&partNumber=1", True),
        ("POST", "/bodies", "delete", True),
        ("GET", "/bodies", "list-type=2", True),
        ("GET", "/", "", True),
        ("PUT", "/bodies", "", False),
        ("DELETE", "/bodies", "", False),
        ("PUT", "/bodies", "cors", False),
        ("PUT", "/bodies", "lifecycle", False),
        ("PUT", "/bodies", "policy", False),
        ("POST", "/bodies", "", False),
    ],
)
def test_object_level_s3_requests_leave_nothing_and_bucket_level_writes_change_the_world(
    method: str, path: str, query: str, leaves: bool
) -> None:
    assert s3_leaves_nothing(method, path, query) is leaves


def test_a_malformed_presigned_request_is_a_bad_request_by_name() -> None:
    good = dict(query_pairs(AWS_EXAMPLE_QUERY))

    for broken in ({**good, "X-Amz-Expires": "604801"}, {**good, "X-Amz-Algorithm": "AWS4-HMAC-SHA1"}):
        refused = parse_presigned(broken)
        assert not isinstance(refused, Presigned)
        assert (refused.status, refused.code) == (400, "AuthorizationQueryParametersError")


BUCKET_DOC: dict[str, Any] = {
    "Parameters": {"AllowedOrigins": {"Type": "String"}, "FileCacheDays": {"Type": "Number", "Default": 7}},
    "Resources": {
        "Bodies": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "CorsConfiguration": {
                    "CorsRules": [
                        {
                            "AllowedMethods": ["GET"],
                            "AllowedOrigins": {"Fn::Split": [",", {"Fn::Sub": "${AllowedOrigins},null"}]},
                            "ExposedHeaders": ["Content-Length"],
                            "MaxAge": 600,
                        }
                    ]
                },
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "Files",
                            "Status": "Enabled",
                            "Prefix": "files/",
                            "ExpirationInDays": {"Ref": "FileCacheDays"},
                        }
                    ]
                },
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": {"Fn::GetAtt": "Key.Arn"},
                            },
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
            },
        }
    },
}


def test_the_bucket_s_template_properties_become_the_s3_api_s_shapes_with_the_origins_and_null() -> None:
    config = aws.bucket_configuration(BUCKET_DOC, ["http://a", "http://b"])

    assert config["cors"] == [
        {
            "AllowedMethods": ["GET"],
            "AllowedOrigins": ["http://a", "http://b", "null"],
            "ExposeHeaders": ["Content-Length"],
            "MaxAgeSeconds": 600,
        }
    ]
    assert config["lifecycle"] == [
        {"ID": "Files", "Status": "Enabled", "Filter": {"Prefix": "files/"}, "Expiration": {"Days": 7}}
    ]
    assert config["encryption"] == [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}
    ]


def test_a_template_without_the_bucket_says_so() -> None:
    with pytest.raises(LookupError, match="Bodies"):
        template.bucket_properties({"Resources": {}}, "Bodies")
