"""`make run` as a process (`python -m devstack run`): it plays the template's schedules, `make
invoke` runs an event with its settings (a stack started for your own Figma app included), and
SIGINT or SIGTERM stops it within 5 s whatever its clients hold open, freeing its ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack import schedules
from devstack.template import ROOT, functions, load
from tests.support.stack import SubprocessStack

OWN_APP = {
    "FIGMA_CLIENT_ID": "my-own-figma-app",
    "FIGMA_CLIENT_SECRET": "my-own-secret",
    "DEVSTACK_SCHEDULE_SECONDS": "1",
}


def wait_for(predicate, seconds: float = 30) -> bool:  # type: ignore[no-untyped-def]
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def hold_connections(api: str) -> list[socket.socket]:
    """A request whose headers never finish, and an idle keep-alive connection after an answer."""
    host, port = api.removeprefix("http://").split(":")
    unfinished = socket.create_connection((host, int(port)))
    unfinished.sendall(b"GET /auth/session HTTP/1.1\r\nHost: local\r\n")
    idle = socket.create_connection((host, int(port)))
    idle.sendall(b"GET /auth/session HTTP/1.1\r\nHost: local\r\nConnection: keep-alive\r\n\r\n")
    assert idle.recv(12).startswith(b"HTTP/1.1 401")
    return [unfinished, idle]


def free(api: str) -> bool:
    host, port = api.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the next `make run`'s servers bind
        try:
            probe.bind((host, int(port)))
        except OSError:
            return False
    return True


def stopped_within(stack: SubprocessStack, sig: int, api: str) -> float:
    held = hold_connections(api)
    started = time.monotonic()
    stack.proc.send_signal(sig)
    try:
        stack.proc.wait(timeout=15)
    finally:
        for connection in held:
            connection.close()
    return time.monotonic() - started


def test_a_stack_for_your_own_figma_app_plays_its_schedules_runs_make_invoke_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    stack = SubprocessStack(tmp_path, env=OWN_APP)
    try:
        info = stack.wait_ready()
        ran = lambda: "[schedule] refresh_scheduler:" in "".join(stack.output)  # noqa: E731
        assert wait_for(ran), "".join(stack.output)[-2000:]  # every second here (DEVSTACK_SCHEDULE_SECONDS)
        assert wait_for(lambda: "[schedule] webhook_reconciler:" in "".join(stack.output))

        invoked = subprocess.run(
            [
                sys.executable,
                "-m",
                "devstack",
                "invoke",
                "session",
                str(ROOT / "events" / "session.json"),
                "--state-file",
                str(stack.state_file),
            ],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("FIGMA_")}
            | {"PYTHONPATH": f"{ROOT / 'shared'}:{ROOT}"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert invoked.returncode == 0, invoked.stderr  # was: "FIGMA_CLIENT_ID is required"
        assert json.loads(invoked.stdout)["statusCode"] == 401  # the event's session exists in no table

        assert stopped_within(stack, signal.SIGTERM, info["api"]) < 5
        assert stack.proc.returncode == 0 and free(info["api"]) and free(info["demo"])
    finally:
        stack.stop()


def test_sigint_stops_it_within_5_s_whatever_its_clients_hold_open(tmp_path: Path) -> None:
    stack = SubprocessStack(tmp_path)
    try:
        info = stack.wait_ready()
        assert stopped_within(stack, signal.SIGINT, info["api"]) < 5
        assert stack.proc.returncode == 0 and free(info["api"])
    finally:
        stack.stop()


def test_the_schedules_are_the_templates_unless_a_setting_runs_them_sooner() -> None:
    scheduled = [fn for fn in functions(load()).values() if fn.schedule]
    assert sorted(fn.name for fn in scheduled) == ["refresh_scheduler", "webhook_reconciler"]
    assert [(s.fn.name, s.seconds) for s in sorted(schedules.plan(scheduled, None), key=lambda s: s.fn.name)] == [
        ("refresh_scheduler", 900),
        ("webhook_reconciler", 900),
    ]
    assert {s.seconds for s in schedules.plan(scheduled, "60")} == {60}
    assert schedules.plan(scheduled, "0") == []


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(15 minutes)", 900),
        ("rate(1 minute)", 60),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
        ("cron(0 * * * ? *)", None),
        ("rate(5 fortnights)", None),
    ],
)
def test_a_rate_is_played_and_a_cron_is_not(expression: str, seconds: int | None) -> None:
    assert schedules.every(expression) == seconds
