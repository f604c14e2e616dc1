"""The session and connection views: what a session read, a refresh, token mode's answer and the
backend's connection reads show. A family of ``figma_auth.models`` (its docstring says why each
is a module of its own)."""

from typing import Annotated, Literal

from pydantic import Field

from figma_auth.models import Output, Timestamp


class SessionInfo(Output):
    id: str
    created_at: Timestamp
    expires_at: Timestamp


class UserInfo(Output):
    id: Annotated[str, Field(description="Figma's user id.")]
    handle: str | None
    email: str | None
    img_url: str | None


class RateLimitInfo(Output):
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


class ProviderInfo(Output):
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


class SessionView(Output):
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


class ListedConnection(Output):
    """A connection as ``GET /connections`` lists it (no token: ask ``GET /connections/{user_id}``)."""

    user: UserInfo
    status: Literal["active", "reauth_required"]
    scopes: list[str]
    created_at: Annotated[str, Field(description="Its first sign-in since it was last disconnected (ISO time).")]
    rate_limits: Annotated[
        list[RateLimitInfo], Field(description="Figma's rate limits in force for this user (empty when none).")
    ]


class ConnectionView(Output):
    """``GET /connections/{user_id}`` (backend, AWS IAM): the user and a fresh Figma token."""

    user: UserInfo
    provider: ProviderInfo
