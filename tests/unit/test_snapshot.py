"""SnapStart: restores of one initialised process share no secret and no connection. A fresh
interpreter runs a function's init (its app module, as Lambda's init does), shows what exists
at snapshot time, then forks "restores" as Firecracker would resume them (the PRNG put back to its snapshot state,
which CPython's own after-fork reseeding would otherwise hide): each runs the after-restore
hooks and reports its state; two skip them, to show what they prevent."""

from __future__ import annotations

import json
import subprocess
import sys

from devstack.template import ROOT
from tests.support.handlers import fresh_env

SCRIPT = r"""
import json, os, random, sys
from devstack.template import functions, load
from devstack.workers import load_module

fn = functions(load())["SessionFunction"]
module = load_module(fn)                       # Lambda's init: imports, settings, the app
from figma_auth import boot, runtime

def parts():  # what the container has built besides its settings
    return sorted(k for k in vars(runtime.container()) if not k.startswith("_") and k not in ("clock", "settings"))

def sockets():
    fds = os.listdir("/proc/self/fd")
    return [fd for fd in fds if os.path.exists(f"/proc/self/fd/{fd}") and os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")]

at_snapshot = {"sockets": sockets(), "parts": parts(),
               "settings": "settings" in vars(runtime.container()), "sdk": "botocore.client" in sys.modules}

memory = random.getstate()  # as the snapshot holds it (CPython reseeds after a fork; a restore does not)

def restore(run_hooks):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        random.setstate(memory)
        if run_hooks:
            boot.restored()
        state = {"random": random.random(), "parts": parts(), "sockets": sockets()}
        os.write(write, json.dumps(state).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as answer:
        return json.loads(answer.read())

print(json.dumps({"at_snapshot": at_snapshot, "restores": [restore(True), restore(True)],
                  "without_hooks": [restore(False), restore(False)]}))
"""


def test_two_restores_of_one_initialised_process_share_no_secret_no_connection_and_no_random_state() -> None:
    # as Lambda sets it for an init it will snapshot
    env = fresh_env(AWS_LAMBDA_INITIALIZATION_TYPE="snap-start", POWERTOOLS_METRICS_NAMESPACE="figma-auth")
    ran = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])

    snap = seen["at_snapshot"]
    assert snap["sockets"] == []  # no connection is open when the snapshot is taken
    assert snap["parts"] == []  # no client, pool, secret or data key was made during init
    assert snap["settings"] is True  # (settings were read and validated: init's whole job)
    assert snap["sdk"]  # and, for a snapshot, the SDK's code preloaded: modules, no client
    first, second = seen["restores"]
    assert first["random"] != second["random"]  # each restore its own PRNG state
    assert first["parts"] == second["parts"] == [] and first["sockets"] == second["sockets"] == []
    a, b = seen["without_hooks"]
    assert a["random"] == b["random"]  # what the hook prevents: restores replaying one PRNG state
