"""Configuration: defaults, and one clear line naming the variable when something is wrong."""

from __future__ import annotations

import dataclasses
import json

import pytest

from figma_auth.errors import ConfigurationError
from figma_auth.settings import Settings
from tests.support.environment import GOOD


def test_defaults_follow_the_contract() -> None:
    s = Settings.from_env(GOOD)
    assert s.figma_auth_url == "https://www.figma.com/oauth" and s.figma_api_url == "https://api.figma.com"
    assert s.default_scopes == ("current_user:read",) and s.session_ttl_days == 30
    assert s.expose_provider_token and s.figma_pkce
    assert (s.refresh_leeway_seconds, s.refresh_ahead_seconds, s.refresh_concurrency) == (300, 3600, 16)
    assert s.allowed_origins == ("https://app.example.com",)


def test_the_client_secret_never_shows_in_repr_or_a_dump() -> None:
    settings = Settings.from_env({**GOOD, "FIGMA_CLIENT_SECRET": "s3cr3t-value"})
    dumped = json.dumps(dataclasses.asdict(settings), default=str)
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings) and "s3cr3t-value" not in dumped
    assert settings.client_secret == "s3cr3t-value"


@pytest.mark.parametrize("missing", ["FIGMA_CLIENT_ID", "TABLE_NAME", "KMS_KEY_ID", "ALLOWED_ORIGINS"])
def test_a_missing_required_variable_is_named(missing: str) -> None:
    env = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_env(env)


def test_a_missing_secret_names_both_ways_to_give_it() -> None:
    env = {k: v for k, v in GOOD.items() if k != "FIGMA_CLIENT_SECRET"}
    with pytest.raises(ConfigurationError, match="FIGMA_CLIENT_SECRET.*FIGMA_CLIENT_SECRET_ARN"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SESSION_TTL_DAYS", "thirty"),
        ("SESSION_TTL_DAYS", "0"),
        ("EXPOSE_PROVIDER_TOKEN", "maybe"),
        ("FIGMA_PKCE", "2"),
        ("DEFAULT_SCOPES", "file_read"),
        ("ALLOWED_ORIGINS", "https://app.example.com/path"),
        ("ALLOWED_ORIGINS", "*"),
        ("CALLBACK_URL", "not a url"),
        ("FIGMA_API_URL", "ftp://x"),
        ("FIGMA_API_URL", "http://api.figma.com"),  # tokens and the client secret in the clear
        ("FIGMA_AUTH_URL", "http://10.0.0.5/oauth"),
        ("FIGMA_API_URL", "http://127.0.0.1.example.com"),
        ("REFRESH_CONCURRENCY", "0"),
        ("SESSION_COOKIE_SAMESITE", "Sometimes"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**GOOD, name: value})
    assert name in str(caught.value) and "\n" not in str(caught.value)


def test_origins_are_normalised_and_deduplicated() -> None:
    s = Settings.from_env({**GOOD, "ALLOWED_ORIGINS": "https://APP.example.com:443, https://app.example.com,,"})
    assert s.allowed_origins == ("https://app.example.com",)


def test_callback_url_may_be_left_to_api_gateway() -> None:
    env = {k: v for k, v in GOOD.items() if k != "CALLBACK_URL"}
    assert Settings.from_env(env).callback_url is None


def test_exact_redirect_urls_must_be_on_allowed_origins_and_default_scopes_allowed() -> None:
    with pytest.raises(ConfigurationError, match="ALLOWED_REDIRECT_URLS has 'https://other.example.com/done'"):
        Settings.from_env({**GOOD, "ALLOWED_REDIRECT_URLS": "https://other.example.com/done"})
    with pytest.raises(ConfigurationError, match="DEFAULT_SCOPES has 'file_content:read'"):
        Settings.from_env({**GOOD, "DEFAULT_SCOPES": "file_content:read", "ALLOWED_SCOPES": "current_user:read"})
    with pytest.raises(ConfigurationError, match="ALLOWED_REDIRECT_URLS has"):
        Settings.from_env({**GOOD, "ALLOWED_REDIRECT_URLS": "https://app.example.com/auth/done?x=1"})
    exact = Settings.from_env({**GOOD, "ALLOWED_REDIRECT_URLS": "https://APP.example.com:443/auth/done"})
    assert exact.allowed_redirect_urls == ("https://app.example.com/auth/done",)


def test_without_allowed_scopes_only_the_default_scopes_are_allowed() -> None:
    assert Settings.from_env(GOOD).scopes_allowed == ("current_user:read",)


def test_each_message_is_the_variable_and_what_to_fix() -> None:
    env = {k: v for k, v in GOOD.items() if k != "FIGMA_CLIENT_ID"}
    with pytest.raises(ConfigurationError) as missing:
        Settings.from_env(env)
    assert str(missing.value) == "FIGMA_CLIENT_ID is required: the Client ID of your Figma app"
    with pytest.raises(ConfigurationError) as wrong:
        Settings.from_env({**GOOD, "SESSION_TTL_DAYS": "0"})
    assert str(wrong.value) == "SESSION_TTL_DAYS must be between 1 and 3650, got 0"
    with pytest.raises(ConfigurationError) as long:
        Settings.from_env({**GOOD, "JWT_AUDIENCE": "a" * 257})
    assert str(long.value) == "JWT_AUDIENCE must be at most 256 characters, got 257"
    assert Settings.from_env({**GOOD, "JWT_AUDIENCE": "a" * 256}).jwt_audience == "a" * 256


def test_the_first_wrong_variable_in_the_table_is_named() -> None:
    with pytest.raises(ConfigurationError, match="^SESSION_TTL_DAYS "):
        Settings.from_env({**GOOD, "FIGMA_PKCE": "2", "SESSION_TTL_DAYS": "x", "JWT_TTL_SECONDS": "1"})


def test_values_are_stripped_blank_is_unset_and_settings_are_frozen() -> None:
    s = Settings.from_env(
        {**GOOD, "TABLE_NAME": "  t2 ", "SESSION_TTL_DAYS": "   ", "FIGMA_API_URL": "http://127.0.0.1:1/"}
    )
    assert (s.table_name, s.session_ttl_days, s.figma_api_url) == ("t2", 30, "http://127.0.0.1:1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.table_name = "other"  # type: ignore[misc]


def test_every_variable_is_in_the_configuration_table() -> None:
    from pathlib import Path

    table = (Path(__file__).parents[2] / "docs" / "CONFIGURATION.md").read_text()
    names = [spec.metadata["env"] for spec in dataclasses.fields(Settings)]
    assert len(names) == len(set(names)) == 39
    assert [name for name in names if f"`{name}`" not in table] == []


@pytest.mark.parametrize(
    "url",
    [
        "https://api.figma.com",
        "http://127.0.0.1:4010",
        "http://127.5.6.7",
        "http://[::1]:80",
        "http://localhost:9",
        "http://host.docker.internal:4010",
    ],
)
def test_figmas_hosts_are_https_or_plain_http_only_to_this_machine(url: str) -> None:
    s = Settings.from_env({**GOOD, "FIGMA_API_URL": url, "FIGMA_AUTH_URL": url + "/oauth"})
    assert (s.figma_api_url, s.figma_auth_url) == (url, url + "/oauth")


def test_the_default_refresh_style_is_figmas_token_endpoint() -> None:
    assert Settings.from_env(GOOD).figma_refresh_style == "token"
