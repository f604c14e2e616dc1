"""``POST /auth/token``: token mode's ticket, the device grant's poll (RFC 8628 §3.4), the agents'
grants (RFC 6749 §4.1.3, §6) and their answer. A family of ``figma_auth.models`` (its docstring
says why each is a module of its own)."""

from typing import Annotated, Literal

from pydantic import Field

from figma_auth.models import URL_SAFE, ClientId, OAuthInput, Output


class TokenRequest(OAuthInput):
    """``POST /auth/token`` (token mode): the ticket from the success URL's fragment and the
    verifier whose S256 challenge started the login."""

    ticket: Annotated[str, Field(min_length=16, max_length=128, pattern=URL_SAFE)]
    code_verifier: Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class DeviceTokenRequest(OAuthInput):
    """``POST /auth/token`` with the device grant (RFC 8628 §3.4), JSON or form-encoded."""

    grant_type: Literal["urn:ietf:params:oauth:grant-type:device_code"]
    device_code: Annotated[str, Field(min_length=43, max_length=43, pattern=URL_SAFE)]
    client_id: ClientId = None


AUTHORIZATION_CODE_GRANT = "authorization_code"


REFRESH_TOKEN_GRANT = "refresh_token"


Verifier = Annotated[str, Field(min_length=43, max_length=128, pattern=r"^[A-Za-z0-9._~-]+$")]


Resource = Annotated[str | None, Field(max_length=512, description="RFC 8707: the MCP server's URL.")]


class AgentCodeRequest(OAuthInput):
    """``POST /auth/token`` with ``grant_type=authorization_code`` (an agent, after consent)."""

    grant_type: Literal["authorization_code"]
    code: Annotated[str, Field(min_length=16, max_length=128, pattern=URL_SAFE)]
    redirect_uri: Annotated[str, Field(min_length=1, max_length=1024)]
    client_id: Annotated[str, Field(min_length=1, max_length=1024)]
    code_verifier: Verifier
    resource: Resource = None


class AgentRefreshRequest(OAuthInput):
    """``POST /auth/token`` with ``grant_type=refresh_token`` (rotating: the answer has a new one)."""

    grant_type: Literal["refresh_token"]
    refresh_token: Annotated[str, Field(min_length=16, max_length=128, pattern=URL_SAFE)]
    client_id: Annotated[str | None, Field(min_length=1, max_length=1024)] = None
    resource: Resource = None
    scope: Annotated[str | None, Field(max_length=1024)] = None


class AgentTokenResponse(Output):
    """``POST /auth/token`` for agents (RFC 6749 §5.1): an ES256 JWT for the resource and a
    rotating refresh token."""

    access_token: Annotated[str, Field(description="ES256 JWT: aud = the resource, sub, client_id, scope.")]
    token_type: Literal["Bearer"]
    expires_in: int
    refresh_token: Annotated[str, Field(description="Single use: each refresh answers a new one.")]
    scope: str
