"""examples/protected-api runs locally against the running stack (`make protected-api`): its
own handler answers a request carrying figma-auth's JWT, and a missing, tampered, foreign-
audience or expired-looking token gets API Gateway's 401, as its JWT authorizer would."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from devstack.protected_api import server
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def jwt(live: Stack) -> str:
    browser = Browser(origin=live.api)
    assert sign_in(browser, live.api).status_code == 303
    return str(browser.post(f"{live.api}/auth/jwt").json()["jwt"])


@pytest.fixture
def protected(live: Stack) -> Iterator[str]:
    api = server(live.api, port=0)
    api.serve()
    yield api.url
    api.stop()


def test_the_example_api_answers_a_request_with_figma_auths_jwt(protected: str, jwt: str) -> None:
    answer = httpx.get(f"{protected}/hello", headers={"Authorization": f"Bearer {jwt}"})

    assert answer.status_code == 200 and answer.json()["name"] == "Ada Lovelace"
    assert answer.json()["hello"].isdigit()  # the Figma user id, from the verified claims


@pytest.mark.parametrize("bad", ["none", "tampered", "not bearer"])
def test_the_example_api_refuses_what_api_gateways_jwt_authorizer_refuses(protected: str, jwt: str, bad: str) -> None:
    head, body, signature = jwt.split(".")
    header = {
        "none": {},
        "tampered": {"Authorization": f"Bearer {head}.{body[:-2]}AA.{signature}"},
        "not bearer": {"Authorization": f"Basic {jwt}"},
    }[bad]

    answer = httpx.get(f"{protected}/hello", headers=header)

    assert (answer.status_code, answer.json()) == (401, {"message": "Unauthorized"})


def test_a_jwt_for_another_audience_is_refused(live: Stack, jwt: str) -> None:
    api = server(live.api, port=0, audience=["another-api"])
    api.serve()
    try:
        answer = httpx.get(f"{api.url}/hello", headers={"Authorization": f"Bearer {jwt}"})
    finally:
        api.stop()
    assert answer.status_code == 401
