"""JWTs for the app's own API, the keys that verify them, and the discovery document (RFC 8414).
A family of ``figma_auth.models`` (its docstring says why each is a module of its own)."""

from typing import Annotated, Literal

from pydantic import Field

from figma_auth.models import Output, Timestamp


class JwtResponse(Output):
    """``POST /auth/jwt``: a short-lived ES256 JWT for the app's own API (Appwrite: createJWT)."""

    jwt: Annotated[str, Field(description="Send to your API as Authorization: Bearer …; it ends at expires_at.")]
    expires_at: Timestamp


class Jwk(Output):
    kty: Literal["EC"]
    crv: Literal["P-256"]
    x: str
    y: str
    kid: str
    use: Literal["sig"]
    alg: Literal["ES256"]


class Jwks(Output):
    """``GET /.well-known/jwks.json``: the public keys that verify our JWTs (two during a key rotation)."""

    keys: list[Jwk]


class ServerMetadata(Output):
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
