"""Sign in with Figma's start and return, and the device sign-in's start (RFC 8628 §3.1, §3.2).
A family of ``figma_auth.models`` (its docstring says why each is a module of its own)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from figma_auth.models import URL_SAFE, ClientId, OAuthInput, Output

ReturnUrl = Annotated[
    str,
    Field(
        max_length=2048,
        description="An absolute http(s) URL on an origin listed in ALLOWED_ORIGINS "
        "(missing: invalid_request; any other URL: invalid_redirect).",
        examples=["http://127.0.0.1:5173/"],
    ),
]


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


class DeviceRequest(OAuthInput):
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


class DeviceStart(Output):
    """``POST /auth/device`` (RFC 8628 §3.2): show ``user_code``, open ``verification_uri_complete``,
    then poll ``POST /auth/token`` every ``interval`` seconds."""

    device_code: Annotated[str, Field(description="Secret: keep it in the plugin or CLI; it polls with it.")]
    user_code: Annotated[str, Field(description="Show it to the person: 8 letters as XXXX-XXXX.")]
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int
