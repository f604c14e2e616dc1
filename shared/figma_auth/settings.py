"""Typed configuration: the only module that reads ``os.environ``.

``Settings.from_env()`` validates everything at cold start and raises
``ConfigurationError`` with one line naming the variable to fix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from figma_auth.errors import ConfigurationError, InvalidRedirect, InvalidScope
from figma_auth.oauth import normalise_origin, parse_scopes

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    figma_client_id: str
    table_name: str
    kms_key_id: str
    callback_url: str | None  # None: derived from API Gateway's domain name per request
    allowed_origins: tuple[str, ...]
    figma_client_secret: str | None = field(default=None, repr=False)
    figma_client_secret_arn: str | None = None
    figma_auth_url: str = "https://www.figma.com/oauth"
    figma_api_url: str = "https://api.figma.com"
    default_scopes: tuple[str, ...] = ("current_user:read",)
    session_ttl_days: int = 30
    expose_provider_token: bool = True
    figma_pkce: bool = True
    refresh_leeway_seconds: int = 300
    refresh_ahead_seconds: int = 3600
    refresh_concurrency: int = 16
    session_cookie_samesite: str = "Lax"
    event_bus_name: str = "default"

    @property
    def session_ttl_seconds(self) -> int:
        return self.session_ttl_days * 86400

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (``os.environ`` by default)."""
        env = os.environ if env is None else env
        r = _Reader(env)
        secret = r.optional("FIGMA_CLIENT_SECRET")
        secret_arn = r.optional("FIGMA_CLIENT_SECRET_ARN")
        if not secret and not secret_arn:
            raise ConfigurationError(
                "FIGMA_CLIENT_SECRET (local) or FIGMA_CLIENT_SECRET_ARN (AWS) must be set: "
                "the Client Secret Figma showed when you created the app"
            )
        settings = cls(
            figma_client_id=r.required("FIGMA_CLIENT_ID", "the Client ID of your Figma app"),
            figma_client_secret=secret,
            figma_client_secret_arn=secret_arn,
            figma_auth_url=r.url("FIGMA_AUTH_URL", cls.figma_auth_url),
            figma_api_url=r.url("FIGMA_API_URL", cls.figma_api_url).rstrip("/"),
            callback_url=r.optional_url("CALLBACK_URL"),
            allowed_origins=r.origins("ALLOWED_ORIGINS"),
            default_scopes=r.scopes("DEFAULT_SCOPES", "current_user:read"),
            session_ttl_days=r.integer("SESSION_TTL_DAYS", 30, 1, 3650),
            expose_provider_token=r.boolean("EXPOSE_PROVIDER_TOKEN", True),
            figma_pkce=r.boolean("FIGMA_PKCE", True),
            refresh_leeway_seconds=r.integer("REFRESH_LEEWAY_SECONDS", 300, 0, 86400),
            refresh_ahead_seconds=r.integer("REFRESH_AHEAD_SECONDS", 3600, 60, 7 * 86400),
            refresh_concurrency=r.integer("REFRESH_CONCURRENCY", 16, 1, 256),
            session_cookie_samesite=r.choice("SESSION_COOKIE_SAMESITE", "Lax", ("Lax", "Strict", "None")),
            table_name=r.required("TABLE_NAME", "the DynamoDB table the stack created"),
            kms_key_id=r.required("KMS_KEY_ID", "the KMS key id, ARN or alias the stack created"),
            event_bus_name=r.optional("EVENT_BUS_NAME") or "default",
        )
        return settings


class _Reader:
    """Reads one variable at a time so every error names exactly one variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def required(self, name: str, what: str) -> str:
        value = self.optional(name)
        if value is None:
            raise ConfigurationError(f"{name} is required: {what}")
        return value

    def url(self, name: str, default: str | None) -> str:
        value = self.optional(name) or default
        if value is None:
            raise ConfigurationError(f"{name} is required: an absolute http(s) URL")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError(f"{name} must be an absolute http(s) URL, got {value!r}")
        return value

    def optional_url(self, name: str) -> str | None:
        return self.url(name, None) if self.optional(name) else None

    def origins(self, name: str) -> tuple[str, ...]:
        raw = self.optional(name)
        if raw is None:
            raise ConfigurationError(
                f"{name} is required: comma-separated origins your app runs on, "
                "e.g. https://app.example.com,http://localhost:5173"
            )
        origins = []
        for item in raw.split(","):
            item = item.strip()
            if not item:
                continue
            try:
                origins.append(normalise_origin(item))
            except InvalidRedirect:
                raise ConfigurationError(
                    f"{name} has {item!r}, which is not an origin like https://app.example.com "
                    "(scheme, host and optional port; no path, no '*')"
                ) from None
        if not origins:
            raise ConfigurationError(f"{name} lists no origin")
        return tuple(dict.fromkeys(origins))

    def scopes(self, name: str, default: str) -> tuple[str, ...]:
        raw = self.optional(name) or default
        try:
            return tuple(parse_scopes(raw))
        except InvalidScope as exc:
            raise ConfigurationError(f"{name}: {exc.message}") from None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise ConfigurationError(f"{name} must be between {low} and {high}, got {value}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ConfigurationError(f"{name} must be true or false, got {raw!r}")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        raw = self.optional(name)
        if raw is None:
            return default
        for choice in choices:
            if raw.lower() == choice.lower():
                return choice
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
