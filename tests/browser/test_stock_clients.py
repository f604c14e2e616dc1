"""A stock RFC 8628 client (panva's openid-client) signs in against the running stack from the
issuer alone, while a person confirms the code in Chromium on our verify page and consents at
Figma (the emulator); the library's access token then works as a Bearer session and through
the proxy."""

from __future__ import annotations

import httpx
import pytest

from tests.support.chromium import allow_at_figma
from tests.support.stack import Stack
from tests.support.stock import DeviceLogin

pytestmark = pytest.mark.e2e


def test_a_stock_device_client_signs_in_while_a_person_confirms_in_chromium(page, live: Stack) -> None:  # noqa: ANN001
    client = DeviceLogin(live.api, "current_user:read file_content:read")
    try:
        started = client.next()
        assert started["event"] == "started" and started["issuer"] == live.api

        page.goto(started["verification_uri_complete"])
        page.click("#continue")  # our page's form
        assert page.text_content("#user-code") == started["user_code"]  # the person checks the code
        assert page.text_content("#client") == "figma-cli"  # and sees who asks
        page.click("#confirm")
        page.wait_for_url("**/oauth?**")
        allow_at_figma(page)
        page.wait_for_selector("#done")
        token = client.next()
    finally:
        client.close()

    assert token["event"] == "token", token
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(f"{live.api}/auth/session", headers=bearer).json()["user"]["handle"] == "Ada Lovelace"
    file = httpx.get(f"{live.api}/figma/v1/files/StockFile1", headers=bearer)
    assert file.status_code == 200 and "StockFile1" in file.text
