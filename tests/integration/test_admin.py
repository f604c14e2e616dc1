"""Operations: deleting everything stored about one user."""

from __future__ import annotations

from figma_auth import admin
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack


def test_delete_user_removes_their_sessions_grants_profile_and_rate_limits_and_nobody_elses(stack: Stack, capsys):
    ada, grace = Browser(origin=stack.api), Browser(origin=stack.api)
    sign_in(ada, stack.api)
    sign_in(ada, stack.api)
    sign_in(grace, stack.api, user="grace")
    ada_id = ada.get(f"{stack.api}/auth/session").json()["user"]["id"]
    stack.emulator.limits(seats={"ada": "view"})  # Tier 3: ten a minute, then a rate-limit entry for Ada
    assert [ada.get(f"{stack.api}/figma/v1/me").status_code for _ in range(11)][-1] == 429
    assert stack.table.kinds() == {"SESSION": 3, "CONN": 3}  # Ada's connection and ledger, Grace's connection

    assert admin.main(["delete-user", ada_id, "--table", stack.table.name]) == 0

    assert "2 session(s)" in capsys.readouterr().out
    assert ada.get(f"{stack.api}/auth/session").status_code == 401
    assert grace.get(f"{stack.api}/auth/session").status_code == 200
    assert stack.table.kinds() == {"SESSION": 1, "CONN": 1}
