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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
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


# The backend's requests are signed by the hook below, after generation: a case generated without
# its Authorization header is signed all the same, so the header is not generated (nor negated).
backend_schema = schemathesis.openapi.from_path(
    str(DOC), config=SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}})
)


@backend_schema.include(path_regex="^/connections").parametrize()
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


# -- what schemathesis does not generate: JSON nested past Python's limit, lone surrogate escapes ------

_SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_TEXT = st.text(alphabet=st.one_of(_SURROGATE, st.characters(max_codepoint=0x2FF)), max_size=20)
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), _TEXT)
_JSON = st.recursive(_LEAF, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3))


def _bodied_operations() -> list[tuple[str, str]]:
    """Every operation of the document that reads a body (and the receiver), path parameters filled."""
    document = json.loads(DOC.read_text())
    found = []
    for path, operations in document["paths"].items():
        for method in operations:
            if method in ("post", "put", "patch", "delete") and not path.startswith("/connections/"):
                found.append((method.upper(), path.replace("{id}", "123").replace("{proxy+}", "v1/me")))
    return sorted(set(found))


@st.composite
def _hostile_body(draw: st.DrawFn) -> bytes:
    """A JSON body with lone surrogate escapes (`\\udXXX`, as json.dumps writes them), wrapped in
    enough lists and objects to pass Python's recursion limit, or not."""
    value = draw(_JSON)
    if isinstance(value, dict):
        value.update(
            draw(
                st.dictionaries(
                    st.sampled_from(
                        [
                            "passcode",
                            "csrf",
                            "webhook_id",
                            "ticket",
                            "user_code",
                            "device_code",
                            "code_verifier",
                            "session_id",
                        ]
                    ),
                    _TEXT,
                )
            )
        )
    text = json.dumps(value)  # ensure_ascii: every surrogate as a \udXXX escape
    depth = draw(st.sampled_from([0, 0, 50, 3000, 20000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    return (opener * depth + text + closer * depth).encode()


@pytest.mark.parametrize(("method", "path"), _bodied_operations())
def test_deep_nesting_and_lone_surrogates_never_make_a_5xx(
    method: str, path: str, api: str, session_token: str
) -> None:
    import httpx

    @given(body=_hostile_body(), signed_in=st.booleans())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def one(body: bytes, signed_in: bool) -> None:
        headers = {"Content-Type": "application/json", "Origin": api}
        if signed_in:
            headers["Authorization"] = f"Bearer {session_token}"
        if signed_in and path == "/auth/logout":
            return  # the session the other fuzzers use stays alive
        answer = httpx.request(method, f"{api}{path}", content=body, headers=headers, timeout=30)
        assert answer.status_code < 500, (method, path, answer.status_code, answer.text[:300])
        if path == "/webhooks/figma":
            assert answer.status_code == 200  # never a 400: Figma stops a webhook answered 400

    one()
