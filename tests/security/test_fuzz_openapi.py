"""Schemathesis against the running local stack (`python -m devstack run`, what `make run`
starts), driven by the OpenAPI document that stack serves at /openapi.json.

For every operation, valid and invalid requests (positive and negative generation, plus
schemathesis's boundary "coverage" cases): never a 5xx, invalid input always a 4xx, and every
answer is a status, content type and body the document declares.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, SubprocessStack

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
ARTIFACT = Path(__file__).resolve().parents[1] / ".artifacts" / "fuzz.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
_examples: Counter[str] = Counter()
_lock = threading.Lock()


@pytest.fixture(scope="module")
def api(running_stack: tuple[Stack, SubprocessStack]) -> str:
    stack, _ = running_stack
    return stack.api


@pytest.fixture(scope="module")
def session_token(running_stack: tuple[Stack, SubprocessStack]) -> Iterator[str]:
    stack, _ = running_stack
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api, success=f"{stack.api}/done", failure=f"{stack.api}/failed")
    token = browser.jar(stack.api)["__Host-figma_auth_session"]
    browser.close()
    yield token


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(json.dumps({"examples": sum(_examples.values()), "by_test": dict(_examples)}, indent=2))


# The published document (tests/unit/test_openapi.py keeps it equal to what the stack serves).
schema = schemathesis.openapi.from_path(str(DOC))
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _run(case: Any, api: str, kind: str, headers: dict[str, str] | None = None) -> None:
    with _lock:
        _examples[kind] += 1
    case.call_and_validate(base_url=api, headers=headers, checks=CHECKS, allow_redirects=False, timeout=30)


@schema.parametrize()
@FUZZ
def test_anonymous_requests_never_fail_on_our_side_and_bad_input_is_4xx(case: Any, api: str) -> None:
    _run(case, api, "anonymous")


class SigV4:
    """requests' auth hook: sign each generated request as a backend would (botocore, local credentials)."""

    def __call__(self, request: Any) -> Any:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body,
            headers={"Host": request.headers.get("Host") or request.url.split("/")[2]},
        )
        SigV4Auth(Credentials("testing", "testing"), "execute-api", "us-east-1").add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@schema.include(path_regex="^/connections/").parametrize()
@FUZZ
def test_signed_backend_requests_never_fail_on_our_side_and_bad_input_is_4xx(case: Any, api: str) -> None:
    with _lock:
        _examples["backend"] += 1
    response = case.call_and_validate(base_url=api, checks=CHECKS, allow_redirects=False, timeout=30, auth=SigV4())
    assert response.status_code != 403, "API Gateway (the local stack) refused the signature"


@schema.exclude(method="POST", path="/auth/logout").parametrize()
@FUZZ
def test_signed_in_requests_never_fail_on_our_side_and_bad_input_is_4xx(
    case: Any, api: str, session_token: str
) -> None:
    _run(case, api, "signed_in", {"Authorization": f"Bearer {session_token}"})


def test_the_fuzzing_ran_its_share_and_the_signed_in_session_survived_it(api: str, session_token: str) -> None:
    """After the three fuzzers (this file's order): each kind sent its requests, and the Bearer
    session they used is still alive, so signed-in fuzzing never quietly became anonymous 401s."""
    import httpx

    assert _examples["anonymous"] >= 1000 and _examples["signed_in"] >= 1000 and _examples["backend"] >= 300, _examples
    alive = httpx.get(f"{api}/auth/session", headers={"Authorization": f"Bearer {session_token}"})
    assert alive.status_code == 200, alive.text
