"""`sam local invoke` against the local stack: the env.json it needs, and (for the tests, as
this machine has no Docker) each function's environment resolved by SAM CLI's own code.

`make env-json` writes env.json for the running `make run` stack; `sam local invoke` then
runs a function in Docker against it:

    make run                       # in one terminal
    make env-json                  # writes env.json (host: host.docker.internal)
    sam build && sam local invoke SessionFunction -e events/session.json --env-vars env.json --region us-east-1

SAM passes a function only the variables template.yaml declares for it (the template declares
the local-only ones, empty in AWS), so env.json holds nothing else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from devstack.template import ROOT, TEMPLATE

DOCKER_HOST = "host.docker.internal"  # the host as Docker Desktop (and --add-host) names it


def env_values(state: dict[str, Any], *, host: str = DOCKER_HOST) -> dict[str, dict[str, str]]:
    """env.json's content for the running stack described by ``state`` (.devstack.json), with
    its loopback addresses seen from ``host``."""

    def seen(url: str) -> str:
        return url.replace("127.0.0.1", host).replace("localhost", host)

    values = {
        "TABLE_NAME": state["table"],
        "KMS_KEY_ID": state["kms_key_id"],
        "BODIES_BUCKET": state.get("bucket", "figma-auth-local-bodies"),
        "AWS_ENDPOINT_URL": seen(state["moto"]),
        "AWS_ENDPOINT_URL_DYNAMODB": seen(state["dynamodb"]),
        "CALLBACK_URL": state["callback_url"],  # the browser's view: it is where Figma sends it
        "ISSUER": state["api"],
        "ALLOWED_ORIGINS": state.get("allowed_origins", f"{state['api']},http://127.0.0.1:5173,http://localhost:5173"),
        "FIGMA_CLIENT_SECRET_ARN": "",
    }
    if "emulator" in state:
        from devstack.figma_emulator import EMULATOR_CLIENT

        values.update(EMULATOR_CLIENT)
        values.update({"FIGMA_AUTH_URL": f"{state['emulator']}/oauth", "FIGMA_API_URL": seen(state["emulator"])})
    # Variables one function declares go under its logical id (SAM's per-function format).
    return {"Parameters": values, "SessionFunction": {"JWT_KEY_ID": state.get("jwt_key_id", "")}}


def resolved_environment(logical_id: str, env_file: Path, template: Path = TEMPLATE) -> dict[str, str]:
    """The environment `sam local invoke <logical_id> --env-vars <env_file>` gives the function,
    computed by SAM CLI's own code (its template provider and --env-vars resolution)."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    stacks, _ = SamLocalStackProvider.get_stacks(
        str(template), parameter_overrides={"FigmaClientId": "from-env-json", "AllowedOrigins": "http://x"}
    )
    provider = SamFunctionProvider(stacks)
    runner = LocalLambdaRunner(
        local_runtime=None,  # type: ignore[arg-type] - resolution only, nothing is run
        function_provider=provider,
        cwd=str(ROOT),
        real_path=str(ROOT),
        env_vars_values=json.loads(env_file.read_text()),
    )
    function = provider.get(logical_id)
    if function is None:
        raise KeyError(logical_id)
    resolved: dict[str, str] = runner._make_env_vars(function).resolve()
    return resolved


def main(state_file: Path, out: Path, host: str) -> int:
    if not state_file.exists():
        print(f"no running stack ({state_file} is missing): start `make run` first")
        return 2
    out.write_text(json.dumps(env_values(json.loads(state_file.read_text()), host=host), indent=2) + "\n")
    print(f"wrote {out} (the running stack, seen from {host}); keep it out of git")
    return 0


__all__ = ["env_values", "main", "resolved_environment"]
