"""The read-once cache on the local stack against the emulator's real files: each file version
read from Figma once however many users read it, a stranger refused by Figma's own /meta answer
with no stored byte, a spent View seat answered from the last version with max-stale, and a
deleted file forgotten."""

from __future__ import annotations

import json

import httpx

from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack

READ = "current_user:read,file_content:read,file_metadata:read"
FILE = "GET /v1/files/{file_key}"
META = "GET /v1/files/{file_key}/meta"


def user(stack: Stack, key: str, scopes: str = READ) -> Browser:
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, user=key, scopes=scopes).status_code == 303
    return browser


def test_ten_users_reading_one_file_three_times_cost_figma_one_file_read_then_one_per_edit(stack: Stack):
    stack.emulator.make_file("Shared10", 200_000, plan="pro")
    readers = [user(stack, f"reader{i}") for i in range(10)]
    before = stack.emulator.calls()

    answers = [r.get(f"{stack.api}/figma/v1/files/Shared10") for _ in range(3) for r in readers]

    calls = stack.emulator.calls()
    assert calls.get(FILE, 0) - before.get(FILE, 0) == 1
    assert calls.get(META, 0) - before.get(META, 0) == 30
    assert [a.status_code for a in answers] == [200] * 30
    assert [a.headers["x-figma-auth-cache"] for a in answers] == ["miss"] + ["hit"] * 29
    assert len({a.content for a in answers}) == 1 and json.loads(answers[0].content)["document"]

    version = stack.emulator.edit_file("Shared10")
    after_edit = [r.get(f"{stack.api}/figma/v1/files/Shared10") for r in readers]

    assert stack.emulator.calls()[FILE] - before.get(FILE, 0) == 2
    assert {a.headers["x-figma-version"] for a in after_edit} == {version}
    assert json.loads(after_edit[0].content)["version"] == version


def test_a_user_figma_refuses_gets_figmas_403_and_no_cached_byte(stack: Stack):
    stack.emulator.make_file("Private1", 50_000, readers=["ada"])
    ada, grace = user(stack, "ada"), user(stack, "grace")
    assert ada.get(f"{stack.api}/figma/v1/files/Private1").status_code == 200  # stored now

    refused = grace.get(f"{stack.api}/figma/v1/files/Private1")
    stale = grace.get(f"{stack.api}/figma/v1/files/Private1", headers={"Cache-Control": "max-stale"})

    for answer in (refused, stale):
        assert answer.status_code == 403 and b"document" not in answer.content
        assert "x-figma-auth-cache" not in answer.headers


def test_a_spent_view_seat_gets_the_last_version_with_max_stale_and_the_version_without(stack: Stack):
    stack.emulator.make_file("Viewed1", 20_000)
    stack.emulator.limits(seats={"ada": "view"})
    ada = user(stack, "ada")
    first = ada.get(f"{stack.api}/figma/v1/files/Viewed1")
    for n in range(5):  # the rest of the month's six Tier-1 reads, on other files
        stack.emulator.limits(advance_seconds=61)  # a minute apart: /meta's Tier 2 (5 a minute) never refuses
        assert ada.get(f"{stack.api}/figma/v1/files/Other{n}?depth=1").status_code == 200
    stack.emulator.limits(advance_seconds=61)
    stack.emulator.edit_file("Viewed1")

    stale = ada.get(f"{stack.api}/figma/v1/files/Viewed1", headers={"Cache-Control": "max-stale"})
    refused = ada.get(f"{stack.api}/figma/v1/files/Viewed1")

    assert stale.status_code == 200 and stale.headers["x-figma-auth-cache"] == "stale"
    assert stale.headers["x-figma-version"] == first.headers["x-figma-version"]
    assert int(stale.headers["age"]) >= 0 and int(stale.headers["retry-after"]) > 0
    assert stale.content == first.content
    assert refused.status_code == 429
    assert refused.json()["stale_version"] == first.headers["x-figma-version"]


def test_without_file_metadata_read_the_cache_is_bypassed(stack: Stack):
    stack.emulator.make_file("NoMeta1", 10_000)
    ada = user(stack, "ada", scopes="current_user:read,file_content:read")
    before = stack.emulator.calls()

    answers = [ada.get(f"{stack.api}/figma/v1/files/NoMeta1") for _ in range(2)]

    assert [a.headers["x-figma-auth-cache"] for a in answers] == ["bypass", "bypass"]
    assert stack.emulator.calls()[FILE] - before.get(FILE, 0) == 2
    assert stack.emulator.calls().get(META, 0) == before.get(META, 0)


def test_figmas_request_too_large_passes_through_with_advice(stack: Stack):
    stack.emulator.make_file("Big60", 60 * 1024 * 1024)
    httpx.post(f"{stack.emulator.url}/_emulator/files/too_large", json={"bytes": 50 * 1024 * 1024}).raise_for_status()
    ada = user(stack, "ada")

    answer = ada.get(f"{stack.api}/figma/v1/files/Big60", headers={"Accept-Encoding": "identity"})

    assert answer.status_code == 400
    assert answer.json()["err"].startswith("Request too large")
    assert "ids=" in answer.json()["message"] and "depth=" in answer.json()["message"]


def test_variables_on_a_pro_plan_get_figmas_403(stack: Stack):
    stack.emulator.make_file("Vars1", 10_000, plan="pro")
    ada = user(stack, "ada", scopes="current_user:read,file_variables:read")

    answer = ada.get(f"{stack.api}/figma/v1/files/Vars1/variables/local")

    assert answer.status_code == 403 and answer.json()["status"] == 403


def test_a_deleted_files_cached_reads_are_forgotten(stack: Stack):
    stack.emulator.make_file("Doomed1", 10_000)
    ada = user(stack, "ada", scopes=READ + ",webhooks:write,webhooks:read")
    hook = ada.post(
        f"{stack.api}/auth/webhooks", json={"event_type": "FILE_DELETE", "context": "file", "context_id": "Doomed1"}
    )
    assert hook.status_code == 201, hook.text
    assert ada.get(f"{stack.api}/figma/v1/files/Doomed1").headers["x-figma-auth-cache"] == "miss"
    assert any(i["pk"]["S"] == "FILE#Doomed1" for i in stack.table.items())

    httpx.post(f"{stack.emulator.url}/_emulator/files/delete", json={"key": "Doomed1"}).raise_for_status()

    # (the emulator delivers FILE_DELETE to the file's FILE_DELETE webhook before it answers)
    assert not any(i["pk"]["S"] == "FILE#Doomed1" for i in stack.table.items())


def test_readers_arriving_at_the_same_moment_cost_figma_one_file_read(stack: Stack):
    from concurrent.futures import ThreadPoolExecutor

    stack.emulator.make_file("Rush5", 500_000)
    readers = [user(stack, f"rusher{i}") for i in range(5)]
    stack.emulator.config(latency_ms=400)  # every Figma call takes a while: the readers overlap
    before = stack.emulator.calls()

    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda r: r.get(f"{stack.api}/figma/v1/files/Rush5"), readers))

    assert [a.status_code for a in answers] == [200] * 5
    assert stack.emulator.calls()[FILE] - before.get(FILE, 0) == 1
    assert sorted(a.headers["x-figma-auth-cache"] for a in answers) == ["hit"] * 4 + ["miss"]
    assert len({a.content for a in answers}) == 1
