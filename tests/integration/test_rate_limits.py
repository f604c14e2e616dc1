"""Figma's rate limits, remembered per Figma user: the emulator plays Figma's budgets (per user,
plan and tier, by seat), and after Figma's first 429 no call it covers is sent until its deadline,
whatever the user's sign-ins, logouts and disconnects, or until the user (or the backend) clears
the ledger after an upgrade."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack import aws
from devstack.figma_emulator import USERS
from devstack.hooks import AwsCalls
from figma_auth.store.connections import ledger_key
from tests.support.backend_client import RateLimited, backend
from tests.support.browser import Browser, sign_in
from tests.support.stack import SESSION_COOKIE, Stack, connection_item, ledger_item, published

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
        assert body["error"] == "rate_limited" and body["tier"] == 1 and body["scope"] == "user"  # the seat's
        assert abs(body["retry_after"] - deadline) <= 2 and abs(int(ours.headers["Retry-After"]) - deadline) <= 2
        assert body["upgrade_link"] == figmas.headers["X-Figma-Upgrade-Link"]
        assert ours.headers["X-Figma-Plan-Tier"] == "starter" and ours.headers["X-Figma-Rate-Limit-Type"] == "low"
    assert viewer.get(f"{stack.api}/figma/v1/me").status_code == 200  # another tier
    # A file in another plan is the known cost of a seat-wide entry: refused too, without Figma.
    assert viewer.get(f"{stack.api}/figma/v1/files/PRO1").json()["error"] == "rate_limited"
    assert files_seen(stack) == 7


def test_the_views_show_the_limit_and_one_event_tells_the_app(stack: Stack, viewer):
    for _ in range(9):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")

    limits = viewer.get(f"{stack.api}/auth/session").json()["provider"]["rate_limits"]
    assert [(e["tier"], e["scope"], e["type"], e["plan_tier"]) for e in limits] == [(1, "user", "low", "starter")]
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
        Key=ledger_key(ADA),
        UpdateExpression="SET #e.#u = :u, #e.until_ms = :m",
        ExpressionAttributeNames={"#e": "rl#1#user", "#u": "until"},
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
    assert again.value.tier == 1 and again.value.scope == "user" and files_seen(stack) == 7


def test_a_user_wide_limit_covers_every_call_of_its_tier_and_no_other(stack: Stack):
    stack.emulator.limits(seats={"ada": "view"})
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=f"{SCOPES},file_comments:read").status_code == 303
    # Tier 3 for a View seat: 10 a minute; /v1/me names no file, so the limit covers the user
    answers = [browser.get(f"{stack.api}/figma/v1/me") for _ in range(12)]
    assert [a.status_code for a in answers[-2:]] == [429, 429]
    assert answers[-1].json()["scope"] == "user"
    assert browser.get(f"{stack.api}/figma/v1/files/AnyFile/comments").status_code == 200  # tier 2


def test_a_view_seat_reading_five_files_ten_times_costs_figma_seven_calls_one_entry_and_one_event(stack: Stack):
    stack.emulator.limits(seats={"ada": "view"})  # every file in Ada's own plan: one budget of six
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=SCOPES).status_code == 303

    answers = [browser.get(f"{stack.api}/figma/v1/files/FIVE{i % 5}") for i in range(10)]

    assert [a.status_code for a in answers] == [200] * 6 + [429] * 4
    assert files_seen(stack) == 7  # six and the 429
    assert "err" in answers[6].json()  # Figma's own 429, passed back
    for ours in answers[7:]:  # files 2, 3 and 4 again: answered from the ledger
        assert (ours.json()["error"], ours.json()["scope"]) == ("rate_limited", "user")
        assert "this user's seat or plan" in ours.json()["message"]
    limits = browser.get(f"{stack.api}/auth/session").json()["provider"]["rate_limits"]
    assert [(e["tier"], e["scope"], e["type"]) for e in limits] == [(1, "user", "low")]
    assert len(published(stack, "FigmaRateLimited")) == 1


def mid_month(stack: Stack) -> None:
    """The emulator's clock on the 15th of next month at noon: the minutes a test spends stay in one month."""
    now = datetime.now(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    stack.emulator.limits(advance_seconds=(datetime(year, month, 15, 12, tzinfo=UTC) - now).total_seconds())


def test_a_tier_2_meta_limit_blocks_neither_tier_1_nor_tier_3_calls(stack: Stack):
    stack.emulator.limits(seats={"ada": "view"})  # Tier 2: five a minute
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=f"{SCOPES},file_metadata:read").status_code == 303

    metas = [browser.get(f"{stack.api}/figma/v1/files/META1/meta") for _ in range(7)]

    assert [m.status_code for m in metas] == [200] * 5 + [429] * 2
    assert metas[6].json()["error"] == "rate_limited" and metas[6].json()["tier"] == 2  # Figma's 6th, then ours
    read = browser.get(f"{stack.api}/figma/v1/files/META1")  # the read-once cache cannot ask /meta: straight to Figma
    assert read.status_code == 200 and read.headers["X-Figma-Auth-Cache"] == "bypass"
    assert browser.get(f"{stack.api}/figma/v1/me").status_code == 200
    limits = browser.get(f"{stack.api}/auth/session").json()["provider"]["rate_limits"]
    assert [(e["tier"], e["scope"]) for e in limits] == [(2, "user")]


def test_a_tier_1_limit_blocks_neither_meta_nor_tier_3_calls(stack: Stack):
    stack.emulator.limits(seats={"ada": "view"})
    mid_month(stack)
    browser = Browser(origin=stack.api)
    assert sign_in(browser, stack.api, scopes=f"{SCOPES},file_metadata:read").status_code == 303
    reads = [browser.get(f"{stack.api}/figma/v1/files/T1F{i}") for i in range(4)]  # each: /meta, then the file
    stack.emulator.limits(advance_seconds=61)  # a new minute for Tier 2 (five a minute); the month's six go on
    reads += [browser.get(f"{stack.api}/figma/v1/files/T1F{i}") for i in range(4, 7)]
    assert [r.status_code for r in reads] == [200] * 6 + [429]

    meta = browser.get(f"{stack.api}/figma/v1/files/T1F0/meta")
    me = browser.get(f"{stack.api}/figma/v1/me")

    assert meta.status_code == 200 and me.status_code == 200
    refused = browser.get(f"{stack.api}/figma/v1/files/T1F9")  # /meta asked, the read answered from the ledger
    assert (refused.json()["error"], refused.json()["tier"]) == ("rate_limited", 1)
    limits = browser.get(f"{stack.api}/auth/session").json()["provider"]["rate_limits"]
    assert [(e["tier"], e["scope"]) for e in limits] == [(1, "user")]


def limited(browser: Browser, stack: Stack, key: str = "STARTER1") -> dict:
    """The body of a read the ledger refuses (asserted: Figma not called)."""
    seen = files_seen(stack)
    body = dict(browser.get(f"{stack.api}/figma/v1/files/{key}").json())
    assert body["error"] == "rate_limited" and files_seen(stack) == seen, body
    return body


def test_the_ledger_is_an_item_beside_the_connection_that_lives_as_long_as_its_entries(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")

    ledger, connection = ledger_item(stack.table, ADA), connection_item(stack.table, ADA)

    assert ledger is not None and connection is not None
    assert "rl#1#user" in ledger and not any(name.startswith("rl#") for name in connection)
    until = datetime.fromisoformat(ledger["rl#1#user"]["M"]["until"]["S"])
    assert int(ledger["ttl"]["N"]) == int(until.timestamp()) + 1  # DynamoDB deletes it once nothing holds


def test_a_user_at_their_limit_who_logs_out_everywhere_and_signs_in_again_is_still_answered_from_the_ledger(
    stack: Stack, viewer
):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    assert viewer.post(f"{stack.api}/auth/logout", json={"all": True}).status_code == 204
    assert connection_item(stack.table, ADA) is None  # the last session took the connection with it

    again = Browser(origin=stack.api)
    assert sign_in(again, stack.api, scopes=SCOPES).status_code == 303  # a sign-in clears nothing

    assert limited(again, stack)["scope"] == "user" and files_seen(stack) == 7
    assert len(published(stack, "FigmaRateLimited")) == 1


def test_a_disconnect_keeps_the_ledger(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")

    backend(stack).disconnect(ADA)

    assert ledger_item(stack.table, ADA) is not None
    again = Browser(origin=stack.api)
    assert sign_in(again, stack.api, scopes=SCOPES).status_code == 303
    limited(again, stack)


def test_after_an_upgrade_at_figma_the_users_clear_lets_the_next_read_reach_figma_and_succeed(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    stack.emulator.limits(seats={"ada": "full"}, file_plans={"STARTER1": "pro"})  # the user upgraded
    limited(viewer, stack)  # figma-auth does not know yet

    cleared = viewer.delete(f"{stack.api}/auth/rate_limits")

    assert cleared.status_code == 204 and cleared.content == b""
    assert ledger_item(stack.table, ADA) is None
    assert viewer.get(f"{stack.api}/figma/v1/files/STARTER1").status_code == 200
    assert files_seen(stack) == 8
    assert viewer.get(f"{stack.api}/auth/session").json()["provider"]["rate_limits"] == []


def test_a_clear_before_any_upgrade_costs_one_more_refused_call_and_records_it_again(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")

    assert viewer.delete(f"{stack.api}/auth/rate_limits").status_code == 204

    assert viewer.get(f"{stack.api}/figma/v1/files/STARTER1").json() == {"status": 429, "err": "Rate limit exceeded"}
    assert files_seen(stack) == 8
    limited(viewer, stack)  # recorded again
    assert len(published(stack, "FigmaRateLimited")) == 2  # a new entry, a new event


def test_the_clear_takes_a_bearer_token_or_a_cookie_from_an_allowed_origin_only(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    token = viewer.jar(stack.api)[SESSION_COOKIE]

    no_origin = viewer.delete(f"{stack.api}/auth/rate_limits", headers={"Origin": "https://evil.example"})
    nobody = httpx.delete(f"{stack.api}/auth/rate_limits")

    assert (no_origin.status_code, no_origin.json()["error"]) == (403, "csrf_rejected")
    assert (nobody.status_code, nobody.json()["error"]) == (401, "unauthorized")
    assert ledger_item(stack.table, ADA) is not None
    bearer = httpx.delete(f"{stack.api}/auth/rate_limits", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 204 and ledger_item(stack.table, ADA) is None


def test_the_backend_clears_a_users_limits_connected_or_not(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    assert viewer.post(f"{stack.api}/auth/logout", json={"all": True}).status_code == 204

    backend(stack).clear_rate_limits(ADA)  # no connection now: the ledger still goes
    backend(stack).clear_rate_limits("9" * 19)  # a user with nothing to clear: 204 too

    assert ledger_item(stack.table, ADA) is None
    unsigned = httpx.delete(f"{stack.api}/connections/{ADA}/rate_limits")
    assert unsigned.status_code == 403 and unsigned.json() == {"message": "Forbidden"}


def test_the_local_event_log_is_cleared_by_delete(stack: Stack, viewer):
    for _ in range(7):
        viewer.get(f"{stack.api}/figma/v1/files/STARTER1")
    assert [e["source"] for e in published(stack, "FigmaRateLimited")] == ["figma-auth"]
    assert published(stack, "FigmaRateLimited")[0]["time"]

    assert httpx.delete(f"{stack.api}/_devstack/events").status_code == 204

    assert published(stack) == []
