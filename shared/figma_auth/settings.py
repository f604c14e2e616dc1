"""Typed configuration: the only module that reads ``os.environ``.

``Settings`` is a pydantic model whose field aliases are the environment variables;
``Settings.from_env()`` validates everything at cold start and raises ``ConfigurationError``
with one line naming the variable to fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, model_validator

from figma_auth.errors import ConfigurationError, InvalidRedirect, InvalidScope, first_problem
from figma_auth.oauth import parse_scopes
from figma_auth.urls import normalise_origin

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _url(value: Any) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
    return str(value)


def _origins(value: Any) -> tuple[str, ...]:
    origins = []
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        try:
            origins.append(normalise_origin(item))
        except InvalidRedirect:
            raise ValueError(
                f"has {item!r}, which is not an origin like https://app.example.com "
                "(scheme, host and optional port; no path, no '*')"
            ) from None
    if not origins:
        raise ValueError("lists no origin")
    return tuple(dict.fromkeys(origins))


def _scopes(value: Any) -> tuple[str, ...]:
    try:
        return tuple(parse_scopes(str(value)))
    except InvalidScope as exc:
        raise ValueError(exc.message) from None


def _some_scopes(value: Any) -> tuple[str, ...]:
    """A scope list that may be empty (unset)."""
    return _scopes(value) if str(value).strip() else ()


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in _TRUE:
        return True
    if str(value).lower() in _FALSE:
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def _whole(low: int, high: int) -> BeforeValidator:
    def check(value: Any) -> int:
        try:
            number = int(str(value))
        except ValueError:
            raise ValueError(f"must be a whole number, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}, got {number}")
        return number

    return BeforeValidator(check)


def _samesite(value: Any) -> str:
    for choice in ("Lax", "Strict", "None"):
        if str(value).lower() == choice.lower():
            return choice
    raise ValueError(f"must be one of Lax, Strict, None, got {value!r}")


def _refresh_style(value: Any) -> str:
    if str(value).lower() in ("refresh", "token"):
        return str(value).lower()
    raise ValueError(
        f"must be refresh (POST /v1/oauth/refresh) or token (POST /v1/oauth/token, grant_type=refresh_token), "
        f"got {value!r}"
    )


def _issuer(value: Any) -> str:
    from urllib.parse import urlsplit

    text = _url(value)
    parts = urlsplit(text)
    if parts.query or parts.fragment or text.endswith("/"):
        raise ValueError(f"must be the API's base URL with no trailing slash, query or fragment, got {value!r}")
    return text


def _key_ids(value: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in str(value).split(",") if item.strip()))


def _redirect_urls(value: Any) -> tuple[str, ...]:
    from figma_auth.urls import exact_redirect

    urls = []
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        try:
            urls.append(exact_redirect(item))
        except InvalidRedirect as exc:
            raise ValueError(f"has {item[:80]!r}: {exc.message}") from None
    return tuple(dict.fromkeys(urls))


Url = Annotated[str, BeforeValidator(_url)]


class Settings(BaseModel):
    """Every setting, by the environment variable that sets it (see the README's table)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    figma_client_id: Annotated[str, Field(alias="FIGMA_CLIENT_ID", description="the Client ID of your Figma app")]
    table_name: Annotated[str, Field(alias="TABLE_NAME", description="the DynamoDB table the stack created")]
    kms_key_id: Annotated[str, Field(alias="KMS_KEY_ID", description="the KMS key id, ARN or alias the stack created")]
    allowed_origins: Annotated[
        tuple[str, ...],
        BeforeValidator(_origins),
        Field(
            alias="ALLOWED_ORIGINS",
            description="comma-separated origins your app runs on, e.g. https://app.example.com,http://localhost:5173",
        ),
    ]
    callback_url: Annotated[Url | None, Field(alias="CALLBACK_URL")] = None  # None: from API Gateway's domain
    figma_client_secret: Annotated[SecretStr | None, Field(alias="FIGMA_CLIENT_SECRET")] = None
    figma_client_secret_arn: Annotated[str | None, Field(alias="FIGMA_CLIENT_SECRET_ARN")] = None
    figma_auth_url: Annotated[Url, Field(alias="FIGMA_AUTH_URL")] = "https://www.figma.com/oauth"
    figma_api_url: Annotated[Url, Field(alias="FIGMA_API_URL")] = "https://api.figma.com"
    default_scopes: Annotated[tuple[str, ...], BeforeValidator(_scopes), Field(alias="DEFAULT_SCOPES")] = (
        "current_user:read",
    )
    # Asked for by every sign-in besides what the app asks (set it to what the app ever needs and
    # no sign-in can narrow a connection, nor need a second consent at Figma).
    base_scopes: Annotated[tuple[str, ...], BeforeValidator(_some_scopes), Field(alias="BASE_SCOPES")] = ()
    session_ttl_days: Annotated[int, _whole(1, 3650), Field(alias="SESSION_TTL_DAYS")] = 30
    expose_provider_token: Annotated[bool, BeforeValidator(_boolean), Field(alias="EXPOSE_PROVIDER_TOKEN")] = True
    figma_pkce: Annotated[bool, BeforeValidator(_boolean), Field(alias="FIGMA_PKCE")] = True
    refresh_leeway_seconds: Annotated[int, _whole(0, 86400), Field(alias="REFRESH_LEEWAY_SECONDS")] = 300
    refresh_ahead_seconds: Annotated[int, _whole(60, 7 * 86400), Field(alias="REFRESH_AHEAD_SECONDS")] = 3600
    refresh_concurrency: Annotated[int, _whole(1, 256), Field(alias="REFRESH_CONCURRENCY")] = 16
    session_cookie_samesite: Annotated[
        Literal["Lax", "Strict", "None"], BeforeValidator(_samesite), Field(alias="SESSION_COOKIE_SAMESITE")
    ] = "Lax"
    event_bus_name: Annotated[str, Field(alias="EVENT_BUS_NAME")] = "default"
    offline_access: Annotated[bool, BeforeValidator(_boolean), Field(alias="OFFLINE_ACCESS")] = False
    figma_refresh_style: Annotated[
        Literal["refresh", "token"], BeforeValidator(_refresh_style), Field(alias="FIGMA_REFRESH_STYLE")
    ] = "refresh"

    issuer: Annotated[str | None, BeforeValidator(_issuer), Field(alias="ISSUER")] = None  # None: from the request
    jwt_audience: Annotated[str, Field(alias="JWT_AUDIENCE", min_length=1, max_length=256)] = "figma-auth"
    jwt_ttl_seconds: Annotated[int, _whole(60, 3600), Field(alias="JWT_TTL_SECONDS")] = 900
    jwt_key_id: Annotated[str | None, Field(alias="JWT_KEY_ID")] = None
    jwt_verify_key_ids: Annotated[tuple[str, ...], BeforeValidator(_key_ids), Field(alias="JWT_VERIFY_KEY_IDS")] = ()

    allowed_scopes: Annotated[tuple[str, ...] | None, BeforeValidator(_scopes), Field(alias="ALLOWED_SCOPES")] = None
    allowed_redirect_urls: Annotated[
        tuple[str, ...], BeforeValidator(_redirect_urls), Field(alias="ALLOWED_REDIRECT_URLS")
    ] = ()
    device_code_ttl_seconds: Annotated[int, _whole(60, 1800), Field(alias="DEVICE_CODE_TTL_SECONDS")] = 600
    device_poll_interval_seconds: Annotated[int, _whole(1, 60), Field(alias="DEVICE_POLL_INTERVAL_SECONDS")] = 5

    @model_validator(mode="after")
    def _redirects_and_scopes_agree(self) -> Settings:
        from figma_auth.urls import origin_of_url

        off = [u for u in self.allowed_redirect_urls if origin_of_url(u) not in self.allowed_origins]
        if off:
            raise ConfigurationError(
                f"ALLOWED_REDIRECT_URLS has {off[0]!r}, whose origin is not in ALLOWED_ORIGINS: add it there too"
            )
        missing = [s for s in self.default_scopes if s not in self.scopes_allowed]
        if missing:
            raise ConfigurationError(f"DEFAULT_SCOPES has {missing[0]!r}, which ALLOWED_SCOPES does not allow")
        missing = [s for s in self.base_scopes if s not in self.scopes_allowed]
        if missing:
            raise ConfigurationError(f"BASE_SCOPES has {missing[0]!r}, which ALLOWED_SCOPES does not allow")
        return self

    @property
    def scopes_allowed(self) -> tuple[str, ...]:
        """ALLOWED_SCOPES, or DEFAULT_SCOPES when it is not set."""
        return self.allowed_scopes if self.allowed_scopes is not None else self.default_scopes

    @model_validator(mode="after")
    def _one_secret_source(self) -> Settings:
        if self.figma_client_secret is None and not self.figma_client_secret_arn:
            raise ConfigurationError(
                "FIGMA_CLIENT_SECRET (local) or FIGMA_CLIENT_SECRET_ARN (AWS) must be set: "
                "the Client Secret Figma showed when you created the app"
            )
        return self

    @property
    def session_ttl_seconds(self) -> int:
        return self.session_ttl_days * 86400

    @property
    def client_secret(self) -> str | None:
        return self.figma_client_secret.get_secret_value() if self.figma_client_secret else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (``os.environ`` by default). Empty
        variables count as unset (SAM passes an empty string for an empty parameter)."""
        env = os.environ if env is None else env
        aliases = {f.alias for f in cls.model_fields.values() if f.alias}
        given = {name: env[name].strip() for name in aliases if env.get(name, "").strip()}
        try:
            settings = cls.model_validate(given)
        except ValidationError as exc:
            raise ConfigurationError(_one_line(exc)) from None
        return settings.model_copy(update={"figma_api_url": settings.figma_api_url.rstrip("/")})


def _one_line(exc: ValidationError) -> str:
    """``NAME problem`` for the first error, naming the environment variable."""
    problem = first_problem(exc.errors(include_url=False, include_input=False))
    name = problem.where if problem.where != "body" else ""
    field = next((f for f in Settings.model_fields.values() if f.alias == name), None)
    if problem.kind == "missing":
        what = field.description if field is not None and field.description else "it has no default"
        return f"{name} is required: {what}"
    return f"{name} {problem.what.removeprefix('Value error, ')}"
