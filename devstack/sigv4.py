"""API Gateway's AWS_IAM authorization, locally: a request to an AWS_IAM route must carry a
valid Signature Version 4 by a local identity (testing / testing, us-east-1, execute-api; more
in ``DEVSTACK_IAM_USERS``), whose IAM policy allows ``execute-api:Invoke`` on the request's ARN,
or it gets API Gateway's own ``403 {"message": "Forbidden"}`` and no function runs. The
signature is recomputed with botocore's signer, not a SigV4 of our own; a session token is
refused (the local identities have none, and API Gateway checks one with STS).

``DEVSTACK_IAM_USERS``: JSON ``{"ACCESS_KEY": {"secret": "…", "policy": {IAM policy}}}``, e.g.
a second key with the README's one-user policy, to see a scoped backend get 403 outside it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.credentials import FAKE_CREDENTIALS, REGION
from devstack.iam import ALLOW_ALL, allows, invoke_arn

SERVICE = "execute-api"
ACCOUNT_ID = "000000000000"
MAX_SKEW = timedelta(minutes=5)  # API Gateway: "Signature expired … (now - 5 min.)"
API_ID = "local"


@dataclass(frozen=True)
class Identity:
    secret: str
    policy: dict[str, Any]


def identities() -> dict[str, Identity]:
    """The local access keys: ``testing`` may do everything; DEVSTACK_IAM_USERS adds others."""
    found = {FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]: Identity(FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], ALLOW_ALL)}
    for key, user in json.loads(os.environ.get("DEVSTACK_IAM_USERS") or "{}").items():
        found[key] = Identity(str(user["secret"]), dict(user["policy"]))
    return found


_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)"
    r"/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Caller:
    """Who signed: what API Gateway puts in ``requestContext.authorizer.iam``."""

    access_key: str
    policy: dict[str, Any] = field(default_factory=lambda: ALLOW_ALL, compare=False)

    def may_invoke(self, method: str, raw_path: str) -> bool:
        """Whether the caller's IAM policy allows ``execute-api:Invoke`` on this request."""
        arn = invoke_arn(region=REGION, account=ACCOUNT_ID, api_id=API_ID, method=method, path=raw_path)
        return allows(self.policy, arn)

    def authorizer(self) -> dict[str, Any]:
        return {
            "iam": {
                "accessKey": self.access_key,
                "accountId": ACCOUNT_ID,
                "callerId": "AIDALOCALBACKEND",
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/local-backend",
                "userId": "AIDALOCALBACKEND",
            }
        }


def verify(
    *, method: str, raw_path: str, raw_query: str, headers: Mapping[str, str], body: bytes, now: datetime | None = None
) -> Caller | None:
    """The caller when the request is signed as API Gateway requires; None means 403."""
    lowered = {k.lower(): v for k, v in headers.items()}
    found = _AUTH.match(lowered.get("authorization", "").strip())
    if found is None:
        return None
    if "x-amz-security-token" in lowered:
        return None  # no local identity has a session token: a made-up one is refused, as STS would
    identity = identities().get(found["key"])
    secret = identity.secret if identity else None
    signed = found["signed"].split(";")
    stamp = lowered.get("x-amz-date", "")
    if secret is None or "host" not in signed or "x-amz-date" not in signed or not stamp.startswith(found["date"]):
        return None
    if (found["region"], found["service"]) != (REGION, SERVICE):
        return None
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    if abs((now or datetime.now(UTC)) - signed_at) > MAX_SKEW:
        return None
    declared = lowered.get("x-amz-content-sha256")
    if declared is not None and declared != hashlib.sha256(body).hexdigest():
        return None  # a body changed after signing, under a signed hash of the old one
    if any(name not in lowered for name in signed):
        return None
    url = f"http://{lowered['host']}{raw_path}" + (f"?{raw_query}" if raw_query else "")
    request = AWSRequest(method=method, url=url, headers={n: lowered[n] for n in signed}, data=body)
    request.context["timestamp"] = stamp
    auth = SigV4Auth(Credentials(found["key"], secret), SERVICE, REGION)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if identity is None or not hmac.compare_digest(expected, found["signature"]):
        return None
    return Caller(found["key"], identity.policy)
