"""IAM policy evaluation for the local API's AWS_IAM routes, as IAM decides for
``execute-api:Invoke``: an explicit Deny wins, then any Allow, else no. Actions match without
regard to case, resources with it; in both ``*`` matches any run of characters (``/``
included: that is how a per-user policy written with a wildcard before ``connections/`` leaks
to other users) and ``?`` exactly one. Conditions are not evaluated: a statement with one is
refused rather than half-understood."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

INVOKE = "execute-api:Invoke"
ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": INVOKE, "Resource": "*"}],
}


@cache
def _pattern(glob: str, *, fold: bool) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in glob)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if fold else re.DOTALL)


def _listed(value: str | Iterable[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def matches(glob: str, value: str, *, fold: bool = False) -> bool:
    return _pattern(glob, fold=fold).fullmatch(value) is not None


def allows(policy: dict[str, Any], resource: str, action: str = INVOKE) -> bool:
    """Whether ``policy`` lets its principal do ``action`` on ``resource``."""
    allowed = False
    for statement in _listed_statements(policy):
        if "Condition" in statement:
            raise ValueError("conditions are not evaluated here")
        acts = any(matches(a, action, fold=True) for a in _listed(statement["Action"]))
        if not acts or not any(matches(r, resource) for r in _listed(statement["Resource"])):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = allowed or statement["Effect"] == "Allow"
    return allowed


def _listed_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def invoke_arn(*, region: str, account: str, api_id: str, method: str, path: str, stage: str = "$default") -> str:
    """The ARN API Gateway authorizes a request as: ``…:API_ID/STAGE/METHOD/path``."""
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/{path.lstrip('/')}"
