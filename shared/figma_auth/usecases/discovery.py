"""What standard clients read to find us (RFC 8414 authorization server metadata, and the same
document as OpenID discovery for JWT verifiers): the issuer, the device flow's endpoints and
the keys. Built from settings alone: no AWS call, ever."""

from __future__ import annotations

from figma_auth.errors import NotFound
from figma_auth.models import DEVICE_GRANT, ServerMetadata
from figma_auth.signing import ALG

CLAIMS = ["iss", "aud", "sub", "sid", "iat", "nbf", "exp", "jti", "name", "email", "picture"]
NO_JWTS = "JWTs are not enabled on this deployment: set JWT_KEY_ID to a KMS ECC_NIST_P256 key."


class Discovery:
    """GET /.well-known/oauth-authorization-server and /.well-known/openid-configuration."""

    def __init__(self, *, scopes: tuple[str, ...], jwts: bool) -> None:
        self.scopes, self.jwts = scopes, jwts

    def metadata(self, issuer: str) -> ServerMetadata:
        """RFC 8414 §2; every URL absolute and under ``issuer`` exactly (§3.3)."""
        return ServerMetadata(
            issuer=issuer,
            **({"jwks_uri": f"{issuer}/.well-known/jwks.json"} if self.jwts else {}),
            device_authorization_endpoint=f"{issuer}/auth/device",
            token_endpoint=f"{issuer}/auth/token",
            grant_types_supported=[DEVICE_GRANT],
            token_endpoint_auth_methods_supported=["none"],  # public clients: plugins, CLIs
            scopes_supported=list(self.scopes),
            response_types_supported=["id_token"],
            id_token_signing_alg_values_supported=[ALG],
            subject_types_supported=["public"],
            claims_supported=CLAIMS,
        )

    def openid_configuration(self, issuer: str) -> ServerMetadata:
        """The same document; only with JWTs on (it is what a JWT authorizer reads)."""
        if not self.jwts:
            raise NotFound(NO_JWTS)
        return self.metadata(issuer)
