"""The current session (Appwrite: getSession('current')), the user's sessions
(listSessions), the user's clear of Figma's remembered rate limits, the token endpoint (token mode's ticket exchange, Appwrite's
createSession(userId, secret), and the device grant's poll), JWTs for the app's own API
(createJWT) with the keys that verify them, the discovery documents (RFC 8414), and the
realtime API's one-time tickets (POST /auth/realtime)."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from typing import Any

from figma_auth import entry, openapi, runtime, web
from figma_auth.errors import InvalidRequest
from figma_auth.models.jwts import Jwks, JwtResponse, ServerMetadata
from figma_auth.models.sessions import RealtimeTicketView, SessionList
from figma_auth.models.tokens import (
    AUTHORIZATION_CODE_GRANT,
    DEVICE_GRANT,
    REFRESH_TOKEN_GRANT,
    AgentCodeRequest,
    AgentRefreshRequest,
    AgentTokenResponse,
    DeviceTokenRequest,
    TokenRequest,
)
from figma_auth.models.views import SessionView, TokenResponse

runtime.check()
app = web.create_app(runtime.settings)
UNSUPPORTED_GRANT = (
    f"grant_type: this endpoint takes {DEVICE_GRANT} (device sign-in), authorization_code or refresh_token "
    "(agents), or no grant_type with a ticket and code_verifier (token mode)"
)


@app.get(
    "/auth/session",
    summary="The current session, user and Figma token (Appwrite: getSession('current'))",
    responses=openapi.responses(
        {200: SessionView}, ("unauthorized", "figma_error", "figma_unavailable", "temporarily_unavailable")
    ),
    security=openapi.SESSION_SECURITY,
)
def get_session() -> Any:
    return web.json_response(runtime.container().sessions.view(web.credentials(app)))


@app.get(
    "/auth/sessions",
    summary="The user's active sessions (Appwrite: listSessions)",
    responses=openapi.responses({200: SessionList}, ("unauthorized", "temporarily_unavailable")),
    security=openapi.SESSION_SECURITY,
)
def list_sessions() -> Any:
    return web.json_response(runtime.container().sessions.list(web.credentials(app)))


@app.post(
    "/auth/token",
    summary="Token mode: trade the ticket and your PKCE verifier for a session token; "
    "device sign-in: poll with the device code (RFC 8628 §3.4, JSON or form body); "
    "agents: authorization_code and refresh_token (RFC 6749 §4.1.3, §6) for an ES256 JWT",
    responses=openapi.responses(
        {200: TokenResponse | AgentTokenResponse},
        (
            "invalid_request",
            "invalid_grant",
            "invalid_target",
            "invalid_scope",
            "authorization_pending",
            "slow_down",
            "access_denied",
            "expired_token",
            "temporarily_unavailable",
        ),
        oauth=True,
    ),
)
def token() -> Any:
    try:
        data = web.form_or_json(app)
        grant = data.get("grant_type")
        if grant == DEVICE_GRANT:
            answer = runtime.container().device.poll(web.validated(DeviceTokenRequest, data))
        elif grant == AUTHORIZATION_CODE_GRANT:
            code = web.validated(AgentCodeRequest, data)
            answer = runtime.container().agent_tokens.exchange(code, issuer=web.issuer(app))
        elif grant == REFRESH_TOKEN_GRANT:
            refresh = web.validated(AgentRefreshRequest, data)
            answer = runtime.container().agent_tokens.refresh(refresh, issuer=web.issuer(app))
        elif not grant:
            answer = runtime.container().redeem_ticket(web.validated(TokenRequest, data))
        else:
            raise InvalidRequest(UNSUPPORTED_GRANT)
    except Exception as exc:  # RFC 6749 §5.2's error shape for every failure of this endpoint
        return web.oauth_error_response(exc)
    return web.not_cached(web.json_response(answer))


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
    return web.json_response(runtime.container().jwts.create(creds, issuer=web.issuer(app)))


@app.post(
    "/auth/realtime",
    summary="A one-time ticket (60 s, this session) and the URL to open the realtime WebSocket with",
    responses=openapi.responses(
        {200: RealtimeTicketView}, ("unauthorized", "csrf_rejected", "not_found", "temporarily_unavailable")
    ),
    security=openapi.SESSION_SECURITY,
)
def create_realtime_ticket() -> Any:
    creds = web.credentials(app)
    web.require_trusted_origin(app, creds)
    return web.json_response(runtime.container().realtime.ticket(creds))


@app.delete(
    "/auth/rate_limits",
    summary="Forget Figma's rate limits remembered for this user (after an upgrade): the next call asks Figma",
    responses=openapi.responses(
        {204: "Cleared (also when there was nothing to clear)."},
        ("unauthorized", "csrf_rejected", "temporarily_unavailable"),
    ),
    security=openapi.SESSION_SECURITY,
)
def clear_rate_limits() -> Any:
    creds = web.credentials(app)
    web.require_trusted_origin(app, creds)
    runtime.container().clear_rate_limits.mine(creds)
    return web.no_content()


@app.get(
    "/.well-known/jwks.json",
    summary="The public keys (JWK, ES256) that verify the JWTs of POST /auth/jwt",
    responses=openapi.responses({200: Jwks}, ("not_found", "temporarily_unavailable")),
)
def jwks() -> Any:
    return web.cacheable(web.json_response(runtime.container().jwts.jwks()))


@app.get(
    "/.well-known/oauth-authorization-server",
    summary="RFC 8414 metadata: the device flow's endpoints, the token endpoint, scopes, jwks_uri",
    responses=openapi.responses({200: ServerMetadata}, ()),
)
def authorization_server_metadata() -> Any:
    return web.cacheable(web.json_response(runtime.container().discovery.metadata(web.issuer(app))))


@app.get(
    "/.well-known/openid-configuration",
    summary="The same document, for JWT authorizers (API Gateway, OpenID-style verifiers) and clients",
    responses=openapi.responses({200: ServerMetadata}, ("not_found",)),
)
def openid_configuration() -> Any:
    return web.cacheable(web.json_response(runtime.container().discovery.openid_configuration(web.issuer(app))))


lambda_handler = entry.http(app)
