"""Shared fixtures: DynamoDB Local, a moto server, the Figma emulator and the local API, all real HTTP.

`stack` gives each test an empty table (the session's, emptied: tests/support/stack.py,
Baseline), moto without another test's rules and queues, a reset emulator and fresh handler
settings; it fails the test's setup if anything of an earlier test is still there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# CI runs the property tests derandomized (reproducible, never red on a newly found example
# unrelated to the change); local runs keep exploring new examples.
from hypothesis import HealthCheck  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

from devstack import aws
from devstack.api import LocalApi
from devstack.figma_emulator import EMULATOR_CLIENT, FigmaEmulator
from devstack.lambdas import Containers
from figma_auth.oauth import FIGMA_SCOPES
from tests.support.browser import Browser
from tests.support.stack import Baseline, EmulatorControl, Stack, SubprocessStack, Table

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
# `make mutate` runs every test through mutmut's trampolines, several times slower: the same
# examples (derandomized), without the speed health checks and deadlines.
_hypothesis_settings.register_profile(
    "mutate", derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)
if os.environ.get("FIGMA_AUTH_MUTATE"):
    _hypothesis_settings.load_profile("mutate")
elif os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")

for _name, _value in aws.FAKE_CREDENTIALS.items():
    os.environ[_name] = _value
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server, endpoint = aws.start_moto()
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """AWS's DynamoDB Local: every store and integration test's table lives on AWS's engine.
    ``FIGMA_AUTH_DYNAMODB_ENDPOINT`` names one already running instead (`make mutate` starts
    one for its thousands of short pytest runs: a JVM's start each would cost seconds)."""
    from devstack import dynamodb

    shared = os.environ.get("FIGMA_AUTH_DYNAMODB_ENDPOINT")
    if shared:
        yield shared
        return
    proc, endpoint = dynamodb.start()
    yield endpoint
    dynamodb.stop(proc)


@pytest.fixture(scope="session")
def emulator() -> Iterator[FigmaEmulator]:
    emu = FigmaEmulator().start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def local_api() -> Iterator[LocalApi]:
    api = LocalApi(port=0, log=False)  # bound now; handlers attached once settings exist
    yield api
    if api.thread.is_alive():
        api.stop()


def base_env(api_url: str, emulator_url: str, resources: aws.Resources) -> dict[str, str]:
    return {
        **resources.env(),
        **EMULATOR_CLIENT,
        "FIGMA_AUTH_URL": f"{emulator_url}/oauth",
        "FIGMA_API_URL": emulator_url,
        "CALLBACK_URL": f"{api_url}/auth/figma/callback",
        "ISSUER": api_url,
        "ALLOWED_SCOPES": ",".join(sorted(FIGMA_SCOPES)),  # tests ask for many; one test narrows it
        "ALLOWED_ORIGINS": f"{api_url},http://127.0.0.1:5173,http://localhost:5173",
    }


@pytest.fixture(scope="session")
def stack_resources(
    moto_endpoint: str, dynamodb_endpoint: str, emulator: FigmaEmulator
) -> tuple[aws.Resources, Baseline, EmulatorControl]:
    """What every test that takes ``stack`` shares: the table, keys and event log (made once,
    emptied between tests: a table made per test cost a third of the suite's time) and the
    emulator's knobs (one HTTP client: a new one costs tens of milliseconds)."""
    resources = aws.create_resources(moto_endpoint, dynamodb_endpoint)  # both start empty with the session
    bus = os.environ.get("EVENT_BUS_NAME") or "default"
    baseline = Baseline(Table(dynamodb_endpoint, resources.table_name), moto_endpoint, bus)
    aws.moto_baseline(moto_endpoint, http=baseline.http)
    return resources, baseline, EmulatorControl(emulator.url)


@pytest.fixture
def stack(
    stack_resources: tuple[aws.Resources, Baseline, EmulatorControl],
    emulator: FigmaEmulator,
    local_api: LocalApi,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    """A clean world per test: empty table, moto and event log as the stack made them, emulator
    reset, settings re-read."""
    from devstack.api import EVENT_LOG
    from devstack.hooks import HOOKS
    from figma_auth import runtime

    resources, baseline, emulator_control = stack_resources
    HOOKS.clear()
    baseline.restore(EVENT_LOG)  # the events of this test only, too
    left = baseline.left_behind()
    assert not left, f"an earlier test's world is still here: {left}"
    emulator.state.reset()
    emulator.state.redirect_uris = {f"{local_api.url}/auth/figma/callback"}
    for name, value in base_env(local_api.url, emulator.url, resources).items():
        monkeypatch.setenv(name, value)
    for name in ("EXPOSE_PROVIDER_TOKEN", "FIGMA_PKCE", "DEFAULT_SCOPES", "SESSION_TTL_DAYS"):
        monkeypatch.delenv(name, raising=False)
    runtime.reset()
    if local_api.handler.containers is None:
        local_api.attach(Containers()).start()
    yield Stack(
        local_api.url,
        emulator_control,
        baseline.table,
        resources.endpoint,
        containers=local_api.handler.containers,
    )
    emulator.state.reset()  # releases any request still hanging on a fault
    HOOKS.clear()
    runtime.reset()


@pytest.fixture(scope="session")
def local_realtime() -> Iterator[Any]:
    from devstack.realtime import LocalRealtime

    server = LocalRealtime(port=0, log=False)  # bound now; started by the first test that needs it
    yield server
    if server.thread.is_alive():
        server.stop()


@pytest.fixture
def realtime(stack: Stack, local_realtime: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The stack with its WebSocket API (devstack/realtime.py) and its EventBridge rules played
    (devstack/rules.py: the push function gets the events); sockets closed and their
    $disconnects done before the next test."""
    from devstack.rules import RulePlayer
    from figma_auth import runtime

    for name, value in local_realtime.env().items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    if not local_realtime.thread.is_alive():
        local_realtime.attach(stack.containers).start()
    player = RulePlayer(stack.containers, stack.moto).start()
    yield local_realtime
    local_realtime.close_all()
    assert local_realtime.wait_idle(20), "a socket's $disconnect did not finish"
    player.stop()
    player.uninstall()


@pytest.fixture
def reconfigure(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Change settings for one test: reconfigure(EXPOSE_PROVIDER_TOKEN="false")."""
    from figma_auth import runtime

    def apply(**env: str) -> None:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runtime.reset()

    return apply


@pytest.fixture
def browser(stack: Stack) -> Iterator[Browser]:
    b = Browser(origin=stack.api)
    yield b
    b.close()


# -- the running local stack: `python -m devstack run`, exactly what `make run` starts ----------


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, SubprocessStack]]:
    # Device sign-ins poll every second here (5 s by default), so the plugin and CLI tests are quick.
    proc = SubprocessStack(Path(tmp_path_factory.mktemp("devstack")), env={"DEVICE_POLL_INTERVAL_SECONDS": "1"})
    info = proc.wait_ready()
    stack = Stack(
        info["api"],
        EmulatorControl(info["emulator"]),
        Table(info["dynamodb"], info["table"]),
        info["moto"],
        info["demo"],
    )
    yield stack, proc
    proc.stop()


@pytest.fixture
def live(running_stack: tuple[Stack, SubprocessStack]) -> Iterator[Stack]:
    stack, _ = running_stack
    stack.emulator.reset()
    yield stack
    stack.emulator.reset()
