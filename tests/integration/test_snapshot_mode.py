"""The local stack's snapshot mode (DEVSTACK_SNAPSHOT=1), SnapStart's imitation: a function's
init runs once in a snapshot process and every worker is a fork of it that runs the
after-restore hooks; signed-in traffic works through such workers as through cold ones."""

from __future__ import annotations

import httpx
import pytest

from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_workers_restored_from_one_snapshot_sign_in_and_call_figma(stack: Stack, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DEVSTACK_SNAPSHOT", "1")  # a new deployment: every worker from now on is restored
    browser = Browser(origin=stack.api)
    done = sign_in(browser, stack.api, scopes="current_user:read,file_content:read")
    assert done.status_code == 303 and "error" not in done.headers["location"]
    session = browser.get(f"{stack.api}/auth/session")
    assert session.status_code == 200 and session.json()["user"]["handle"] == "Ada Lovelace"
    assert browser.get(f"{stack.api}/figma/v1/files/AbC123").status_code == 200
    assert httpx.get(f"{stack.api}/auth/session").status_code == 401

    pool = stack.containers.pools["SessionFunction"]
    pool.warm()  # a second restore of the same snapshot
    assert pool.snapshot is not None and pool.snapshot.alive()
    workers = pool.workers()
    assert len(workers) >= 2
    assert {parent_of(pid) for pid in workers} == {pool.snapshot.proc.pid}  # forks of the one init
