"""Lambda containers as processes: each function of template.yaml gets a pool of workers.

A worker is a process that loads the function's module once (its cold start, logged with
its pid and duration), then serves one event at a time with its own module state, as a
Lambda execution environment does. The pool grows when every worker is busy (Lambda scales
out) up to ``DEVSTACK_MAX_WORKERS`` per function; beyond that a request waits for a worker.
Each event gets the function's ``Timeout`` from template.yaml: a worker still busy then is
killed and the caller gets API Gateway's answer to a timed-out integration (503).

Workers fork from a server that has imported the third-party packages once (boto3, pydantic,
Powertools, httpx), so a new worker costs milliseconds; the layer (``figma_auth``) and the
handler module are imported fresh in every worker. ``make bench`` measures whole cold
starts separately.

Environment changes (a test reconfiguring a setting) are a new deployment: workers started
with the old environment finish their event and retire.

Snapshot mode (``DEVSTACK_SNAPSHOT=1``, the template's SnapStart): each function's init runs
once in a snapshot process; every worker is a fork of it that runs the after-restore hooks
(figma_auth.boot.restored) before its first event, as a SnapStart restore does.

Test hooks travel with each event: the AWS faults planned and whether to count AWS calls
(devstack/hooks.py) are applied inside the worker with botocore's own
``before-call`` event, and what fired comes back with the result.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from devstack.hooks import Hooks, WorkerHooks
from devstack.template import ROOT, Function

_CTX = multiprocessing.get_context("forkserver")
_CTX.set_forkserver_preload(["devstack.preload"])
_VOLATILE_ENV = ("PYTEST_CURRENT_TEST",)
TIMED_OUT = {
    "statusCode": 503,
    "headers": {"Content-Type": "application/json"},
    "body": '{"message":"Service Unavailable"}',
}
CRASHED = {
    "statusCode": 500,
    "headers": {"Content-Type": "application/json"},
    "body": '{"message":"Internal Server Error"}',
}


def max_workers() -> int:
    return int(os.environ.get("DEVSTACK_MAX_WORKERS", "8"))


@dataclass
class LambdaContext:
    """What Lambda passes as ``context`` (the parts Powertools and our handlers read)."""

    function_name: str
    timeout_s: float
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_module(fn: Function) -> Any:
    """Import a function's handler module as a fresh instance (a new container's init)."""
    module_name, _, _ = fn.handler.rpartition(".")
    path = fn.code_dir / f"{module_name}.py"
    name = f"functions.{fn.name}.{module_name}__{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def deployment_env() -> dict[str, str]:
    """The environment a new worker gets: this process's, less what changes per test."""
    return {k: v for k, v in os.environ.items() if k not in _VOLATILE_ENV}


# -- the worker process ----------------------------------------------------------------------


class _Pipe:
    """sys.stdout/sys.stderr inside a worker: lines go to the parent over the connection."""

    def __init__(self, conn: Connection | None) -> None:
        self.conn = conn  # None: the process's own stderr (a snapshot between restores)

    def write(self, text: str) -> int:
        if text and self.conn is None:
            sys.__stderr__.write(text)
        elif text:
            self.conn.send(("log", text))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _init(conn: Connection, fn: Function, env: dict[str, str], hooks: WorkerHooks) -> Any | None:
    """A container's init: the deployment's environment, the handler's module. None: it failed
    (reported on ``conn`` as Lambda reports an init error)."""
    os.environ.clear()
    os.environ.update(env)
    os.environ["AWS_LAMBDA_FUNCTION_NAME"] = fn.name  # as Lambda sets it (figma_auth.boot reads it)
    for path in (str(ROOT), str(ROOT / "shared")):
        if path not in sys.path:
            sys.path.insert(0, path)
    sys.stdout = sys.stderr = _Pipe(conn)  # type: ignore[assignment]
    try:
        from figma_auth import aws

        aws.session().register("before-call", hooks)
        return getattr(load_module(fn), fn.handler.rpartition(".")[2])
    except BaseException as exc:  # noqa: BLE001 - an init error is reported like Lambda's
        conn.send(("init_error", f"{type(exc).__name__}: {exc}"))
        return None


def _worker_main(conn: Connection, fn: Function, env: dict[str, str]) -> None:
    started = time.perf_counter()
    hooks = WorkerHooks()
    handler = _init(conn, fn, env, hooks)
    if handler is None:
        return
    init_ms = (time.perf_counter() - started) * 1000
    conn.send(("log", f"[worker {fn.name} pid={os.getpid()}] cold start: init {init_ms:.0f} ms\n"))
    conn.send(("ready", init_ms))
    _serve(conn, fn, handler, hooks)


def _snapshot_main(control: Connection, fn: Function, env: dict[str, str]) -> None:
    """Snapshot mode (DEVSTACK_SNAPSHOT=1), as Lambda SnapStart: this process runs init once,
    then each new worker is a fork of it — the "restore" — that runs the after-restore hooks
    (figma_auth.boot.restored) and serves on a pipe handed to the parent over ``control``."""
    import signal
    from multiprocessing import reduction

    started = time.perf_counter()
    hooks = WorkerHooks()
    handler = _init(control, fn, {**env, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"}, hooks)  # as Lambda's
    if handler is None:
        return
    init_ms = (time.perf_counter() - started) * 1000
    control.send(("log", f"[snapshot {fn.name} pid={os.getpid()}] init {init_ms:.0f} ms, then snapshotted\n"))
    control.send(("ready", init_ms))
    # Loggers made during init hold this process's _Pipe: from now on control carries only the
    # protocol, and each restored worker points the pipe at its own connection.
    pipe = sys.stdout
    assert isinstance(pipe, _Pipe)
    pipe.conn = None
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # restored workers are reaped as they exit
    parent = os.getppid()
    while True:
        try:
            control.recv()
        except EOFError:
            return
        ours, theirs = _CTX.Pipe()
        restore_started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _restored_worker(theirs, fn, handler, hooks, restore_started)
            os._exit(0)
        theirs.close()
        reduction.send_handle(control, ours.fileno(), parent)  # the parent's end of the new pipe
        control.send(("restored", pid))
        ours.close()


def _restored_worker(conn: Connection, fn: Function, handler: Any, hooks: WorkerHooks, started: float) -> None:
    from figma_auth import aws, boot

    pipe = sys.stdout
    assert isinstance(pipe, _Pipe)
    pipe.conn = conn  # the snapshot's pipe object, which init's loggers write to
    boot.restored()  # what Lambda runs after a restore (the runtime's hooks)
    aws.session().register("before-call", hooks)  # the hooks renewed the SDK session
    restore_ms = (time.perf_counter() - started) * 1000
    conn.send(("log", f"[worker {fn.name} pid={os.getpid()}] restored from the snapshot in {restore_ms:.0f} ms\n"))
    conn.send(("ready", restore_ms))
    _serve(conn, fn, handler, hooks)


def _serve(conn: Connection, fn: Function, handler: Any, hooks: WorkerHooks) -> None:
    """One event at a time, until the parent closes the pipe."""
    while True:
        try:
            event, timeout_s, plans, count = conn.recv()
        except EOFError:
            return
        hooks.arm(plans, count)
        try:
            result = handler(event, LambdaContext(fn.logical_id, timeout_s))
            conn.send(("result", result, hooks.plans, hooks.fired, hooks.calls))
        except BaseException:  # noqa: BLE001 - Lambda reports an unhandled error; API Gateway answers 500
            conn.send(("log", traceback.format_exc()))
            conn.send(("error", None, hooks.plans, hooks.fired, hooks.calls))


# -- the parent's view -----------------------------------------------------------------------


_MAIN_LOCK = threading.Lock()


def _start_without_main(proc: Any) -> None:
    """Start ``proc`` without multiprocessing re-running the parent's ``__main__`` in it (it
    does so for a script or ``-m`` module, e.g. a bench script with top-level code): a Lambda
    container runs its handler's module and nothing of whoever started the local stack."""
    import types

    with _MAIN_LOCK:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            proc.start()
        finally:
            sys.modules["__main__"] = main


class WorkerInitError(RuntimeError):
    """The function's module failed to load (a bad setting, an import error)."""


def snapshot_mode() -> bool:
    """DEVSTACK_SNAPSHOT=1: workers are restored from a per-function snapshot (SnapStart)."""
    return os.environ.get("DEVSTACK_SNAPSHOT", "") not in ("", "0")


class _Piped:
    """A process we talk to over one pipe: alive while its process is, killed with its pipe."""

    proc: Any
    conn: Connection

    def alive(self) -> bool:
        return bool(self.proc.is_alive())

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.conn.close()


class Snapshot(_Piped):
    """One function's initialised process in snapshot mode: forks a worker on request."""

    def __init__(self, fn: Function, env: dict[str, str], out: Any) -> None:
        self.fn, self.env, self.out = fn, env, out
        self.conn, child = _CTX.Pipe()
        self.proc = _CTX.Process(target=_snapshot_main, args=(child, fn, env), daemon=True, name=f"snapshot-{fn.name}")
        _start_without_main(self.proc)
        child.close()
        self.lock = threading.Lock()
        message = self._next(timeout=60)
        if message[0] != "ready":
            self.kill()
            raise WorkerInitError(f"{fn.name}: {message[1]}")
        self.init_ms = float(message[1])

    def _next(self, timeout: float) -> tuple[Any, ...]:
        while self.conn.poll(timeout):
            message = self.conn.recv()
            if message[0] != "log":
                return tuple(message)
            self.out().write(message[1])
        return ("timeout", "the snapshot did not answer")

    def restore(self) -> tuple[Connection, int]:
        """A new worker: a fork of the snapshot, and the parent's end of its pipe."""
        from multiprocessing import reduction
        from multiprocessing.connection import Connection as PipeEnd

        with self.lock:
            self.conn.send(("restore",))
            fd = reduction.recv_handle(self.conn)
            message = self._next(timeout=30)
        if message[0] != "restored":
            raise WorkerInitError(f"{self.fn.name}: {message[1]}")
        return PipeEnd(fd), int(message[1])


class _Forked:
    """A worker process forked by a snapshot (not our child): is_alive, kill, join by pid."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def is_alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        with open(f"/proc/{self.pid}/stat") as stat:  # a zombie is not alive
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"

    def kill(self) -> None:
        try:
            os.kill(self.pid, 9)
        except ProcessLookupError:
            pass

    def join(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or 0)
        while self.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)


class Worker(_Piped):
    def __init__(self, fn: Function, env: dict[str, str], out: Any, snapshot: Snapshot | None = None) -> None:
        self.fn, self.env, self.out = fn, env, out
        if snapshot is not None:
            self.conn, pid = snapshot.restore()
            self.proc: Any = _Forked(pid)
        else:
            self.conn, child = _CTX.Pipe()
            self.proc = _CTX.Process(target=_worker_main, args=(child, fn, env), daemon=True, name=f"lambda-{fn.name}")
            _start_without_main(self.proc)
            child.close()
        self.init_ms = 0.0
        kind, value = self._next(timeout=60)
        if kind != "ready":
            self.kill()
            raise WorkerInitError(f"{fn.name}: {value}")
        self.init_ms = value

    def _next(self, timeout: float) -> tuple[Any, ...]:
        """The next protocol message; log lines are written out as they arrive."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.conn.poll(left):
                return ("timeout", None)
            try:
                message = self.conn.recv()
            except (EOFError, OSError):
                return ("crash", "the worker process exited")
            if message[0] == "log":
                self.out().write(message[1])
                continue
            return tuple(message)

    def invoke(self, event: dict[str, Any], hooks: Hooks) -> tuple[str, Any]:
        """('ok', result) | ('error', None) | ('timeout', None) | ('crash', reason)."""
        count = bool(hooks.counters)
        self.conn.send((event, float(self.fn.timeout), hooks.plans(), count))
        message = self._next(timeout=self.fn.timeout + 1)  # the worker's own clock stops at Timeout
        kind = message[0]
        if kind in ("result", "error"):
            hooks.apply(message[2], message[3], message[4], self.fn.logical_id)
            return ("ok", message[1]) if kind == "result" else ("error", None)
        return kind, message[1]


class FunctionPool:
    """The warm workers of one function; grows on demand up to ``max_workers()``."""

    def __init__(self, fn: Function, out: Any) -> None:
        self.fn, self.out = fn, out
        self.idle: list[Worker] = []
        self.busy = 0
        self.cond = threading.Condition()
        self.started = 0  # cold starts so far
        self.snapshot: Snapshot | None = None  # snapshot mode: this deployment's initialised process

    def _snapshot_for(self, env: dict[str, str]) -> Snapshot | None:
        if not snapshot_mode():
            return None
        with self.cond:
            if self.snapshot is not None and (self.snapshot.env != env or not self.snapshot.alive()):
                self.snapshot.kill()
                self.snapshot = None
            if self.snapshot is None:
                self.snapshot = Snapshot(self.fn, env, self.out)
            return self.snapshot

    def _take(self, env: dict[str, str]) -> Worker | None:
        """An idle worker of this deployment, or None when a new one may start."""
        with self.cond:
            while True:
                for stale in [w for w in self.idle if w.env != env or not w.alive()]:
                    self.idle.remove(stale)
                    stale.kill()
                if self.idle:
                    self.busy += 1
                    return self.idle.pop()
                if self.busy < max_workers():
                    self.busy += 1
                    return None
                self.cond.wait()

    def _give_back(self, worker: Worker | None) -> None:
        with self.cond:
            self.busy -= 1
            if worker is not None:
                self.idle.append(worker)
            self.cond.notify()

    def invoke(self, event: dict[str, Any], hooks: Hooks) -> dict[str, Any] | Any:
        env = deployment_env()
        worker = self._take(env)
        try:
            if worker is None:
                worker = Worker(self.fn, env, self.out, self._snapshot_for(env))
                self.started += 1
            kind, result = worker.invoke(event, hooks)
        except BaseException:
            self._give_back(None)
            if worker is not None:
                worker.kill()
            raise
        if kind in ("ok", "error"):
            self._give_back(worker)
            return result if kind == "ok" else CRASHED
        worker.kill()  # timed out or died: Lambda discards the environment
        self._give_back(None)
        if kind == "timeout":
            self.out().write(f"[worker {self.fn.name}] timed out after {self.fn.timeout} s (template Timeout)\n")
            return TIMED_OUT
        return CRASHED

    def warm(self) -> None:
        env = deployment_env()
        worker = Worker(self.fn, env, self.out, self._snapshot_for(env))
        self.started += 1
        with self.cond:
            self.idle.append(worker)

    def recycle(self) -> None:
        with self.cond:
            for worker in self.idle:
                worker.kill()
            self.idle.clear()
            if self.snapshot is not None:
                self.snapshot.kill()
                self.snapshot = None

    def workers(self) -> list[int]:
        with self.cond:
            return [w.proc.pid or 0 for w in self.idle]
