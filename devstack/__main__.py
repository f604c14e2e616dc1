"""`python -m devstack run` (what `make run` starts) and `python -m devstack invoke FN EVENT`.

run:    DynamoDB Local (the table) + moto server (KMS, EventBridge; from template.yaml), the Figma emulator unless
        FIGMA_CLIENT_ID is set, the HTTP API on 127.0.0.1:$PORT (3000), the WebSocket API on $WS_PORT (3001,
        devstack/realtime.py), the template's schedules (devstack/schedules.py) and EventBridge rules
        (devstack/rules.py). SIGINT or SIGTERM stops it within SHUTDOWN_SECONDS, whatever its
        clients hold open.
openapi: writes docs/openapi.json (the local API also serves it at /openapi.json).
invoke: runs one function's handler on an event file, and prints the response: `sam local invoke`
        without Docker. With a stack running, the stack runs it (its workers, its settings: your
        own Figma app's too); without one, a throwaway stack does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from devstack import aws
from devstack.template import ROOT

STATE_FILE = ROOT / ".devstack.json"
SHUTDOWN_SECONDS = 4.0  # after a stop signal, then the process leaves whatever still runs
_CHILDREN: list[Any] = []  # processes start_backends started (DynamoDB Local), stopped with the stack


def _setdefault_env(values: dict[str, str]) -> None:
    for name, value in values.items():
        if not os.environ.get(name):
            os.environ[name] = value


def local_origins(port: int, demo_port: int, configured: str) -> str:
    """ALLOWED_ORIGINS for the local stack: its own pages (home, demo, the React example's dev
    server on 5173) always, and what ALLOWED_ORIGINS names added, not put in their place."""
    own = [f"http://{host}:{p}" for p in (port, 5173, demo_port) for host in ("127.0.0.1", "localhost")]
    added = [origin.strip() for origin in configured.split(",") if origin.strip()]
    return ",".join(dict.fromkeys([*own, *added]))


def start_backends(port: int, *, emulator_port: int = 0, demo_port: int = 5173) -> dict[str, Any]:
    """DynamoDB Local + moto + resources + (maybe) the emulator, with os.environ pointed at them."""
    from devstack import dynamodb

    engine, dynamodb_url = dynamodb.start(int(os.environ.get("DYNAMODB_PORT", "0")))
    _CHILDREN.append(engine)
    _, moto_url = aws.start_moto(int(os.environ.get("MOTO_PORT", "0")))
    resources = aws.create_resources(moto_url, dynamodb_url)
    for name, value in resources.env().items():
        os.environ[name] = value
    info: dict[str, Any] = {
        "moto": moto_url,
        "dynamodb": dynamodb_url,
        "table": resources.table_name,
        "kms_key_id": resources.key_id,
        "bucket": resources.bucket,
        "jwt_key_id": resources.jwt_key_id,
    }
    callback = os.environ.get("CALLBACK_URL") or f"http://127.0.0.1:{port}/auth/figma/callback"
    if not os.environ.get("FIGMA_CLIENT_ID"):
        from devstack.figma_emulator import EMULATOR_CLIENT, FigmaEmulator

        emulator = FigmaEmulator(port=emulator_port).start()
        emulator.state.redirect_uris.add(callback)
        lifetime = os.environ.get("FIGMA_EMULATOR_TOKEN_LIFETIME")
        if lifetime:
            emulator.state.token_lifetime = int(lifetime)
        os.environ.update({**EMULATOR_CLIENT, "FIGMA_AUTH_URL": f"{emulator.url}/oauth", "FIGMA_API_URL": emulator.url})
        info["emulator"] = emulator.url
    _setdefault_env(
        {
            "ISSUER": f"http://127.0.0.1:{port}",
            # What the demo SPA and the sample plugin ask for (production default: DEFAULT_SCOPES only).
            "ALLOWED_SCOPES": (
                "current_user:read,file_content:read,file_metadata:read,file_comments:read,file_comments:write,"
                "webhooks:read,webhooks:write"
            ),
            "CALLBACK_URL": callback,
            # Agents: MCP clients' Client ID Metadata Documents on this machine, and the example
            # MCP server's URL (make mcp-example) as the resource tokens may be for.
            "OAUTH_LOOPBACK_CLIENTS": "true",
            "OAUTH_RESOURCES": "http://127.0.0.1:8765/mcp",
            "POWERTOOLS_METRICS_NAMESPACE": "FigmaAuth",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    os.environ["ALLOWED_ORIGINS"] = local_origins(port, demo_port, os.environ.get("ALLOWED_ORIGINS", ""))
    aws.install_bucket(moto_url)  # its CORS names the origins just settled
    info["callback_url"] = os.environ["CALLBACK_URL"]
    return info


def run(args: argparse.Namespace) -> int:
    from devstack.api import LocalApi
    from devstack.demo import DemoServer
    from devstack.lambdas import Containers
    from devstack.realtime import LocalRealtime
    from devstack.workers import WorkerInitError

    try:
        api_server = LocalApi(port=int(args.port), log=not args.quiet)
        demo = DemoServer(port=int(args.demo_port))
        sockets = LocalRealtime(port=int(args.ws_port), log=not args.quiet)
    except OSError as exc:
        print(
            f"figma-auth: cannot listen on 127.0.0.1:{args.port} (API), :{args.demo_port} (demo) or :{args.ws_port} "
            f"(WebSocket): {exc.strerror}; set PORT=..., DEMO_PORT=... or WS_PORT=... to use other ports",
            file=sys.stderr,
        )
        return 2
    os.environ.update(sockets.env())  # REALTIME_URL, REALTIME_ENDPOINT: the functions' view of it
    port = api_server.httpd.server_address[1]
    from devstack.dynamodb import DynamoDbLocalMissing

    try:
        info = start_backends(
            port,
            emulator_port=int(os.environ.get("FIGMA_EMULATOR_PORT", "0")),
            demo_port=demo.httpd.server_address[1],
        )
    except DynamoDbLocalMissing as exc:
        print(f"figma-auth: {exc}", file=sys.stderr)
        return 2
    containers = Containers()
    try:
        containers.warm()
    except WorkerInitError as exc:
        print(f"figma-auth: a function failed to start: {exc}", file=sys.stderr)
        return 2
    api_server.handler.demo_url = demo.url
    api_server.attach(containers).start()
    sockets.attach(containers).start()
    demo.start(api_server.url, bodies=info["moto"])  # large answers come from the bucket on moto
    from devstack import schedules
    from devstack.rules import RulePlayer

    rules = RulePlayer(containers, info["moto"], bus=os.environ.get("EVENT_BUS_NAME") or "default").start()

    planned = schedules.plan(list(containers.functions.values()), os.environ.get("DEVSTACK_SCHEDULE_SECONDS"))
    scheduler = schedules.Scheduler(planned, containers.invoke, containers.out).start()
    info.update(
        {
            "ready": True,
            "api": api_server.url,
            "demo": demo.url,
            "realtime": sockets.ws_url,
            "pid": os.getpid(),
            "allowed_origins": os.environ["ALLOWED_ORIGINS"],
        }
    )
    state_file = Path(args.state_file)
    state_file.write_text(json.dumps(info, indent=2))
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(f"\nfigma-auth is running: open {api_server.url}/ and click 'Sign in with Figma'.")
        print(f"  API              {api_server.url}   (routes from template.yaml)")
        print(f"  demo SPA         {demo.url}   (its own origin, built on clients/js)")
        print(f"  realtime         {sockets.ws_url}   (WebSocket API; POST /auth/realtime gives a ticket)")
        figma = (
            f"{info['emulator']}   (the Figma emulator stands in for Figma: set FIGMA_CLIENT_ID to use yours)"
            if "emulator" in info
            else "real Figma (FIGMA_CLIENT_ID is set)"
        )
        print(f"  Figma            {figma}")
        print(f"  DynamoDB         {info['dynamodb']}   (AWS's DynamoDB Local, table {info['table']})")
        print(f"  KMS, EventBridge {info['moto']}   (moto server)")
        print(f"  redirect_uri     {info['callback_url']}")
        print(
            f"  events           {api_server.url}/_devstack/events   (every event the stack published; DELETE clears)"
        )
        print(f"  allowed origins  {os.environ['ALLOWED_ORIGINS']}   (ALLOWED_ORIGINS adds yours)")
        shown = ", ".join(p.describe() for p in planned) or "off (DEVSTACK_SCHEDULE_SECONDS=0)"
        print(f"  schedules        {shown}   (DEVSTACK_SCHEDULE_SECONDS=60 runs them sooner)")
        print(f"  React example    cd examples/react && npm ci && VITE_FIGMA_AUTH_URL={api_server.url} npm run dev")
        for resource in os.environ.get("OAUTH_RESOURCES", "").split(","):
            if resource:  # the MCP example's URL (agents sign in at /oauth/authorize for it)
                port = api_server.url.rsplit(":", 1)[1]
                print(f"  MCP example      PORT={port} make mcp-example   ({resource}: point an MCP client at it)")
        print(
            "  backend (IAM)    sign /connections/... with AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing,"
            " region us-east-1, service execute-api"
        )
        print("Ctrl-C stops everything.\n", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()

    def shut_down() -> None:
        scheduler.stop()
        rules.stop()
        sockets.stop()
        api_server.stop()
        demo.stop()
        containers.recycle()

    closing = threading.Thread(target=shut_down, name="devstack-shutdown", daemon=True)
    closing.start()
    closing.join(SHUTDOWN_SECONDS)  # a request still held open must not keep the ports
    _stop_children()
    if state_file.exists() and json.loads(state_file.read_text()).get("pid") == os.getpid():
        state_file.unlink()
    if closing.is_alive():
        _leave_now()
    return 0


def _leave_now() -> None:
    """What did not stop in time goes with the process: its workers first (they would outlive an
    os._exit), then the process, without waiting for any thread."""
    import multiprocessing

    for child in multiprocessing.active_children():
        child.kill()
    sys.stdout.flush()
    os._exit(0)


def _stop_children() -> None:
    """DynamoDB Local, stopped and reaped (no zombie), even if a group signal got to it first."""
    from devstack import dynamodb

    while _CHILDREN:
        dynamodb.stop(_CHILDREN.pop())


def invoke(args: argparse.Namespace) -> int:
    from devstack.lambdas import Containers
    from devstack.workers import WorkerInitError

    event = json.loads(Path(args.event).read_text())
    running = _running_stack(Path(args.state_file))
    if running:
        return _invoke_running(running, args.function, event)
    start_backends(int(os.environ.get("PORT", "3000")))
    print("# no running stack: using a throwaway DynamoDB Local, moto server and Figma emulator", file=sys.stderr)
    containers = Containers(out=lambda: sys.stderr)  # the function's logs; stdout is the response
    try:
        fn = containers.by_name(args.function)
        result = containers.invoke(fn, event)  # one worker process, as `sam local invoke` runs one container
    except (KeyError, WorkerInitError) as exc:
        print(f"figma-auth: {exc}", file=sys.stderr)
        return 2
    finally:
        containers.recycle()
        _stop_children()
    print(json.dumps(result, indent=2))
    return 0


def _invoke_running(running: dict[str, Any], function: str, event: Any) -> int:
    """The running stack runs the event (its workers, its settings, your Figma app's included);
    the function's log lines are in that stack's output."""
    import httpx

    from devstack.api import INVOKE_PATH

    print(f"# against the running stack ({running['api']}); the function's logs are in its output", file=sys.stderr)
    answer = httpx.post(running["api"] + INVOKE_PATH + function, json=event, timeout=900)
    if answer.status_code != 200:
        print(f"figma-auth: {answer.json().get('message', answer.text)}", file=sys.stderr)
        return 2
    print(json.dumps(answer.json(), indent=2))
    return 0


def _running_stack(state_file: Path = STATE_FILE) -> dict[str, Any] | None:
    if not state_file.exists():
        return None
    info: dict[str, Any] = json.loads(state_file.read_text())
    try:
        import httpx

        httpx.get(info["moto"] + "/moto-api/", timeout=1)
        httpx.get(info["dynamodb"], timeout=1)
    except Exception:
        return None
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="serve the local stack")
    p_run.add_argument("--port", default=os.environ.get("PORT", "3000"))
    p_run.add_argument("--demo-port", default=os.environ.get("DEMO_PORT", "5173"))
    p_run.add_argument("--ws-port", default=os.environ.get("WS_PORT", "3001"))
    p_run.add_argument("--state-file", default=str(STATE_FILE))
    p_run.add_argument("--json", action="store_true", help="print one JSON line with the endpoints when ready")
    p_run.add_argument("--quiet", action="store_true", help="no per-request access line from the dev server")
    p_inv = sub.add_parser("invoke", help="run one handler on an event file")
    p_inv.add_argument("function")
    p_inv.add_argument("event")
    p_inv.add_argument("--state-file", default=str(STATE_FILE), help="the running stack to invoke against")
    p_env = sub.add_parser("env-json", help="write env.json for `sam local invoke --env-vars` (the running stack)")
    p_env.add_argument("--state-file", default=str(STATE_FILE))
    p_env.add_argument("--out", default=str(ROOT / "env.json"))
    p_env.add_argument("--host", default="host.docker.internal", help="how Docker containers reach this machine")
    p_pro = sub.add_parser("protected-api", help="examples/protected-api, trusting the running stack's JWTs")
    p_pro.add_argument("--state-file", default=str(STATE_FILE))
    p_pro.add_argument("--port", type=int, default=int(os.environ.get("PROTECTED_PORT", "3300")))
    p_doc = sub.add_parser("openapi", help="write docs/openapi.json from the handlers' routes and models")
    p_doc.add_argument("--check", action="store_true", help="exit 1 if docs/openapi.json is stale")
    args = parser.parse_args(argv)
    if args.command == "env-json":
        from devstack import samlocal

        return samlocal.main(Path(args.state_file), Path(args.out), args.host)
    if args.command == "protected-api":
        from devstack import protected_api

        return protected_api.main(Path(args.state_file), args.port)
    if args.command == "openapi":
        from devstack import openapi

        return openapi.main(check=args.check)
    return run(args) if args.command == "run" else invoke(args)


if __name__ == "__main__":
    sys.exit(main())
