"""`make bench`, section 6: real-size files through the proxy (issue 39).

A 30 MB file made by the emulator, read through the local stack's proxy function (its own worker
process, as a Lambda container): the miss (Figma's gzip stored in S3, a 303 or the bytes held),
the hit, and the direct read of the emulator for comparison; the function's peak memory
(VmHWM of its worker, reset before each read) and CPU time per read with gzip passed through
and without; the AWS calls of a cache hit."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from bench.run import LocalStack

MB = 1024 * 1024
BIG = "BENCH30MB"
HUGE = "BENCH60MB"  # its gzip is over what Lambda returns: streamed to S3
SMALL = "BENCHSMALL"


def _worker_pids(stack: LocalStack, name: str) -> list[int]:
    fn = stack.containers.by_name(name)
    return [pid for pid in stack.containers.pools[fn.logical_id].workers() if pid]


def _reset_peak(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as refs:  # Linux: VmHWM back to the current RSS
        refs.write("5")


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read(http: httpx.Client, url: str, headers: dict[str, str]) -> tuple[int, int, str]:
    """(bytes of the decoded body, status of the first answer, how it came) following a 303."""
    first = http.get(url, headers=headers)
    if first.status_code == 303:
        stored = httpx.get(first.headers["location"], headers={"Accept-Encoding": headers.get("Accept-Encoding", "")})
        return len(stored.content), 303, "303 → S3"
    return len(first.content), first.status_code, first.headers.get("x-figma-auth-cache", "—")


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - started) * 1000


def large_files(stack: LocalStack) -> str:
    from devstack.hooks import AwsCalls
    from tests.support.browser import Browser, sign_in

    stack.fresh_table()
    control = f"{stack.emulator.url}/_emulator/files"
    made = httpx.post(control, json={"key": BIG, "size": 30 * MB}, timeout=120).json()
    httpx.post(control, json={"key": SMALL, "size": 200 * 1024}).raise_for_status()
    httpx.post(control, json={"key": HUGE, "size": 60 * MB}, timeout=120).raise_for_status()
    browser = Browser(origin=stack.api.url)
    sign_in(browser, stack.api.url, scopes="current_user:read,file_content:read,file_metadata:read")
    cookie = "; ".join(f"{k}={v}" for k, v in browser.jar(stack.api.url).items())
    http = httpx.Client(timeout=120, headers={"Cookie": cookie})
    api = f"{stack.api.url}/figma/v1/files"
    token = browser.get(f"{stack.api.url}/auth/session").json()["provider"]["access_token"]
    direct = httpx.Client(timeout=120, headers={"Authorization": f"Bearer {token}"})
    rows: list[list[Any]] = []
    counter = AwsCalls()

    def measure(label: str, url: str, headers: dict[str, str], client: httpx.Client = http) -> None:
        proxied = client is http
        pids = _worker_pids(stack, "figma_proxy")
        for pid in pids:
            _reset_peak(pid)
        cpu_before = sum(_cpu_seconds(p) for p in pids)
        counter.reset()
        (size, status, how), ms = _timed(lambda: _read(client, url, headers))
        peak = max((_peak_mb(p) for p in pids), default=0.0)
        cpu = sum(_cpu_seconds(p) for p in _worker_pids(stack, "figma_proxy")) - cpu_before
        calls = ", ".join(f"{k} {v}" for k, v in sorted(counter.calls.items())) or "—"
        memory, used = (f"{peak:.0f} MB", f"{cpu:.2f} s") if proxied else ("—", "—")
        rows.append([label, f"{size / MB:.1f} MB", status, how, f"{ms:.0f} ms", memory, used, calls])

    gz, plain = {"Accept-Encoding": "gzip"}, {"Accept-Encoding": "identity"}
    http.get(f"{api}/{SMALL}?depth=1", headers=gz)  # a warm container
    for key in (BIG, HUGE):
        direct.get(f"{stack.emulator.url}/v1/files/{key}", headers=gz)  # the emulator builds each file once
    measure("direct from the emulator, gzip", f"{stack.emulator.url}/v1/files/{BIG}", gz, direct)
    measure("direct from the emulator, plain", f"{stack.emulator.url}/v1/files/{BIG}", plain, direct)
    measure("proxy, miss (gzip caller)", f"{api}/{BIG}", gz)
    measure("proxy, hit (gzip caller)", f"{api}/{BIG}", gz)
    measure("proxy, hit (plain caller: decoded in the function)", f"{api}/{BIG}", plain)
    measure("proxy, nodes of one page (miss)", f"{api}/{BIG}/nodes?ids=0:1&depth=1", gz)
    measure("direct from the emulator, 60 MB, gzip", f"{stack.emulator.url}/v1/files/{HUGE}", gz, direct)
    measure("proxy, 60 MB miss (gzip over 4 MiB: streamed to S3)", f"{api}/{HUGE}", gz)
    measure("proxy, 60 MB hit", f"{api}/{HUGE}", gz)
    hits = []
    for _ in range(50):
        counter.reset()
        _, ms = _timed(lambda: http.get(f"{api}/{SMALL}", headers=gz))
        hits.append(ms)
    per_hit = ", ".join(f"{k} {v}" for k, v in sorted(counter.calls.items()))
    return (
        f"The emulator's `{BIG}` ({made.get('bytes', 0) / MB:.1f} MB of JSON), read through the local stack "
        "(the proxy function in its own worker process, moto's S3 and DynamoDB Local on this machine). "
        "Peak memory is the worker's VmHWM, reset before each read; CPU is the worker's user + system time. "
        f"A cache hit on a small file, warm: p50 {statistics.median(hits):.1f} ms over 50 reads; its AWS calls: "
        f"{per_hit}.\n\n"
        + _table(["read", "body", "status", "how", "time", "peak memory", "function CPU", "AWS calls"], rows)
    )


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
