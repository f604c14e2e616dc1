"""Hardening 2, item 3: every IAM policy docs/BACKEND.md shows for backends means what it says,
checked against request ARNs (attack paths included) with an evaluator that matches as IAM
does: ``*`` matches ``/`` too, an explicit Deny wins."""

from __future__ import annotations

import pytest

from devstack.iam import allows, invoke_arn
from tests.support.backend_policies import ACCOUNT, ADA, API_ID, REGION, readme_policies

GRACE = "9876543210987654321"


def arn(method: str, path: str) -> str:
    return invoke_arn(region=REGION, account=ACCOUNT, api_id=API_ID, method=method, path=path)


READ = ("GET", f"/connections/{ADA}")
READ_FIGMA = ("GET", f"/connections/{ADA}/figma/v1/files/KEY")
COMMENT = ("POST", f"/connections/{ADA}/figma/v1/files/KEY/comments")
FIGMA_DELETE = ("DELETE", f"/connections/{ADA}/figma/v1/comments/1")
DISCONNECT = ("DELETE", f"/connections/{ADA}")
OTHER_USER = ("GET", f"/connections/{GRACE}/figma/v1/me")
SMUGGLED = ("GET", f"/connections/{GRACE}/figma/v1/files/connections/{ADA}/figma/x")  # names Ada later in its path
PREFIX = ("GET", f"/connections/{ADA}0")  # another user whose id starts with Ada's
LIST = ("GET", "/connections")  # every user's connection
CLEAR = ("DELETE", f"/connections/{ADA}/rate_limits")

EXPECTED = {
    "read": {
        READ: True,
        READ_FIGMA: True,
        OTHER_USER: True,
        LIST: True,
        COMMENT: False,
        FIGMA_DELETE: False,
        DISCONNECT: False,
        CLEAR: False,
    },
    "full": {
        READ: True,
        READ_FIGMA: True,
        LIST: True,
        COMMENT: True,
        FIGMA_DELETE: True,
        DISCONNECT: True,
        CLEAR: True,
    },
    "disconnect": {
        READ: True,
        LIST: True,
        DISCONNECT: True,
        CLEAR: True,
        COMMENT: False,
        FIGMA_DELETE: False,
        READ_FIGMA: True,
    },
    "one-user": {
        READ: True,
        READ_FIGMA: True,
        OTHER_USER: False,
        SMUGGLED: False,
        PREFIX: False,
        LIST: False,
        COMMENT: False,
        DISCONNECT: False,
        CLEAR: False,
    },
}


def test_the_docs_show_each_policy_this_test_checks() -> None:
    assert set(readme_policies()) == set(EXPECTED)


@pytest.mark.parametrize(
    ("name", "method", "path", "allowed"),
    [(name, m, p, ok) for name, cases in EXPECTED.items() for (m, p), ok in cases.items()],
)
def test_hardening_3_each_readme_policy_allows_exactly_what_it_says(
    name: str, method: str, path: str, allowed: bool
) -> None:
    assert allows(readme_policies()[name], arn(method, path)) is allowed


def test_no_readme_policy_reaches_another_api_or_stage() -> None:
    for policy in readme_policies().values():
        other_api = invoke_arn(region=REGION, account=ACCOUNT, api_id="zzz999", method="GET", path=READ[1])
        other_stage = invoke_arn(region=REGION, account=ACCOUNT, api_id=API_ID, method="GET", path=READ[1], stage="dev")
        assert not allows(policy, other_api) and not allows(policy, other_stage)


def test_the_evaluator_matches_as_iam_does_so_the_old_per_user_style_leaks() -> None:
    old_style = {
        "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": arn("*", f"connections/{ADA}/figma/*")}
        ]
    }
    assert allows(old_style, arn(*SMUGGLED))  # the finding: `*` matched "GET/connections/<grace>/figma/v1/files"
    assert allows({"Statement": [{"Effect": "Allow", "Action": "EXECUTE-API:invoke", "Resource": "*"}]}, arn(*READ))
    assert not allows({"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "A?C"}]}, "AC")
    deny_wins = {
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "execute-api:*", "Resource": arn("GET", "*")},
        ]
    }
    assert not allows(deny_wins, arn(*READ)) and allows(deny_wins, arn(*DISCONNECT))
    assert not allows({"Statement": []}, arn(*READ))  # no Allow: no
