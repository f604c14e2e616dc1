"""What standard clients read to find us (RFC 8414 authorization server metadata, and the same
document as OpenID discovery for JWT verifiers): the issuer, the device flow's and the agents'
(authorization code, MCP clients) endpoints and the keys. Built from settings alone: no AWS call, ever."""

from __future__ import annotations

from typing import Any

from figma_auth.errors import NotFound
from figma_auth.models.jwts import ServerMetadata
from figma_auth.models.tokens import DEVICE_GRANT
from figma_auth.signing import ALG

CLAIMS = ["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti", "name", "email", "picture"]
NO_JWTS = "JWTs are not enabled on this deployment: set JWT_KEY_ID to a KMS ECC_NIST_P256 key."


class Discovery:
    """GET /.well-known/oauth-authorization-server and /.well-known/openid-configuration."""

    def __init__(self, *, scopes: tuple[str, ...], jwts: bool) -> None:
        self.scopes, self.jwts = scopes, jwts

    def metadata(self, issuer: str) -> ServerMetadata:
        """RFC 8414 §2; every URL absolute and under ``issuer`` exactly (§3.3)."""
        keys: dict[str, Any] = {"jwks_uri": f"{issuer}/.well-known/jwks.json"} if self.jwts else {}
        return ServerMetadata(
            issuer=issuer,
            **keys,
            authorization_endpoint=f"{issuer}/oauth/authorize",
            device_authorization_endpoint=f"{issuer}/auth/device",
            token_endpoint=f"{issuer}/auth/token",
            grant_types_supported=[DEVICE_GRANT, "authorization_code", "refresh_token"],
            token_endpoint_auth_methods_supported=["none"],  # public clients: plugins, CLIs, agents
            scopes_supported=list(self.scopes),
            response_types_supported=["code", "id_token"],
            code_challenge_methods_supported=["S256"],
            client_id_metadata_document_supported=True,  # agents (MCP clients) identify by a URL
            authorization_response_iss_parameter_supported=True,  # RFC 9207
            id_token_signing_alg_values_supported=[ALG],
            subject_types_supported=["public"],
            claims_supported=CLAIMS,
        )

    def openid_configuration(self, issuer: str) -> ServerMetadata:
        """The same document; only with JWTs on (it is what a JWT authorizer reads)."""
        if not self.jwts:
            raise NotFound(NO_JWTS)
        return self.metadata(issuer)
