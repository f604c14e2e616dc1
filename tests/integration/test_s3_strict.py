"""The local S3 is as strict as S3 where it matters to a browser following the proxy's 303: a
presigned URL works only as signed and until it expires, CORS is answered from the bucket's
rules as S3 answers it, and the reset's bookkeeping lets objects stay between tests while a
bucket-level write still counts as a change. Against moto's real server (tests/support/s3.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from devstack import aws, template
from devstack.s3_strict import CORS_NOT_ALLOWED, CORS_NOT_ENABLED, CORS_VARY
from tests.support.s3 import StrictMoto

APP = "http://127.0.0.1:5173"
OTHER_APP = "http://localhost:5173"
BODY = b'{"document": "large"}'

# template.yaml's Bodies bucket, as main declares it (its CORS, lifecycle and encryption).
BODIES_TEMPLATE = """
Parameters:
  AllowedOrigins: {Type: String}
  FileCacheDays: {Type: Number, Default: 7}
Resources:
  Key: {Type: AWS::KMS::Key}
  Bodies:
    Type: AWS::S3::Bucket
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault: {SSEAlgorithm: "aws:kms", KMSMasterKeyID: !GetAtt Key.Arn}
            BucketKeyEnabled: true
      LifecycleConfiguration:
        Rules:
          - Id: AnswersLiveADay
            Status: Enabled
            Prefix: answers/
            ExpirationInDays: 1
            AbortIncompleteMultipartUpload: {DaysAfterInitiation: 1}
          - Id: CachedReadsLiveFileCacheDays
            Status: Enabled
            Prefix: files/
            ExpirationInDays: !Ref FileCacheDays
            AbortIncompleteMultipartUpload: {DaysAfterInitiation: 1}
      CorsConfiguration:
        CorsRules:
          - AllowedMethods: [GET, HEAD]
            AllowedOrigins: !Split [",", !Sub "${AllowedOrigins},null"]
            AllowedHeaders: ["*"]
            ExposedHeaders: [Content-Length, Content-Type, Content-Encoding]
            MaxAge: 600
"""


@pytest.fixture(scope="module")
def moto() -> Iterator[StrictMoto]:
    server = StrictMoto()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bodies_doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("template") / "template.yaml"
    path.write_text(BODIES_TEMPLATE)
    return template.load(path)  # the devstack's CloudFormation loader: !Split, !Sub, !Ref as data


@pytest.fixture
def bucket(moto: StrictMoto) -> Iterator[str]:
    """A bucket of this test's own, with one answer in it; gone after the test."""
    name = f"bodies-{uuid.uuid4().hex[:12]}"
    s3 = moto.s3()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="answers/a b.json", Body=BODY, ContentType="application/json")
    yield name
    for found in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=found["Key"])
    s3.delete_bucket(Bucket=name)


def presign(moto: StrictMoto, bucket: str, *, expires: int = 300, **client: str) -> str:
    return str(
        moto.s3(**client).generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": "answers/a b.json", "ResponseCacheControl": "no-store, max-age=0"},
            ExpiresIn=expires,
        )
    )


def error_of(response: httpx.Response) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(response.content)}


def with_cors(moto: StrictMoto, bucket: str, *rules: dict[str, Any]) -> None:
    moto.s3().put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": list(rules)})


def cors_of(response: httpx.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


ANSWERS_RULE = {
    "AllowedMethods": ["GET", "HEAD"],
    "AllowedOrigins": [APP, "null"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["Content-Length", "Content-Type"],
    "MaxAgeSeconds": 600,
}


# -- presigned URLs ---------------------------------------------------------------------------


def test_a_presigned_url_from_boto3_gets_the_object_with_the_response_overrides(moto: StrictMoto, bucket: str) -> None:
    answer = httpx.get(presign(moto, bucket))

    assert answer.status_code == 200, answer.text
    assert answer.content == BODY
    assert answer.headers["cache-control"] == "no-store, max-age=0"  # the signed response-cache-control


def test_a_presigned_url_with_a_changed_signature_is_refused_as_s3_refuses_it(moto: StrictMoto, bucket: str) -> None:
    url = presign(moto, bucket)
    last = url[-1]
    tampered = url[:-1] + ("0" if last != "0" else "1")

    answer = httpx.get(tampered)

    assert answer.status_code == 403
    error = error_of(answer)
    assert error["Code"] == "SignatureDoesNotMatch"
    assert error["Message"].startswith("The request signature we calculated does not match")
    assert error["AWSAccessKeyId"] == "testing"
    assert error["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
    assert error["CanonicalRequest"].endswith("\nhost\nUNSIGNED-PAYLOAD")
    assert BODY not in answer.content


def test_a_presigned_url_with_a_changed_key_or_parameter_is_refused(moto: StrictMoto, bucket: str) -> None:
    url = presign(moto, bucket)
    moto.s3().put_object(Bucket=bucket, Key="answers/other.json", Body=b"another user's answer")

    for changed in (
        url.replace("a%20b.json", "other.json"),
        url.replace("no-store", "public"),
        url.replace("X-Amz-Expires=300", "X-Amz-Expires=600"),
    ):
        assert error_of(httpx.get(changed))["Code"] == "SignatureDoesNotMatch", changed


def test_a_presigned_url_signed_with_another_secret_or_an_unknown_key_is_refused(moto: StrictMoto, bucket: str) -> None:
    wrong_secret = httpx.get(presign(moto, bucket, secret="not-the-secret"))
    unknown_key = httpx.get(presign(moto, bucket, key="AKIAUNKNOWN0000000000"))

    assert (wrong_secret.status_code, error_of(wrong_secret)["Code"]) == (403, "SignatureDoesNotMatch")
    assert (unknown_key.status_code, error_of(unknown_key)["Code"]) == (403, "InvalidAccessKeyId")
    assert error_of(unknown_key)["AWSAccessKeyId"] == "AKIAUNKNOWN0000000000"


def test_a_presigned_url_by_a_key_that_moto_iam_issued_is_accepted(moto: StrictMoto, bucket: str) -> None:
    iam = aws.client("iam", moto.endpoint)
    user = f"reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    issued = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        url = presign(moto, bucket, key=issued["AccessKeyId"], secret=issued["SecretAccessKey"])
        assert httpx.get(url).content == BODY
        wrong = presign(moto, bucket, key=issued["AccessKeyId"], secret="testing")
        assert error_of(httpx.get(wrong))["Code"] == "SignatureDoesNotMatch"
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=issued["AccessKeyId"])
        iam.delete_user(UserName=user)


def test_a_presigned_url_is_refused_once_it_expired_and_not_a_second_before(moto: StrictMoto, bucket: str) -> None:
    url = presign(moto, bucket, expires=60)
    try:
        moto.clock.ahead = timedelta(seconds=55)  # the signing and this request take well under 5 s
        assert httpx.get(url).status_code == 200

        moto.clock.ahead = timedelta(seconds=61)
        expired = httpx.get(url)
    finally:
        moto.clock.ahead = timedelta(0)

    assert expired.status_code == 403
    error = error_of(expired)
    assert (error["Code"], error["Message"], error["X-Amz-Expires"]) == ("AccessDenied", "Request has expired", "60")
    assert error["Expires"] < error["ServerTime"]


def test_a_presigned_url_over_a_week_or_without_its_parameters_is_a_bad_request(moto: StrictMoto, bucket: str) -> None:
    url = presign(moto, bucket)

    too_long = httpx.get(url.replace("X-Amz-Expires=300", "X-Amz-Expires=604801"))
    no_date = httpx.get(url.replace("X-Amz-Date=", "X-Amz-Dat="))

    for answer in (too_long, no_date):
        assert (answer.status_code, error_of(answer)["Code"]) == (400, "AuthorizationQueryParametersError")
    assert "604800" in error_of(too_long)["Message"]


def test_a_presigned_url_sent_with_an_authorization_header_is_refused_as_two_auth_mechanisms(
    moto: StrictMoto, bucket: str
) -> None:
    answer = httpx.get(presign(moto, bucket), headers={"Authorization": "Bearer the-apps-session-token"})

    assert (answer.status_code, error_of(answer)["Code"]) == (400, "InvalidArgument")
    assert error_of(answer)["ArgumentName"] == "Authorization"


def test_a_signed_request_and_an_unsigned_one_are_left_to_moto(moto: StrictMoto, bucket: str) -> None:
    signed = moto.s3().get_object(Bucket=bucket, Key="answers/a b.json")["Body"].read()
    unsigned = httpx.get(f"{moto.endpoint}/{bucket}/answers/a%20b.json")

    assert signed == BODY
    assert unsigned.status_code == 403 and BODY not in unsigned.content  # moto's own: a private object


# -- CORS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [APP, "null"])
def test_an_allowed_origin_and_null_get_their_origin_back_with_credentials(
    moto: StrictMoto, bucket: str, origin: str
) -> None:
    with_cors(moto, bucket, ANSWERS_RULE)

    answer = httpx.get(presign(moto, bucket), headers={"Origin": origin})

    assert answer.content == BODY
    assert cors_of(answer) == {
        "access-control-allow-origin": origin,
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, HEAD",
        "access-control-expose-headers": "Content-Length, Content-Type",
        "access-control-max-age": "600",
    }
    assert answer.headers["vary"] == CORS_VARY


def test_a_rule_for_any_origin_answers_a_star_and_never_credentials(moto: StrictMoto, bucket: str) -> None:
    with_cors(moto, bucket, {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]})

    answer = httpx.get(presign(moto, bucket), headers={"Origin": "null"})

    assert cors_of(answer) == {"access-control-allow-origin": "*", "access-control-allow-methods": "GET"}


def test_the_first_matching_rule_decides_and_a_wildcard_stands_for_one_run(moto: StrictMoto, bucket: str) -> None:
    with_cors(
        moto,
        bucket,
        {"AllowedMethods": ["PUT"], "AllowedOrigins": ["*"]},  # not for GET: skipped
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["http://*.example.com"], "MaxAgeSeconds": 5},
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAgeSeconds": 9},
    )
    url = presign(moto, bucket)

    sub = cors_of(httpx.get(url, headers={"Origin": "http://app.example.com"}))
    other = cors_of(httpx.get(url, headers={"Origin": "http://example.org"}))

    assert sub["access-control-allow-origin"] == "http://app.example.com"
    assert (sub["access-control-max-age"], sub["access-control-allow-credentials"]) == ("5", "true")
    assert (other["access-control-allow-origin"], other["access-control-max-age"]) == ("*", "9")


def test_an_unlisted_origin_gets_no_cors_headers_at_all(moto: StrictMoto, bucket: str) -> None:
    with_cors(moto, bucket, ANSWERS_RULE)
    url = presign(moto, bucket)

    unlisted = httpx.get(url, headers={"Origin": "http://evil.example"})
    wrong_method = httpx.delete(f"{moto.endpoint}/{bucket}/answers/none.json", headers={"Origin": APP})

    assert unlisted.status_code == 200  # S3 answers; the browser is the one that blocks the read
    assert cors_of(unlisted) == {} and "vary" not in unlisted.headers
    assert cors_of(wrong_method) == {}


def test_a_bucket_without_cors_answers_no_cors_headers_where_moto_echoes_any_origin(
    moto: StrictMoto, bucket: str
) -> None:
    answer = httpx.get(presign(moto, bucket), headers={"Origin": "http://evil.example"})

    assert answer.content == BODY
    assert cors_of(answer) == {}


def test_a_refused_presigned_url_still_carries_the_cors_headers_so_the_page_can_read_why(
    moto: StrictMoto, bucket: str
) -> None:
    with_cors(moto, bucket, ANSWERS_RULE)

    answer = httpx.get(presign(moto, bucket, secret="not-the-secret"), headers={"Origin": "null"})

    assert answer.status_code == 403
    assert cors_of(answer)["access-control-allow-origin"] == "null"


def test_an_allowed_preflight_answers_the_rules_methods_the_requested_headers_and_max_age(
    moto: StrictMoto, bucket: str
) -> None:
    with_cors(moto, bucket, ANSWERS_RULE)
    request = {"Origin": "null", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Range"}

    answer = httpx.options(presign(moto, bucket), headers=request)

    assert answer.status_code == 200
    assert cors_of(answer) == {
        "access-control-allow-origin": "null",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, HEAD",
        "access-control-allow-headers": "range",
        "access-control-expose-headers": "Content-Length, Content-Type",
        "access-control-max-age": "600",
    }


@pytest.mark.parametrize(
    "request_headers",
    [
        {"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"},
        {"Origin": APP, "Access-Control-Request-Method": "PUT"},
        {"Origin": APP, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    ],
    ids=["origin", "method", "header"],
)
def test_a_preflight_no_rule_matches_is_refused_with_s3s_cors_error(
    moto: StrictMoto, bucket: str, request_headers: dict[str, str]
) -> None:
    with_cors(moto, bucket, {**ANSWERS_RULE, "AllowedHeaders": ["range", "x-amz-*"]})

    answer = httpx.options(f"{moto.endpoint}/{bucket}/answers/a%20b.json", headers=request_headers)

    assert answer.status_code == 403
    assert cors_of(answer) == {}
    assert (error_of(answer)["Code"], error_of(answer)["Message"]) == ("AccessForbidden", CORS_NOT_ALLOWED)


def test_a_preflight_header_matching_a_wildcard_allowed_header_is_allowed(moto: StrictMoto, bucket: str) -> None:
    with_cors(moto, bucket, {**ANSWERS_RULE, "AllowedHeaders": ["range", "x-amz-*"]})
    request = {"Origin": APP, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Amz-Date"}

    answer = httpx.options(f"{moto.endpoint}/{bucket}/answers/a%20b.json", headers=request)

    assert answer.status_code == 200
    assert cors_of(answer)["access-control-allow-headers"] == "x-amz-date"


def test_a_preflight_to_a_bucket_without_cors_is_refused(moto: StrictMoto, bucket: str) -> None:
    request = {"Origin": APP, "Access-Control-Request-Method": "GET"}

    answer = httpx.options(f"{moto.endpoint}/{bucket}/answers/a%20b.json", headers=request)

    assert answer.status_code == 403
    assert error_of(answer)["Message"] == CORS_NOT_ENABLED
    assert cors_of(answer) == {}


def test_other_services_keep_moto_s_answers(moto: StrictMoto) -> None:
    answer = httpx.post(
        moto.endpoint,
        headers={"X-Amz-Target": "TrentService.ListKeys", "Content-Type": "application/x-amz-json-1.1", "Origin": APP},
        content=b"{}",
    )

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP  # flask-cors, untouched: not S3


# -- the reset's bookkeeping --------------------------------------------------------------------


def baseline(moto: StrictMoto) -> None:
    aws.moto_baseline(moto.endpoint)
    assert moto.app.changed is False


def test_object_level_requests_leave_moto_unchanged(moto: StrictMoto, bucket: str) -> None:
    s3 = moto.s3()
    baseline(moto)

    s3.put_object(Bucket=bucket, Key="files/k/v1", Body=b"cached read")
    s3.get_object(Bucket=bucket, Key="files/k/v1")
    s3.head_object(Bucket=bucket, Key="files/k/v1")
    httpx.get(presign(moto, bucket))
    upload = s3.create_multipart_upload(Bucket=bucket, Key="answers/big")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="answers/big", UploadId=upload, PartNumber=1, Body=b"x")
    parts = {"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
    s3.complete_multipart_upload(Bucket=bucket, Key="answers/big", UploadId=upload, MultipartUpload=parts)
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "answers/big"}]})
    s3.delete_object(Bucket=bucket, Key="files/k/v1")
    s3.list_objects_v2(Bucket=bucket)
    s3.get_bucket_location(Bucket=bucket)

    assert moto.app.changed is False


@pytest.mark.parametrize(
    "write",
    [
        lambda s3, name: with_cors_via(s3, name),
        lambda s3, name: s3.put_bucket_policy(Bucket=name, Policy='{"Version": "2012-10-17", "Statement": []}'),
        lambda s3, name: s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [{"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]
            },
        ),
        lambda s3, name: s3.create_bucket(Bucket=f"{name}-more"),
    ],
    ids=["cors", "policy", "lifecycle", "create"],
)
def test_bucket_level_writes_count_as_a_change(moto: StrictMoto, bucket: str, write: Any) -> None:
    s3 = moto.s3()
    baseline(moto)

    write(s3, bucket)

    assert moto.app.changed is True
    if f"{bucket}-more" in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.delete_bucket(Bucket=f"{bucket}-more")


def with_cors_via(s3: Any, name: str) -> None:
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [ANSWERS_RULE]})


def test_deleting_a_bucket_counts_as_a_change(moto: StrictMoto) -> None:
    s3 = moto.s3()
    s3.create_bucket(Bucket="bodies-to-delete")
    baseline(moto)

    s3.delete_bucket(Bucket="bodies-to-delete")

    assert moto.app.changed is True


# -- the bucket as template.yaml declares it ------------------------------------------------------


def test_create_bucket_puts_the_templates_cors_for_the_origins_and_null_lifecycle_and_kms_encryption(
    moto: StrictMoto, bodies_doc: dict[str, Any]
) -> None:
    s3 = moto.s3()
    name = f"bodies-{uuid.uuid4().hex[:12]}"

    assert aws.create_bucket(moto.endpoint, name, [APP, OTHER_APP], doc=bodies_doc) == name

    assert s3.get_bucket_cors(Bucket=name)["CORSRules"] == [
        {
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["GET", "HEAD"],
            "AllowedOrigins": [APP, OTHER_APP, "null"],
            "ExposeHeaders": ["Content-Length", "Content-Type", "Content-Encoding"],
            "MaxAgeSeconds": 600,
        }
    ]
    rules = {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]}
    assert rules["AnswersLiveADay"]["Expiration"] == {"Days": 1}
    assert rules["AnswersLiveADay"]["Filter"] == {"Prefix": "answers/"}
    assert rules["CachedReadsLiveFileCacheDays"]["Expiration"] == {"Days": 7}  # FileCacheDays' default
    assert rules["CachedReadsLiveFileCacheDays"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    encryption = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    s3.delete_bucket(Bucket=name)


def test_create_bucket_keeps_an_existing_bucket_and_its_objects_and_updates_the_origins(
    moto: StrictMoto, bodies_doc: dict[str, Any]
) -> None:
    s3 = moto.s3()
    name = aws.create_bucket(moto.endpoint, f"bodies-{uuid.uuid4().hex[:12]}", [APP], doc=bodies_doc)
    s3.put_object(Bucket=name, Key="answers/kept", Body=BODY)

    aws.create_bucket(moto.endpoint, name, [OTHER_APP], doc=bodies_doc)

    assert s3.get_object(Bucket=name, Key="answers/kept")["Body"].read() == BODY
    assert s3.get_bucket_cors(Bucket=name)["CORSRules"][0]["AllowedOrigins"] == [OTHER_APP, "null"]
    url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "answers/kept"}, ExpiresIn=300)
    assert cors_of(httpx.get(url, headers={"Origin": "null"}))["access-control-allow-credentials"] == "true"
    assert cors_of(httpx.get(url, headers={"Origin": APP})) == {}
    s3.delete_object(Bucket=name, Key="answers/kept")
    s3.delete_bucket(Bucket=name)
