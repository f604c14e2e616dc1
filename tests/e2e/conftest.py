"""The running local stack: `python -m devstack run`, exactly what `make run` starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import EmulatorControl, Stack, SubprocessStack, Table


@pytest.fixture(scope="session")
def running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, SubprocessStack]]:
    proc = SubprocessStack(Path(tmp_path_factory.mktemp("devstack")))
    info = proc.wait_ready()
    yield Stack(info["api"], EmulatorControl(info["emulator"]), Table(info["moto"], info["table"]), info["moto"]), proc
    proc.stop()


@pytest.fixture
def live(running_stack: tuple[Stack, SubprocessStack]) -> Iterator[Stack]:
    stack, _ = running_stack
    stack.emulator.reset()
    yield stack
    stack.emulator.reset()
