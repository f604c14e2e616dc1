"""What the OpenAPI document says of each route: its answers (success models and the error
codes each status can carry) and the ways it is authenticated. Read by Powertools when a
function's schema is generated (``make openapi``, ``/docs``); nothing here runs per request.
"""

from __future__ import annotations

from typing import Any

from figma_auth.credentials import SESSION_COOKIE
from figma_auth.errors import status_of

JSON = "application/json"

SESSION_SECURITY: list[dict[str, list[str]]] = [{"sessionCookie": []}, {"bearerToken": []}]
IAM_SECURITY: list[dict[str, list[str]]] = [{"awsSigV4": []}]


def responses(
    ok: dict[int, Any],  # a description, a model, or a union of models
    errors: tuple[str, ...],
    error_status: dict[str, tuple[int, ...]] | None = None,
    *,
    oauth: bool = False,
) -> dict[int, Any]:
    """Powertools ``responses=``: the success answers, then each error status with the codes
    it can carry (as an enum of the body's ``error``); ``oauth``: RFC 6749 §5.2's
    ``error_description`` too."""
    out: dict[int, Any] = {}
    for status, answer in ok.items():
        if isinstance(answer, str):
            out[status] = {"description": answer}
        else:
            out[status] = {"description": answer.__doc__ or "OK", "content": {JSON: {"model": answer}}}
    by_status: dict[int, list[str]] = {}
    for code in (*errors, "server_error"):  # any route can fail on a bug
        for status in (error_status or {}).get(code, (status_of(code),)):
            by_status.setdefault(status, []).append(code)
    for status, codes in sorted(by_status.items()):
        schema = {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string", "enum": codes, "description": "A stable code from the README's table."},
                "message": {"type": "string", "description": "What went wrong and what to do, for humans."},
                **({"error_description": {"type": "string", "description": "The same as message."}} if oauth else {}),
            },
        }
        if oauth:
            schema["required"] = ["error", "error_description", "message"]
        out[status] = {"description": ", ".join(codes), "content": {JSON: {"schema": schema}}}
    return out


def proxy_responses(*errors: str) -> dict[int, Any]:
    """What a proxy route answers: Figma's own response, or ours (``errors`` beside the proxy's)."""
    return responses(
        {200: "Figma's response (any status Figma answers with is passed through)."},
        (
            "invalid_request",
            "invalid_path",
            *errors,
            "reauth_required",
            "rate_limited",
            "figma_error",
            "figma_unavailable",
            "response_too_large",
            "temporarily_unavailable",
        ),
        {"figma_unavailable": (502, 503)},  # 502 Figma failed the call, 503 the refresh
    )


def security_schemes() -> dict[str, Any]:
    """The two ways a route with ``SESSION_SECURITY`` accepts a session."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, HTTPBearer

    return {
        "sessionCookie": APIKey.model_validate({"type": "apiKey", "name": SESSION_COOKIE, "in": "cookie"}),
        "bearerToken": HTTPBearer(description="Token mode's session_token."),
        "awsSigV4": APIKey.model_validate(
            {
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "AWS Signature Version 4 (service execute-api) by a principal allowed "
                "execute-api:Invoke on the route (API Gateway's AWS_IAM authorization).",
            }
        ),
    }
