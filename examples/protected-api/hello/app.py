"""GET /hello: runs only after API Gateway's JWT authorizer accepted figma-auth's JWT; the
verified claims arrive in the event."""

from __future__ import annotations

import json
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps({"hello": claims["sub"], "name": claims.get("name")}),
    }
