"""The functions as Lambda runs them, in a fresh interpreter: their modules, a Lambda context and
an HTTP API event, and a way to run a snippet of code and read back what it printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from devstack.template import ROOT, functions, load

ENV = {
    "FIGMA_CLIENT_ID": "cid",
    "FIGMA_CLIENT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:figma",
    "TABLE_NAME": "t",
    "KMS_KEY_ID": "k",
    "ALLOWED_ORIGINS": "https://app.example.com",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
HANDLER_MODULES = sorted(f"functions.{fn.name}.app" for fn in functions(load()).values())
SCHEDULED = {"functions.refresh_scheduler.app", "functions.webhook_reconciler.app"}
# Functions invoked with other events than HTTP requests (entry.event), and what they answer the
# 404 event: the push function finds no EventBridge event in it (nothing to do: no statusCode),
# the realtime function a message without a body (invalid_request on the socket, 200 to API
# Gateway). Neither calls AWS for it.
NOT_HTTP = {"functions.push.app": None, "functions.realtime.app": 200}

# A Lambda context and an HTTP API event for a route no function has (404: no AWS call), as
# code for a fresh interpreter.
CONTEXT_AND_404 = """
class Context:
    function_name = "test"; memory_limit_in_mb = 512; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    def get_remaining_time_in_millis(self): return 30000
event = {"version": "2.0", "routeKey": "$default", "rawPath": "/no-such-route", "rawQueryString": "",
         "headers": {}, "isBase64Encoded": False,
         "requestContext": {"http": {"method": "GET", "path": "/no-such-route", "sourceIp": "192.0.2.1"},
                            "domainName": "api.example.com", "stage": "$default"}}
"""
# One invocation of the session function for that route.
INVOKE_NOT_FOUND = (
    "import json\nimport functions.session.app as handler\n"
    + CONTEXT_AND_404
    + 'print(json.dumps({"statusCode": handler.lambda_handler(event, Context())["statusCode"]}))\n'
)


def fresh_env(**overrides: str) -> dict[str, str]:
    """A new interpreter's environment: ENV's settings, this process's figma_auth on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FIGMA_", "AWS_ENDPOINT"))}
    env.update(ENV, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), **overrides)
    return env


def fresh_python(code: str, **env: str) -> dict[str, Any]:
    """Run ``code`` in a new interpreter with this checkout's figma_auth; its last line's JSON."""
    ran = subprocess.run(
        [sys.executable, "-c", code], env=fresh_env(**env), capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert ran.returncode == 0, ran.stderr
    return dict(json.loads(ran.stdout.strip().splitlines()[-1]))
