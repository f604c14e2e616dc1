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


def test_thirty_logins_at_once_make_thirty_distinct_working_sessions(stack: Stack):
    tokens: list[str] = []
    durations: list[float] = []

    def login(i: int) -> None:
        browser = Browser(origin=stack.api)
        started = time.perf_counter()
        done = sign_in(browser, stack.api, user="ada" if i % 2 else "grace")
        durations.append((time.perf_counter() - started) * 1000)
        assert done.headers["location"] == f"{stack.api}/app/done"
        tokens.append(browser.jar(stack.api)[SESSION_COOKIE])

    run_threads(30, login)

    assert len(set(tokens)) == 30
    with httpx.Client() as client:
        ids = {
            client.get(f"{stack.api}/auth/session", headers={"Authorization": f"Bearer {t}"}).json()["session"]["id"]
            for t in tokens
        }
    assert len(ids) == 30 and stack.table.kinds()["SESSION"] == 30
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


def test_twenty_concurrent_refreshes_cost_one_figma_call(stack: Stack):
    browser = Browser(origin=stack.api)
    sign_in(browser, stack.api)
    headers = {"Authorization": f"Bearer {browser.jar(stack.api)[SESSION_COOKIE]}"}
    statuses: list[int] = []
    durations: list[float] = []

    def refresh(_: int) -> None:
        with httpx.Client(timeout=30) as client:
            started = time.perf_counter()
            statuses.append(client.post(f"{stack.api}/auth/refresh?min_validity=999999", headers=headers).status_code)
            durations.append((time.perf_counter() - started) * 1000)

    run_threads(20, refresh)

    assert statuses == [200] * 20 and stack.emulator.calls()["refresh"] == 1
    record("POST /auth/refresh, 20 at once on one session", durations)
