"""Every failure a caller can act on, each with a stable ``error`` code and HTTP status.

``web.py`` maps these to responses in one place; the README documents each code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple


class FigmaAuthError(Exception):
    """Base class: ``code`` is the public ``error`` value, ``status`` the HTTP status."""

    code = "server_error"
    status = 500
    default_message = "Something went wrong on our side."

    def __init__(
        self, message: str | None = None, *, retry_after: int | None = None, status: int | None = None
    ) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.retry_after = retry_after
        if status is not None:  # same code, another status (the proxy answers 502 for Figma outages)
            self.status = status

    def fields(self) -> dict[str, Any]:
        """What the JSON body carries beside ``error`` and ``message``."""
        return {}

    def headers(self) -> dict[str, str]:
        """Response headers beside ``Retry-After``."""
        return {}


class ConfigurationError(RuntimeError):
    """A missing or malformed setting; raised at cold start with one line naming it."""


class InvalidRequest(FigmaAuthError):
    code, status = "invalid_request", 400
    default_message = "The request is malformed or a parameter is missing."


class InvalidRedirect(FigmaAuthError):
    code, status = "invalid_redirect", 400
    default_message = "The success/failure URL is not on an origin listed in ALLOWED_ORIGINS."


class InvalidScope(FigmaAuthError):
    code, status = "invalid_scope", 400
    default_message = "A requested scope is not one Figma documents."


class InvalidState(FigmaAuthError):
    code, status = "invalid_state", 400
    default_message = (
        "This sign-in link is unknown, was already used, expired, or was started in another "
        "browser. Start signing in again."
    )


class InvalidGrant(FigmaAuthError):
    code, status = "invalid_grant", 400
    default_message = "The ticket or code verifier is invalid, expired or already used."


class InvalidTarget(FigmaAuthError):
    code, status = "invalid_target", 400
    default_message = "The resource is not one this server issues tokens for (OAUTH_RESOURCES)."


class InvalidPath(FigmaAuthError):
    code, status = "invalid_path", 400
    default_message = "The Figma API path is not allowed."


class AccessDenied(FigmaAuthError):
    code, status = "access_denied", 400
    default_message = "The user declined access at Figma."


class AuthorizationPending(FigmaAuthError):
    code, status = "authorization_pending", 400
    default_message = "The person has not confirmed the code yet; poll again after the interval."


class SlowDown(FigmaAuthError):
    code, status = "slow_down", 400
    default_message = "Polling too fast: wait the interval (now 5 s longer) between polls."


class ExpiredToken(FigmaAuthError):
    code, status = "expired_token", 400
    default_message = "The device code expired. Start signing in again."


class TooManyAttempts(FigmaAuthError):
    code, status = "too_many_attempts", 429
    default_message = "Too many wrong codes from this address. Wait 15 minutes and try again."


class Unauthorized(FigmaAuthError):
    code, status = "unauthorized", 401
    default_message = "No valid session. Sign in with Figma first."


class ReauthRequired(FigmaAuthError):
    code, status = "reauth_required", 401
    default_message = "Figma no longer accepts this grant (revoked or expired). Sign in again."


class CsrfRejected(FigmaAuthError):
    code, status = "csrf_rejected", 403
    default_message = "Cookie-authenticated POST requests need an Origin listed in ALLOWED_ORIGINS."


class FigmaError(FigmaAuthError):
    code, status = "figma_error", 502
    default_message = "Figma answered with an unexpected error."


class FigmaUnavailable(FigmaAuthError):
    code, status = "figma_unavailable", 503
    default_message = "Figma is unavailable or rate limiting us; try again shortly."


class RateLimited(FigmaAuthError):
    """Figma refused this user's calls of a tier (its 429, remembered): answered without Figma."""

    code, status = "rate_limited", 429

    def __init__(
        self,
        *,
        retry_after: int,
        tier: int,
        scope: str,
        limit_type: str | None,
        plan_tier: str | None,
        upgrade_link: str | None,
    ) -> None:
        what, why = "this user", ""
        if scope.startswith("file:"):
            what = "this file's plan"
            why = " (the seat or plan is the limit: see upgrade_link)" if limit_type == "low" else ""
        elif limit_type == "low":
            what = "this user's seat or plan"
            why = " (see upgrade_link; after an upgrade, clearing the remembered limits lets the next call ask Figma)"
        super().__init__(
            f"Figma's Tier {tier} rate limit for {what} is reached{why}; Figma refuses these calls for "
            f"{_duration(retry_after)} more, so none was sent.",
            retry_after=retry_after,
        )
        self.tier, self.scope, self.limit_type = tier, scope, limit_type
        self.plan_tier, self.upgrade_link = plan_tier, upgrade_link
        self.stale_version: str | None = None  # the read-once cache holds this version (Cache-Control: max-stale)

    def fields(self) -> dict[str, Any]:
        found = {
            "retry_after": self.retry_after,
            "tier": self.tier,
            "scope": self.scope,
            "upgrade_link": self.upgrade_link,
        }
        return {**found, "stale_version": self.stale_version} if self.stale_version else found

    def headers(self) -> dict[str, str]:
        recorded = {
            "X-Figma-Rate-Limit-Type": self.limit_type,
            "X-Figma-Plan-Tier": self.plan_tier,
            "X-Figma-Upgrade-Link": self.upgrade_link,
        }
        return {name: value for name, value in recorded.items() if value}


def _duration(seconds: int) -> str:
    """396749 → "4 days 14 h"; 42 → "42 s"."""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} day{'s' if days > 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h {rest // 60} min"
    return f"{rest // 60} min {rest % 60} s" if rest >= 60 else f"{rest} s"


class WebhookQuota(FigmaAuthError):
    code, status = "webhook_quota", 400
    default_message = (
        "Figma's webhook quota for this context is reached (3 per file, 5 per project, 20 per team, and "
        "per-plan totals): delete one first."
    )


class WebhookForbidden(FigmaAuthError):
    code, status = "webhook_forbidden", 403
    default_message = (
        "This Figma user may not create webhooks here: a team needs its admin, a project or file edit access."
    )


class InsufficientScope(FigmaAuthError):
    code, status = "insufficient_scope", 403
    default_message = "The user's Figma connection lacks a scope this needs: sign in asking for it."


class ResponseTooLarge(FigmaAuthError):
    code, status = "response_too_large", 502
    default_message = (
        "Figma's response is larger than this stack passes on (PROXY_MAX_BYTES). Ask for less: "
        "use `depth`, `ids`, or the /v1/files/:key/nodes endpoint."
    )


class TemporarilyUnavailable(FigmaAuthError):
    code, status = "temporarily_unavailable", 503
    default_message = "Our storage is throttled; try again shortly."


class NotFound(FigmaAuthError):
    code, status = "not_found", 404
    default_message = "No such route."


class GrantUnreadable(FigmaAuthError):
    """The stored ciphertext does not decrypt under its own context: fail closed."""

    code, status = "unauthorized", 401
    default_message = "The stored Figma grant could not be verified. Sign in again."


class DeviceNotPending(ExpiredToken):
    default_message = "This code expired or was already used. Start signing in again from your plugin or app."


class SessionsLeft(TemporarilyUnavailable):
    """A batch delete left sessions behind after its retries: the same request finishes it."""

    default_message = "Some sessions could not be deleted yet; send the same request again to finish."


class Problem(NamedTuple):
    """The first thing pydantic found wrong, as one line can say it (never the input: it may be a secret)."""

    where: str  # dotted location, without the request part ("body", "query", ...)
    what: str  # pydantic's message
    kind: str  # pydantic's error type, e.g. "missing"

    def line(self) -> str:
        return f"{self.where}: {self.what}"


def first_problem(errors: Sequence[Mapping[str, Any]]) -> Problem:
    """The first of pydantic's ``errors()`` as a Problem: the one-line errors of the web adapter
    and of settings come from here."""
    if not errors:
        return Problem("body", "The request is malformed.", "")
    first = errors[0]
    loc = [str(part) for part in first.get("loc", ()) if part not in ("query", "body", "header", "path")]
    return Problem(".".join(loc) or "body", str(first.get("msg", "invalid")), str(first.get("type", "")))


def status_of(code: str) -> int:
    """The HTTP status an error ``code`` is answered with (the README's table)."""
    for cls in _all(FigmaAuthError):
        if cls.code == code:
            return cls.status
    raise KeyError(code)


def _all(cls: type[FigmaAuthError]) -> list[type[FigmaAuthError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found += _all(sub)
    return found
