"""Typed configuration: the one module that reads the deployment's configuration from
``os.environ`` (``figma_auth.boot`` reads only Lambda's own variables, before any setting exists;
tests/unit/test_structure.py holds both to that).

``Settings`` is a frozen dataclass whose fields name their environment variable and the
function that reads it; ``Settings.from_env()`` validates everything at cold start and raises
``ConfigurationError`` with one line naming the variable to fix. (Not a pydantic model: every
value is one string read by one of the functions below, and building a pydantic schema for
its 30 fields cost each cold start ≈ 8 ms for checks these functions make anyway.) Nothing
compares or hashes settings (one object per container), so ``eq=False``: the dataclass's
generated ``__eq__`` and ``__hash__`` over some forty fields were a fifth of this module's
import (callgrind); two settings objects are equal only when they are the same object.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from figma_auth.errors import ConfigurationError, InvalidRedirect, InvalidScope
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


LOCAL_HOSTS = ("localhost", "host.docker.internal")  # sam local invoke's container reaches the host so


def _figma_url(value: Any) -> str:
    """Figma's hosts: HTTPS, or plain HTTP only to this machine (the local emulator): tokens and the
    client secret never cross a network unencrypted."""
    import ipaddress
    from urllib.parse import urlsplit

    text = _url(value)
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" or host in LOCAL_HOSTS:
        return text
    try:
        if ipaddress.ip_address(host).is_loopback:
            return text
    except ValueError:
        pass
    raise ValueError(
        f"must be an https:// URL (plain http:// only to a loopback host, as the local emulator), got {value!r}"
    )


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


def _whole(low: int, high: int) -> Callable[[str], int]:
    def check(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"must be a whole number, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}, got {number}")
        return number

    return check


def _text(value: str) -> str:
    return value


def _short_text(value: str) -> str:
    if len(value) > 256:
        raise ValueError(f"must be at most 256 characters, got {len(value)}")
    return value


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


def _file_cache(value: Any) -> str:
    if str(value).lower() in ("shared", "off"):
        return str(value).lower()
    raise ValueError(f"must be shared (read each file version from Figma once) or off, got {value!r}")


def _bucket(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", text):
        raise ValueError(f"must be an S3 bucket name, got {value!r}")
    return text


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


def _resources(value: Any) -> tuple[str, ...]:
    """RFC 8707 resource indicators: absolute URLs without a fragment (an MCP server's own URL)."""
    from urllib.parse import urlsplit

    found = []
    for item in str(value).split(","):
        item = item.strip()
        if not item:
            continue
        parts = urlsplit(item)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment or len(item) > 512:
            raise ValueError(f"has {item[:80]!r}, which is not an absolute http(s) URL without a fragment")
        found.append(item)
    return tuple(dict.fromkeys(found))


def _ws_url(value: Any) -> str:
    """The WebSocket API's URL: wss://, or ws:// only to this machine (the local stack)."""
    from urllib.parse import urlsplit

    parts = urlsplit(str(value))
    local = (parts.hostname or "") in ("127.0.0.1", "localhost", *LOCAL_HOSTS)
    if parts.scheme not in ("wss", "ws") or not parts.netloc or (parts.scheme == "ws" and not local):
        raise ValueError(f"must be a wss:// URL (ws:// only to this machine), got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"must have no query or fragment, got {value!r}")
    return str(value)


LIVE_EVENT_TYPES = ("FILE_UPDATE", "FILE_VERSION_UPDATE", "FILE_DELETE", "FILE_COMMENT", "DEV_MODE_STATUS_UPDATE")


def _live_events(value: Any) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(item.strip().upper() for item in str(value).split(",") if item.strip()))
    unknown = [e for e in chosen if e not in LIVE_EVENT_TYPES]
    if unknown or not 0 < len(chosen) <= 3:
        raise ValueError(
            f"must name 1 to 3 of {', '.join(LIVE_EVENT_TYPES)} (Figma allows 3 webhooks a file), got {value!r}"
        )
    return chosen


class Secret:
    """A value that never shows in ``repr``, ``str`` or a dump of the settings (pydantic's
    ``SecretStr``): read it with ``get_secret_value()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__


def _var(name: str, read: Callable[[str], Any] = _text, description: str = "") -> Any:
    """A setting's environment variable, the function that reads its (stripped, non-empty)
    value, and what a person must set it to when it is required."""
    return {"env": name, "read": read, "description": description}


def _setting(name: str, read: Callable[[str], Any] = _text, *, default: Any) -> Any:
    return field(default=default, metadata=_var(name, read))


def _required(name: str, read: Callable[[str], Any], description: str) -> Any:
    return field(metadata=_var(name, read, description))


@dataclass(frozen=True, eq=False)  # never compared or hashed: see the module's docstring
class Settings:
    """Every setting, by the environment variable that sets it (see the README's table)."""

    figma_client_id: str = _required("FIGMA_CLIENT_ID", _text, "the Client ID of your Figma app")
    table_name: str = _required("TABLE_NAME", _text, "the DynamoDB table the stack created")
    kms_key_id: str = _required("KMS_KEY_ID", _text, "the KMS key id, ARN or alias the stack created")
    allowed_origins: tuple[str, ...] = _required(
        "ALLOWED_ORIGINS",
        _origins,
        "comma-separated origins your app runs on, e.g. https://app.example.com,http://localhost:5173",
    )
    callback_url: str | None = _setting("CALLBACK_URL", _url, default=None)  # None: from API Gateway's domain
    figma_client_secret: Secret | None = _setting("FIGMA_CLIENT_SECRET", Secret, default=None)
    figma_client_secret_arn: str | None = _setting("FIGMA_CLIENT_SECRET_ARN", default=None)
    figma_auth_url: str = _setting("FIGMA_AUTH_URL", _figma_url, default="https://www.figma.com/oauth")
    figma_api_url: str = _setting("FIGMA_API_URL", _figma_url, default="https://api.figma.com")
    default_scopes: tuple[str, ...] = _setting("DEFAULT_SCOPES", _scopes, default=("current_user:read",))
    # Asked for by every sign-in besides what the app asks (set it to what the app ever needs and
    # no sign-in can narrow a connection, nor need a second consent at Figma).
    base_scopes: tuple[str, ...] = _setting("BASE_SCOPES", _some_scopes, default=())
    session_ttl_days: int = _setting("SESSION_TTL_DAYS", _whole(1, 3650), default=30)
    expose_provider_token: bool = _setting("EXPOSE_PROVIDER_TOKEN", _boolean, default=True)
    figma_pkce: bool = _setting("FIGMA_PKCE", _boolean, default=True)
    refresh_leeway_seconds: int = _setting("REFRESH_LEEWAY_SECONDS", _whole(0, 86400), default=300)
    refresh_ahead_seconds: int = _setting("REFRESH_AHEAD_SECONDS", _whole(60, 7 * 86400), default=3600)
    refresh_concurrency: int = _setting("REFRESH_CONCURRENCY", _whole(1, 256), default=16)
    session_cookie_samesite: Literal["Lax", "Strict", "None"] = _setting(
        "SESSION_COOKIE_SAMESITE", _samesite, default="Lax"
    )
    event_bus_name: str = _setting("EVENT_BUS_NAME", default="default")
    offline_access: bool = _setting("OFFLINE_ACCESS", _boolean, default=False)
    # token: POST /v1/oauth/token with grant_type=refresh_token (Figma's current documentation),
    # falling back once per container to /v1/oauth/refresh if Figma refuses it; refresh: only that.
    figma_refresh_style: Literal["refresh", "token"] = _setting("FIGMA_REFRESH_STYLE", _refresh_style, default="token")

    issuer: str | None = _setting("ISSUER", _issuer, default=None)  # None: from the request
    jwt_audience: str = _setting("JWT_AUDIENCE", _short_text, default="figma-auth")
    jwt_ttl_seconds: int = _setting("JWT_TTL_SECONDS", _whole(60, 3600), default=900)
    jwt_key_id: str | None = _setting("JWT_KEY_ID", default=None)
    jwt_verify_key_ids: tuple[str, ...] = _setting("JWT_VERIFY_KEY_IDS", _key_ids, default=())

    allowed_scopes: tuple[str, ...] | None = _setting("ALLOWED_SCOPES", _scopes, default=None)
    allowed_redirect_urls: tuple[str, ...] = _setting("ALLOWED_REDIRECT_URLS", _redirect_urls, default=())
    device_code_ttl_seconds: int = _setting("DEVICE_CODE_TTL_SECONDS", _whole(60, 1800), default=600)
    device_poll_interval_seconds: int = _setting("DEVICE_POLL_INTERVAL_SECONDS", _whole(1, 60), default=5)

    # Answers too large for Lambda's response, and the read-once cache: in this bucket (None: a
    # large answer is response_too_large and nothing is cached).
    bodies_bucket: str | None = _setting("BODIES_BUCKET", _bucket, default=None)
    proxy_max_bytes: int = _setting("PROXY_MAX_BYTES", _whole(1024 * 1024, 5 * 1024**3), default=1024**3)
    file_cache: Literal["shared", "off"] = _setting("FILE_CACHE", _file_cache, default="shared")
    file_cache_days: int = _setting("FILE_CACHE_DAYS", _whole(1, 30), default=7)

    # Agents (MCP clients, authorization code): the resources (MCP servers' URLs) a token may be
    # for; none: GET /oauth/authorize refuses every request (invalid_target). The loopback switch
    # admits http://127.0.0.1… Client ID Metadata Documents (the local stack only).
    oauth_resources: tuple[str, ...] = _setting("OAUTH_RESOURCES", _resources, default=())
    oauth_loopback_clients: bool = _setting("OAUTH_LOOPBACK_CLIENTS", _boolean, default=False)

    # The realtime API (its stack outputs): where browsers open sockets, and the management API
    # the functions post to. Unset: POST /auth/realtime answers not_found.
    realtime_url: str | None = _setting("REALTIME_URL", _ws_url, default=None)
    realtime_endpoint: str | None = _setting("REALTIME_ENDPOINT", _url, default=None)
    # The Figma events a live watch holds one webhook for, per file (Figma allows 3 a file).
    live_events: tuple[str, ...] = _setting("LIVE_EVENTS", _live_events, default=("FILE_UPDATE", "FILE_DELETE"))

    def _check(self) -> None:
        """What no single variable can say: the variables must agree."""
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
        if self.figma_client_secret is None and not self.figma_client_secret_arn:
            raise ConfigurationError(
                "FIGMA_CLIENT_SECRET (local) or FIGMA_CLIENT_SECRET_ARN (AWS) must be set: "
                "the Client Secret Figma showed when you created the app"
            )

    @property
    def scopes_allowed(self) -> tuple[str, ...]:
        """ALLOWED_SCOPES, or DEFAULT_SCOPES when it is not set."""
        return self.allowed_scopes if self.allowed_scopes is not None else self.default_scopes

    @property
    def session_ttl_seconds(self) -> int:
        return self.session_ttl_days * 86400

    @property
    def client_secret(self) -> str | None:
        return self.figma_client_secret.get_secret_value() if self.figma_client_secret else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (``os.environ`` by default). Empty
        variables count as unset (SAM passes an empty string for an empty parameter); the
        first variable in the table's order that is missing or wrong is named."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for spec in fields(cls):
            name, read = spec.metadata["env"], spec.metadata["read"]
            given = env.get(name, "").strip()
            if not given:
                if spec.metadata["description"]:
                    raise ConfigurationError(f"{name} is required: {spec.metadata['description']}")
                continue
            try:
                values[spec.name] = read(given)
            except ValueError as exc:
                raise ConfigurationError(f"{name} {exc}") from None
        settings = cls(**values)
        settings._check()
        return replace(settings, figma_api_url=settings.figma_api_url.rstrip("/"))
