"""The HTTP contract as pydantic models: what each route reads and what it answers.

The handlers parse input with these models and the service answers with them; the OpenAPI
document (``openapi.py``) is generated from the same classes, so the two cannot drift.
Semantic checks that need settings (allowed origins, known scopes) stay in ``oauth.py``.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

URL_SAFE = r"^[A-Za-z0-9_-]+$"
MAX_MIN_VALIDITY = 400 * 86400

ReturnUrl = Annotated[
    str,
    Field(
        max_length=2048,
        description="An absolute http(s) URL on an origin listed in ALLOWED_ORIGINS "
        "(missing: invalid_request; any other URL: invalid_redirect).",
        examples=["http://127.0.0.1:5173/"],
    ),
]
Timestamp = Annotated[str, Field(description="UTC, ISO 8601 with a Z suffix.", examples=["2026-11-28T14:00:00Z"])]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class _OAuthInput(BaseModel):
    """RFC 6749 §3.1, §3.2: parameters an OAuth endpoint does not know are ignored (what it
    knows is validated strictly)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class _Output(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


ClientId = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\x20-\x7e]+$",
        description="Your app's name as RFC 8628 clients send it (shown to the person on the verify page).",
        examples=["figma-cli"],
    ),
]


# -- requests ------------------------------------------------------------------------------


class AuthorizeQuery(BaseModel):
    """``GET /auth/figma/authorize``. Unknown parameters are ignored (cache busters)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    success: ReturnUrl
    failure: ReturnUrl
    scopes: Annotated[
        str | None,
        Field(
            max_length=1024,
            description="Comma-separated Figma scopes; DEFAULT_SCOPES when absent.",
            examples=["current_user:read,file_content:read"],
        ),
    ] = None
    mode: Literal["cookie", "token"] = "cookie"
    code_challenge: Annotated[
        str | None,
        Field(
            min_length=43,
            max_length=43,
            pattern=URL_SAFE,
            description="Token mode only (then required): BASE64URL(SHA256(code_verifier)).",
        ),
    ] = None


class CallbackQuery(BaseModel):
    """``GET /auth/figma/callback``: what Figma appends. Anything else is ignored.

    A missing or malformed ``state`` is ``invalid_state`` (400, Figma is never called); a bad
    ``code`` after a valid state sends the browser to the app's failure URL."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    state: Annotated[str, Field(min_length=43, max_length=43, pattern=URL_SAFE)]
    code: Annotated[str | None, Field(description="Figma's authorization code (single use).")] = None
    error: Annotated[str | None, Field(description="Figma's error, e.g. access_denied.")] = None
    error_description: str | None = None


class RefreshQuery(BaseModel):
    """``POST /auth/refresh`` query."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    min_validity: Annotated[
        int | None,
        Field(
            ge=0,
            le=MAX_MIN_VALIDITY,
            description="Refresh only when the token expires within this many seconds. Absent: always refresh.",
        ),
    ] = None


class TokenRequest(_OAuthInput):
    """``POST /auth/token`` (token mode): the ticket from the success URL's fragment and the
    verifier whose S256 challenge started the login."""

    ticket: Annotated[str, Field(min_length=16, max_length=128, pattern=URL_SAFE)]
    code_verifier: Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]


LISTING_PAGE, LISTING_MAX_PAGE = 50, 100


class ConnectionListQuery(BaseModel):
    """``GET /connections`` query (backend, AWS IAM)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    limit: Annotated[int, Field(ge=1, le=LISTING_MAX_PAGE, description="Connections per page (1-100).")] = LISTING_PAGE
    cursor: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=512,
            description="The `next` of the page before (opaque; refused when edited or made for another status).",
        ),
    ] = None
    status: Annotated[
        Literal["active", "reauth_required"] | None,
        Field(
            description="Only connections in this status, e.g. `reauth_required`: the users to ask to sign in again."
        ),
    ] = None


class LogoutRequest(_Input):
    """``POST /auth/logout``: empty (this session), ``{"all": true}`` (every session of the
    user), ``{"all": true, "disconnect": true}`` (and the Figma connection, even with
    OFFLINE_ACCESS) or ``{"session_id"}`` (one of the user's other sessions)."""

    all: StrictBool = False
    disconnect: StrictBool = False
    session_id: Annotated[str | None, Field(min_length=1, max_length=128)] = None


class DeviceRequest(_OAuthInput):
    """``POST /auth/device`` (RFC 8628 §3.1; JSON or form): who is signing in and the scopes it
    needs, as ``scope`` (space-delimited, RFC 6749 §3.3) or ``scopes`` (comma-separated)."""

    client_id: ClientId = None
    scope: Annotated[
        str | None,
        Field(max_length=1024, description="Space-delimited Figma scopes (RFC 6749 §3.3); DEFAULT_SCOPES when absent."),
    ] = None
    scopes: Annotated[
        str | None,
        Field(max_length=1024, description="Comma-separated Figma scopes (the same as scope; send one of them)."),
    ] = None


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class DeviceTokenRequest(_OAuthInput):
    """``POST /auth/token`` with the device grant (RFC 8628 §3.4), JSON or form-encoded."""

    grant_type: Literal["urn:ietf:params:oauth:grant-type:device_code"]
    device_code: Annotated[str, Field(min_length=43, max_length=43, pattern=URL_SAFE)]
    client_id: ClientId = None


AUTHORIZATION_CODE_GRANT = "authorization_code"
REFRESH_TOKEN_GRANT = "refresh_token"
Verifier = Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]
Resource = Annotated[str | None, Field(max_length=512, description="RFC 8707: the MCP server's URL.")]


class AgentCodeRequest(_OAuthInput):
    """``POST /auth/token`` with ``grant_type=authorization_code`` (an agent, after consent)."""

    grant_type: Literal["authorization_code"]
    code: Annotated[str, Field(min_length=16, max_length=128, pattern=URL_SAFE)]
    redirect_uri: Annotated[str, Field(min_length=1, max_length=1024)]
    client_id: Annotated[str, Field(min_length=1, max_length=1024)]
    code_verifier: Verifier
    resource: Resource = None


class AgentRefreshRequest(_OAuthInput):
    """``POST /auth/token`` with ``grant_type=refresh_token`` (rotating: the answer has a new one)."""

    grant_type: Literal["refresh_token"]
    refresh_token: Annotated[str, Field(min_length=16, max_length=128, pattern=URL_SAFE)]
    client_id: Annotated[str | None, Field(min_length=1, max_length=1024)] = None
    resource: Resource = None
    scope: Annotated[str | None, Field(max_length=1024)] = None


# -- responses -----------------------------------------------------------------------------


class SessionInfo(_Output):
    id: str
    created_at: Timestamp
    expires_at: Timestamp


class UserInfo(_Output):
    id: Annotated[str, Field(description="Figma's user id.")]
    handle: str | None
    email: str | None
    img_url: str | None


class RateLimitInfo(_Output):
    """A Figma rate limit in force for this user (their 429, remembered)."""

    tier: Annotated[int, Field(description="Figma's endpoint tier (1 strictest: files, nodes, images).")]
    scope: Annotated[str, Field(description="`user`, or `file:<key>` (the limit of that file's plan).")]
    until: Annotated[str, Field(description="When Figma takes these calls again (ISO time).")]
    type: Annotated[
        str | None,
        Field(description="`low`: the seat or plan is the limit; `high`: a burst. From X-Figma-Rate-Limit-Type."),
    ]
    plan_tier: Annotated[str | None, Field(description="X-Figma-Plan-Tier.")]
    upgrade_link: Annotated[str | None, Field(description="X-Figma-Upgrade-Link: where the user can raise it.")]


class ProviderInfo(_Output):
    name: Literal["figma"] = "figma"
    access_token: Annotated[
        str | None,
        Field(description="Absent when EXPOSE_PROVIDER_TOKEN=false or status is reauth_required."),
    ] = None
    expires_at: Annotated[str | None, Field(description="Null when status is reauth_required.")]
    scopes: list[str]
    revoked_scopes: Annotated[
        list[str],
        Field(
            description="Scopes Figma stopped granting at a refresh (the user removed them at Figma); "
            "a sign-in asking for them brings them back. Empty normally."
        ),
    ] = []
    rate_limits: Annotated[
        list[RateLimitInfo], Field(description="Figma's rate limits in force for this user (empty when none).")
    ] = []
    status: Literal["active", "reauth_required"]


class SessionView(_Output):
    """``GET /auth/session`` and ``POST /auth/refresh``."""

    session: SessionInfo
    user: UserInfo
    provider: ProviderInfo


class TokenResponse(SessionView):
    """``POST /auth/token``: RFC 6749 §5.1's token response (the session token is the access
    token), with the session view."""

    access_token: Annotated[str, Field(description="The session token (RFC 6749 §5.1): send as Authorization: Bearer.")]
    token_type: Literal["Bearer"]
    expires_in: Annotated[int, Field(description="Seconds until the session ends.")]
    scope: Annotated[str, Field(description="The Figma scopes the connection holds, space-delimited.")]
    session_token: Annotated[str, Field(description="The same as access_token; keep it secret.")]


class AgentTokenResponse(_Output):
    """``POST /auth/token`` for agents (RFC 6749 §5.1): an ES256 JWT for the resource and a
    rotating refresh token."""

    access_token: Annotated[str, Field(description="ES256 JWT: aud = the resource, sub, client_id, scope.")]
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: Annotated[str, Field(description="Single use: each refresh answers a new one.")]
    scope: str


class DeviceStart(_Output):
    """``POST /auth/device`` (RFC 8628 §3.2): show ``user_code``, open ``verification_uri_complete``,
    then poll ``POST /auth/token`` every ``interval`` seconds."""

    device_code: Annotated[str, Field(description="Secret: keep it in the plugin or CLI; it polls with it.")]
    user_code: Annotated[str, Field(description="Show it to the person: 8 letters as XXXX-XXXX.")]
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class SessionSummary(_Output):
    id: str
    created_at: Timestamp
    expires_at: Timestamp
    current: bool
    client: Annotated[
        Literal["web", "token", "device", "agent"],
        Field(description="How the session was made: cookie sign-in, token mode, device sign-in, or an agent's grant."),
    ]
    client_name: Annotated[
        str | None, Field(description="An agent's name, in its own words (its Client ID Metadata Document).")
    ] = None


class SessionList(_Output):
    """``GET /auth/sessions``."""

    sessions: list[SessionSummary]


class RealtimeTicketView(_Output):
    """``POST /auth/realtime``: where to open the WebSocket, with a one-time ticket (60 s, this session)."""

    url: Annotated[str, Field(description="wss://…?ticket=… : open it within expires_in seconds; it works once.")]
    expires_in: int


class JwtResponse(_Output):
    """``POST /auth/jwt``: a short-lived ES256 JWT for the app's own API (Appwrite: createJWT)."""

    jwt: Annotated[str, Field(description="Send to your API as Authorization: Bearer …; it ends at expires_at.")]
    expires_at: Timestamp


class Jwk(_Output):
    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    use: Literal["sig"]
    alg: Literal["ES256"]


class Jwks(_Output):
    """``GET /.well-known/jwks.json``: the public keys that verify our JWTs (two during a key rotation)."""

    keys: list[Jwk]


class ServerMetadata(_Output):
    """``GET /.well-known/oauth-authorization-server`` (RFC 8414) and
    ``GET /.well-known/openid-configuration``: where standard clients find the device flow and
    the token endpoint, and JWT verifiers the keys. Every URL is under ``issuer``."""

    issuer: str
    jwks_uri: Annotated[str | None, Field(description="Absent when JWTs are not enabled (no JWT_KEY_ID).")] = None
    device_authorization_endpoint: str
    token_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    subject_types_supported: list[str]
    claims_supported: list[str]
    authorization_endpoint: str | None = None
    code_challenge_methods_supported: list[str] | None = None
    client_id_metadata_document_supported: bool | None = None
    authorization_response_iss_parameter_supported: bool | None = None


class ListedConnection(_Output):
    """A connection as ``GET /connections`` lists it (no token: ask ``GET /connections/{user_id}``)."""

    user: UserInfo
    status: Literal["active", "reauth_required"]
    scopes: list[str]
    created_at: Annotated[str, Field(description="Its first sign-in since it was last disconnected (ISO time).")]
    rate_limits: Annotated[
        list[RateLimitInfo], Field(description="Figma's rate limits in force for this user (empty when none).")
    ]


class ConnectionList(_Output):
    """``GET /connections`` (backend, AWS IAM): newest first; ``next`` is null on the last page."""

    connections: list[ListedConnection]
    next: Annotated[
        str | None, Field(description="The cursor of the next page (pass it as `cursor`), or null: there is no more.")
    ]


class ConnectionView(_Output):
    """``GET /connections/{user_id}`` (backend, AWS IAM): the user and a fresh Figma token."""

    user: UserInfo
    provider: ProviderInfo


# -- parsing -------------------------------------------------------------------------------


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON body of a response model (optional fields that were never set are left out)."""
    return model.model_dump(mode="json", exclude_unset=True)


# -- webhooks ------------------------------------------------------------------------------------


class WebhookCreate(_Input):
    """``POST /auth/webhooks`` and ``POST /connections/{user_id}/webhooks``."""

    event_type: Literal[
        "FILE_UPDATE", "FILE_VERSION_UPDATE", "FILE_DELETE", "LIBRARY_PUBLISH", "FILE_COMMENT", "DEV_MODE_STATUS_UPDATE"
    ]
    context: Literal["team", "project", "file"]
    context_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-:]+$")]
    description: Annotated[str | None, Field(max_length=150)] = None


class WebhookView(_Output):
    """A webhook of the user's connection (Figma's id)."""

    id: str
    event_type: str
    context: Literal["team", "project", "file"]
    context_id: str
    status: Annotated[Literal["active", "paused"], Field(description="paused: the user's Figma grant is dead.")]
    created_at: str
    description: str | None = None


class WebhookList(_Output):
    webhooks: list[WebhookView]
