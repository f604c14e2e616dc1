"""The ``stack`` fixture's promise, that a test never sees another's world, though the table
lives for the whole session (emptied, not recreated) and moto is reset only after a test
changed it: what a test leaves is seen by the check every setup runs, and gone after the
fixture's restore — items, both indexes' entries, a rule and a queue of its own, its events."""

from __future__ import annotations

from typing import Any

import pytest

from devstack import aws
from devstack.api import EVENT_LOG
from devstack.moto_server import leaves_nothing, request_leaves_nothing
from tests.support.browser import Browser, sign_in
from tests.support.stack import EventCapture, Stack, published


def test_what_a_test_leaves_is_seen_by_the_setups_check_and_gone_after_the_restore(
    stack: Stack, browser: Browser, stack_resources: tuple[Any, ...]
) -> None:
    _, baseline, _ = stack_resources
    sign_in(browser, stack.api)  # a session (in the by_user index) and a connection (in by_refresh_due)
    EventCapture(stack.moto)  # a rule and a queue of this test's own
    assert published(stack)  # events in the log

    left = " / ".join(baseline.left_behind(indexes=True))
    for found in ("items in the table", "the index by_user", "the index by_refresh_due", "figma-auth-to-queue"):
        assert found in left

    baseline.restore(EVENT_LOG)

    assert baseline.left_behind(indexes=True) == []
    assert stack.table.items() == [] and published(stack) == []
    assert browser.get(f"{stack.api}/auth/session").status_code == 401


def test_publishing_events_and_using_kms_changes_nothing_a_reset_would_forget(stack: Stack, browser: Browser) -> None:
    sign_in(browser, stack.api)  # KMS (the grant's data key) and EventBridge (the sign-in's event)
    assert published(stack)
    assert aws.reset_moto(stack.moto, if_changed=True) is False

    EventCapture(stack.moto)
    assert aws.reset_moto(stack.moto, if_changed=True) is True


def test_a_change_or_a_reset_through_another_moto_server_in_the_process_is_a_change_for_the_stacks(
    stack: Stack,
) -> None:
    """moto keeps one world per process: a test's own server (tests/support/s3.py) beside the
    session's changes what the session's reset must put back (order-independent, as under xdist)."""
    from tests.support.s3 import StrictMoto

    other = StrictMoto()
    try:
        assert aws.reset_moto(stack.moto, if_changed=True) is False
        other.s3().create_bucket(Bucket="made-through-another-server")
        assert aws.reset_moto(stack.moto, if_changed=True) is True
        aws.install_events(stack.moto)
        aws.moto_baseline(stack.moto)
        aws.moto_baseline(other.endpoint)
        aws.reset_moto(other.endpoint)  # the other server's reset takes the stack's rule and queue
        assert aws.reset_moto(stack.moto, if_changed=True) is True
    finally:
        other.stop()


@pytest.mark.parametrize(
    ("target", "leaves"),
    [
        ("TrentService.GenerateDataKey", True),  # KMS: its keys outlive every reset anyway
        ("TrentService.CreateKey", True),
        ("AWSEvents.PutEvents", True),  # lands in the event log's queue, which the fixture drains
        ("AmazonSQS.ReceiveMessage", True),
        ("AmazonSQS.DeleteMessageBatch", True),
        ("AmazonSQS.GetQueueUrl", True),
        ("AWSEvents.ListRules", True),
        ("AWSEvents.PutRule", False),
        ("AWSEvents.PutTargets", False),
        ("AmazonSQS.CreateQueue", False),
        ("AmazonSQS.SendMessage", False),
        ("secretsmanager.CreateSecret", False),
        ("", False),  # no target (moto's own API, a query-protocol call): counted as a change
    ],
)
def test_moto_counts_every_request_as_a_change_but_kms_publishing_draining_and_reads(target: str, leaves: bool) -> None:
    assert leaves_nothing(target) is leaves


S3_SIGNED = "AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
SQS_SIGNED = S3_SIGNED.replace("/s3/", "/sqs/")


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "leaves"),
    [
        ("PUT", "/bodies/answers/x", "", {"HTTP_AUTHORIZATION": S3_SIGNED}, True),  # an object: keyed by content
        ("GET", "/bodies/answers/x", "X-Amz-Credential=testing%2F20261207%2Fus-east-1%2Fs3%2Faws4_request", {}, True),
        ("POST", "/bodies/answers/x", "uploads", {"HTTP_AUTHORIZATION": S3_SIGNED}, True),
        ("POST", "/bodies", "delete", {"HTTP_AUTHORIZATION": S3_SIGNED}, True),
        ("OPTIONS", "/bodies/answers/x", "", {"HTTP_ORIGIN": "null"}, True),  # a browser's preflight
        ("PUT", "/bodies", "", {"HTTP_AUTHORIZATION": S3_SIGNED}, False),  # a bucket: a reset must forget it
        ("PUT", "/bodies", "cors", {"HTTP_AUTHORIZATION": S3_SIGNED}, False),
        ("DELETE", "/bodies", "", {"HTTP_AUTHORIZATION": S3_SIGNED}, False),
        (
            "POST",
            "/",
            "",
            {"HTTP_AUTHORIZATION": SQS_SIGNED, "CONTENT_TYPE": "application/x-www-form-urlencoded"},
            False,
        ),
        ("POST", "/", "", {"HTTP_X_AMZ_TARGET": "AWSEvents.PutRule"}, False),
        ("POST", "/", "", {"HTTP_X_AMZ_TARGET": "AWSEvents.PutEvents"}, True),
    ],
)
def test_s3_object_requests_leave_nothing_and_bucket_writes_and_other_services_calls_count(
    method: str, path: str, query: str, headers: dict[str, str], leaves: bool
) -> None:
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, **headers}

    assert request_leaves_nothing(environ) is leaves
