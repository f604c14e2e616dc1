#!/bin/sh
# Lambda Web Adapter's start command (the template's Handler): the server on 127.0.0.1:$AWS_LWA_PORT,
# its packages from the function (/var/task) and figma_auth_backend from the helper's layer (/opt/python).
export LISTEN_PORT="${AWS_LWA_PORT:-8080}"
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT:-/var/task}"
exec python3 "${LAMBDA_TASK_ROOT:-/var/task}/server.py"
