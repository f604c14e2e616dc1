"""Operations: deleting everything stored about one user; listing the connections a stack made
before GET /connections existed."""

from __future__ import annotations

from figma_auth import admin
from figma_auth.store.connections import CONNECTION
from tests.support.backend_client import backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, connection_item


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


def test_index_connections_lists_the_connections_made_before_the_listing_once(stack: Stack, capsys):
    ada, grace = Browser(origin=stack.api), Browser(origin=stack.api)
    sign_in(ada, stack.api)
    sign_in(grace, stack.api, user="grace")
    ada_id = ada.get(f"{stack.api}/auth/session").json()["user"]["id"]
    stack.table.client.update_item(  # as an older version left it
        TableName=stack.table.name, Key=CONNECTION.key(ada_id), UpdateExpression="REMOVE listing, created_at"
    )
    assert [c["user"]["handle"] for c in backend(stack).connections()] == ["Grace Hopper"]
    capsys.readouterr()  # the stack's request log so far

    assert admin.main(["index-connections", "--table", stack.table.name]) == 0
    assert admin.main(["index-connections", "--table", stack.table.name]) == 0  # again: nothing left to list

    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("listed")]
    assert printed == [
        "listed 1 connection(s) made before the listing",
        "listed 0 connection(s) made before the listing",
    ]
    assert sorted(c["user"]["id"] for c in backend(stack).connections()) == sorted(
        [ada_id, grace.get(f"{stack.api}/auth/session").json()["user"]["id"]]
    )
    assert "created_at" in (connection_item(stack.table, ada_id) or {})
