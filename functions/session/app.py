"""The current session (Appwrite: getSession('current')), the user's sessions
(listSessions), token mode's ticket exchange (createSession(userId, secret)), and JWTs for
the app's own API (createJWT) with the keys that verify them."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from figma_auth import openapi, runtime, web
from figma_auth.models import (
    DEVICE_GRANT,
    DeviceTokenRequest,
    Jwks,
    JwtResponse,
    OpenIdConfiguration,
    SessionList,
    SessionView,
    TokenRequest,
    TokenResponse,
)
from figma_auth.observability import logger, metrics

runtime.check()
app = web.create_app()


@app.get(
    "/auth/session",
    summary="The current session, user and Figma token (Appwrite: getSession('current'))",
    responses=openapi.responses(
        {200: SessionView}, ("unauthorized", "figma_error", "figma_unavailable", "temporarily_unavailable")
    ),
    security=openapi.SESSION_SECURITY,
)
def get_session() -> Any:
    return web.json_response(runtime.sessions().view(web.credentials(app)))


@app.get(
    "/auth/sessions",
    summary="The user's active sessions (Appwrite: listSessions)",
    responses=openapi.responses({200: SessionList}, ("unauthorized", "temporarily_unavailable")),
    security=openapi.SESSION_SECURITY,
)
def list_sessions() -> Any:
    return web.json_response(runtime.sessions().list(web.credentials(app)))


@app.post(
    "/auth/token",
    summary="Token mode: trade the ticket and your PKCE verifier for a session token; "
    "device sign-in: poll with the device code (RFC 8628 §3.4, JSON or form body)",
    responses=openapi.responses(
        {200: TokenResponse},
        (
            "invalid_request",
            "invalid_grant",
            "authorization_pending",
            "slow_down",
            "access_denied",
            "expired_token",
            "temporarily_unavailable",
        ),
    ),
)
def token() -> Any:
    data = web.form_or_json(app)
    if data.get("grant_type") == DEVICE_GRANT:
        session_token, view = runtime.device().poll(web.validated(DeviceTokenRequest, data))
    else:
        session_token, view = runtime.redeem_ticket()(web.validated(TokenRequest, data))
    return web.json_response(TokenResponse(session_token=session_token, **dict(view)))


@app.post(
    "/auth/jwt",
    summary="A short-lived ES256 JWT naming the user, for the app's own API (Appwrite: createJWT)",
    responses=openapi.responses(
        {200: JwtResponse}, ("unauthorized", "csrf_rejected", "not_found", "temporarily_unavailable")
    ),
    security=openapi.SESSION_SECURITY,
)
def create_jwt() -> Any:
    creds = web.credentials(app)
    web.require_trusted_origin(app, creds)
    return web.json_response(runtime.jwts().create(creds, issuer=web.issuer(app)))


@app.get(
    "/.well-known/jwks.json",
    summary="The public keys (JWK, ES256) that verify the JWTs of POST /auth/jwt",
    responses=openapi.responses({200: Jwks}, ("not_found", "temporarily_unavailable")),
)
def jwks() -> Any:
    return web.cacheable(web.json_response(runtime.jwts().jwks()))


@app.get(
    "/.well-known/openid-configuration",
    summary="Issuer and jwks_uri, for JWT authorizers (API Gateway, Auth0-style verifiers)",
    responses=openapi.responses({200: OpenIdConfiguration}, ("not_found",)),
)
def openid_configuration() -> Any:
    return web.cacheable(web.json_response(runtime.jwts().openid_configuration(web.issuer(app))))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics(raise_on_empty_metrics=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return web.handle(app, event, context)
