"""Load on the local stack over real HTTP (moto server, the emulator, the local API): bounded
counts on loopback. Latencies go to tests/.artifacts/load.json (targets live in `make bench`)."""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

import httpx

from tests.support.browser import Browser, sign_in
from tests.support.stack import SESSION_COOKIE, Stack

ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts"


def record(name: str, samples_ms: list[float]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "load.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = {
        "n": len(samples_ms),
        "p50_ms": round(statistics.median(samples_ms), 1),
        "p99_ms": round(statistics.quantiles(samples_ms, n=100)[98], 1) if len(samples_ms) > 1 else None,
    }
    path.write_text(json.dumps(data, indent=2))


def run_threads(n: int, work) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # surfaced below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]


def test_thirty_people_signing_in_at_once_get_thirty_working_sessions_and_connections(stack: Stack):
    tokens: list[str] = []
    durations: list[float] = []

    def login(i: int) -> None:
        browser = Browser(origin=stack.api)
        started = time.perf_counter()
        done = sign_in(browser, stack.api, user=f"load{i}")
        durations.append((time.perf_counter() - started) * 1000)
        assert done.headers["location"] == f"{stack.api}/app/done"
        tokens.append(browser.jar(stack.api)[SESSION_COOKIE])

    run_threads(30, login)

    assert len(set(tokens)) == 30
    with httpx.Client() as client:
        views = [
            client.get(f"{stack.api}/auth/session", headers={"Authorization": f"Bearer {t}"}).json() for t in tokens
        ]
    assert len({v["session"]["id"] for v in views}) == 30
    assert all(stack.emulator.me(v["provider"]["access_token"]).status_code == 200 for v in views)
    assert stack.table.kinds() == {"SESSION": 30, "CONN": 30}
    record("login (authorize + consent + callback), 30 at once", durations)


def test_six_hundred_session_reads_from_thirty_threads_all_succeed(stack: Stack):
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)
    headers = {"Authorization": f"Bearer {browser.jar(stack.api)[SESSION_COOKIE]}"}
    statuses: list[int] = []
    durations: list[float] = []

    def reads(_: int) -> None:
        with httpx.Client(timeout=30) as client:
            for _ in range(20):
                started = time.perf_counter()
                statuses.append(client.get(f"{stack.api}/auth/session", headers=headers).status_code)
                durations.append((time.perf_counter() - started) * 1000)

    run_threads(30, reads)

    assert statuses == [200] * 600
    record("GET /auth/session, 600 from 30 threads", durations)


def test_twenty_concurrent_refreshes_over_five_sessions_of_one_user_cost_one_figma_call(stack: Stack):
    sessions = []
    for _ in range(5):
        browser = Browser(origin=stack.api)
        sign_in(browser, stack.api)
        sessions.append({"Authorization": f"Bearer {browser.jar(stack.api)[SESSION_COOKIE]}"})
    statuses: list[int] = []
    tokens: set[str] = set()
    durations: list[float] = []

    def refresh(i: int) -> None:
        with httpx.Client(timeout=30) as client:
            started = time.perf_counter()
            answer = client.post(f"{stack.api}/auth/refresh?min_validity=999999", headers=sessions[i % 5])
            durations.append((time.perf_counter() - started) * 1000)
            statuses.append(answer.status_code)
            tokens.add(answer.json()["provider"]["access_token"])

    run_threads(20, refresh)

    assert statuses == [200] * 20 and stack.emulator.calls()["refresh"] == 1
    assert len(tokens) == 1 and stack.emulator.me(tokens.pop()).status_code == 200
    record("POST /auth/refresh, 20 at once over 5 sessions of one user", durations)
