"""Figma's rate limits, remembered per connection: the emulator plays Figma's budgets (per user,
plan and tier, by seat), and after Figma's first 429 no call it covers is sent until its deadline."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack import aws
from devstack.figma_emulator import USERS
from devstack.hooks import AwsCalls
from tests.support.backend_client import RateLimited, backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import Stack, connection_item, published

ADA = USERS["ada"]["id"]
SCOPES = "current_user:read,file_content:read"


@pytest.fixture
def viewer(stack: Stack) -> Browser:
    """Ada with a View seat: six Tier-1 calls a month per plan; file STARTER1 is in a Starter plan."""
    stack.emulator.limits(seats={"ada": "view"}, file_plans={"STARTER1": "starter", "PRO1": "pro"})
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=SCOPES).status_code == 303
    return browser


def files_seen(stack: Stack) -> int:
    return stack.emulator.calls().get("files", 0)


def test_a_view_seat_gets_six_file_reads_then_figmas_429_then_ours_without_calling_figma(stack: Stack, viewer):
    answers = [viewer.get(f"{stack.api}/figma/v1/files/STARTER1") for _ in range(10)]

    assert [a.status_code for a in answers] == [200] * 6 + [429] * 4
    assert files_seen(stack) == 7  # six and the 429
    figmas = answers[6]
    assert figmas.json() == {"status": 429, "err": "Rate limit exceeded"}  # passed back as Figma gave it
    assert figmas.headers["X-Figma-Rate-Limit-Type"] == "low"
    deadline = int(figmas.headers["Retry-After"])
    assert deadline > 3600  # the month's budget: days, not seconds
    for ours in answers[7:]:
        body = ours.json()
        assert body["error"] == "rate_limited" and body["tier"] == 1 and body["scope"] == "file:STARTER1"
        assert abs(body["retry_after"] - deadline) <= 2 and abs(int(ours.headers["Retry-After"]) - deadline) <= 2
        assert body["upgrade_link"] == figmas.headers["X-Figma-Upgrade-Link"]
        assert ours.headers["X-Figma-Plan-Tier"] == "starter" and ours.headers["X-Figma-Rate-Limit-Type"] == "low"
    assert viewer.get(f"{stack.api}/figma/v1/me").status_code == 200  # another tier
    assert viewer.get(f"{stack.api}/figma/v1/files/PRO1").status_code == 200  # another file's plan


def test_the_views_show_the_limit_and_one_event_tells_the_app(stack: Stack, viewer):
    for _ in range(9):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")

    limits = viewer.get(f"{stack.api}/auth/session").json()["provider"]["rate_limits"]
    assert [(e["tier"], e["scope"], e["type"], e["plan_tier"]) for e in limits] == [
        (1, "file:STARTER1", "low", "starter")
    ]
    assert e_upgrade(limits[0]).startswith("https://www.figma.com/")
    connection = backend(stack).connection(ADA)
    assert connection["provider"]["rate_limits"] == limits
    events = published(stack, "FigmaRateLimited")
    assert len(events) == 1  # one per ledger entry, not one per refused call
    assert events[0]["detail"] == {"user_id": ADA, **limits[0]}


def e_upgrade(entry: dict) -> str:
    return str(entry["upgrade_link"])


def test_a_refused_call_costs_one_dynamodb_read_and_no_refresh_or_kms(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    counter = AwsCalls()
    before = stack.emulator.calls()

    refused = viewer.get(f"{stack.api}/figma/v1/files/STARTER1")

    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert stack.emulator.calls() == before  # Figma: nothing
    assert dict(counter.calls) == {"dynamodb:BatchGetItem": 1}


def test_when_the_deadline_passes_calls_flow_again(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    assert viewer.get(f"{stack.api}/figma/v1/files/STARTER1").json()["error"] == "rate_limited"

    # Time passes: the emulator's clock moves into next month, and the ledger's deadline is behind us.
    stack.emulator.limits(advance_seconds=40 * 86400)
    past = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    aws.client("dynamodb", stack.table.endpoint).update_item(
        TableName=stack.table.name,
        Key={"pk": {"S": f"CONN#{ADA}"}, "sk": {"S": "CONN"}},
        UpdateExpression="SET #e.#u = :u, #e.until_ms = :m",
        ExpressionAttributeNames={"#e": "rl#1#file:STARTER1", "#u": "until"},
        ExpressionAttributeValues={":u": {"S": past}, ":m": {"N": "0"}},
    )

    assert viewer.get(f"{stack.api}/figma/v1/files/STARTER1").status_code == 200
    assert viewer.get(f"{stack.api}/auth/session").json()["provider"]["rate_limits"] == []


def test_twenty_parallel_calls_reach_figma_only_until_the_first_429_is_recorded(stack: Stack, viewer):
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def call() -> None:
        answer = viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=call) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    ok = [a for a in answers if a.status_code == 200]
    figmas_429 = [a for a in answers if a.status_code == 429 and "err" in a.json()]
    ours = [a for a in answers if a.status_code == 429 and a.json().get("error") == "rate_limited"]
    assert (len(ok), len(figmas_429) + len(ours)) == (6, 14)
    assert files_seen(stack) == 6 + len(figmas_429)  # Figma saw the ones in flight when it first said 429
    print(f"20 parallel: Figma saw {files_seen(stack)} (6 + {len(figmas_429)} in flight), ours answered {len(ours)}")
    seen = files_seen(stack)
    assert viewer.get(f"{stack.api}/figma/v1/files/STARTER1").json()["error"] == "rate_limited"
    assert files_seen(stack) == seen
    assert len(published(stack, "FigmaRateLimited")) == 1  # the racing 429s recorded one entry


def test_a_backend_job_over_a_hundred_files_stops_at_rate_limited_after_at_most_seven_figma_calls(stack: Stack, viewer):
    keys = [f"JOB{i}" for i in range(100)]
    stack.emulator.limits(file_plans=dict.fromkeys(keys, "starter"))
    done: list[str] = []

    with pytest.raises(RateLimited) as stopped:
        for key in keys:
            backend(stack).figma(ADA, "GET", f"/v1/files/{key}")
            done.append(key)

    assert len(done) == 6 and files_seen(stack) <= 7
    assert stopped.value.retry_after is not None and stopped.value.retry_after > 3600
    assert stopped.value.upgrade_link and stopped.value.status == 429
    # and the ledger's answer for the file Figma refused is the helper's RateLimited too, without Figma
    with pytest.raises(RateLimited) as again:
        backend(stack).figma(ADA, "GET", f"/v1/files/{keys[6]}")
    assert again.value.tier == 1 and again.value.scope == f"file:{keys[6]}" and files_seen(stack) == 7


def test_a_user_wide_limit_covers_every_call_of_its_tier_and_no_other(stack: Stack):
    stack.emulator.limits(seats={"ada": "view"})
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=f"{SCOPES},file_comments:read").status_code == 303
    # Tier 3 for a View seat: 10 a minute; /v1/me names no file, so the limit covers the user
    answers = [browser.get(f"{stack.api}/figma/v1/me") for _ in range(12)]
    assert [a.status_code for a in answers[-2:]] == [429, 429]
    assert answers[-1].json()["scope"] == "user"
    assert browser.get(f"{stack.api}/figma/v1/files/AnyFile/meta").json()["error"] == "rate_limited"  # tier 3 too
    assert browser.get(f"{stack.api}/figma/v1/files/AnyFile/comments").status_code == 200  # tier 2


def test_unknown_paths_are_counted_as_tier_1(stack: Stack):
    from figma_auth.figma_tiers import classify

    assert classify("GET", "/v1/some/new/endpoint").tier == 1
    assert classify("GET", "/v1/files/K/nodes").tier == 1 and classify("GET", "/v1/files/K/nodes").scope == "file:K"
    assert classify("GET", "/v1/me").tier == 3 and classify("GET", "/v1/me").scope == "user"


def test_the_ledger_entry_is_on_the_connection_item_and_survives_a_new_sign_in(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    item = connection_item(stack.table, ADA)
    assert item is not None and "rl#1#file:STARTER1" in item

    assert sign_in(Browser(origin=stack.api), stack.api, scopes=SCOPES).status_code == 303

    assert viewer.get(f"{stack.api}/figma/v1/files/STARTER1").json()["error"] == "rate_limited"


def test_the_local_event_log_is_cleared_by_delete(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    assert [e["source"] for e in published(stack, "FigmaRateLimited")] == ["figma-auth"]
    assert published(stack, "FigmaRateLimited")[0]["time"]

    assert httpx.delete(f"{stack.api}/_devstack/events").status_code == 204

    assert published(stack) == []
