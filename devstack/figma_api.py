"""Figma's REST endpoints as the emulator plays them: method + path template → the scopes that
let a token call it (any one of them) and the endpoint's rate-limit tier.

Scopes: taken from Figma's published OpenAPI spec (github.com/figma/rest-api-spec,
openapi/openapi.yaml, each operation's ``security``: OAuth2 scopes, any of). ``files:read`` (the
deprecated broad scope) opens every read the spec lists it on.

Tiers: Figma's REST reference gives each endpoint a tier (1 strictest … 3). Those marked
``confirmed`` are the ones docs/FIGMA.md names with their source (files, nodes, images: 1; file
meta, comments and webhook creation: 2; /v1/me: 3); the rest are our reading of the reference
and unconfirmed. This table is the emulator's on purpose — the product keeps its own
(figma_auth/figma_tiers.py), so a mistake in one is not mirrored in the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # Figma's path, {name} for a segment
    scopes: tuple[str, ...]  # any one of them
    tier: int
    confirmed: bool = False  # the tier (see the module docstring)

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{[a-z_]+\}", "[^/]+", self.template) + "$")


_R = "files:read"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/v1/me", ("current_user:read", _R), 3, True),
    Endpoint("GET", "/v1/files/{file_key}", ("file_content:read", _R), 1, True),
    Endpoint("GET", "/v1/files/{file_key}/nodes", ("file_content:read", _R), 1, True),
    Endpoint("GET", "/v1/images/{file_key}", ("file_content:read", _R), 1, True),
    Endpoint("GET", "/v1/files/{file_key}/images", ("file_content:read", _R), 2),
    Endpoint("GET", "/v1/files/{file_key}/meta", ("file_metadata:read", _R), 2, True),
    Endpoint("GET", "/v1/files/{file_key}/versions", ("file_versions:read", _R), 2),
    Endpoint("GET", "/v1/files/{file_key}/comments", ("file_comments:read", _R), 2, True),
    Endpoint("POST", "/v1/files/{file_key}/comments", ("file_comments:write",), 2, True),
    Endpoint("DELETE", "/v1/files/{file_key}/comments/{comment_id}", ("file_comments:write",), 2),
    Endpoint("GET", "/v1/files/{file_key}/comments/{comment_id}/reactions", ("file_comments:read", _R), 2),
    Endpoint("POST", "/v1/files/{file_key}/comments/{comment_id}/reactions", ("file_comments:write",), 2),
    Endpoint("DELETE", "/v1/files/{file_key}/comments/{comment_id}/reactions", ("file_comments:write",), 2),
    Endpoint("GET", "/v1/teams/{team_id}/projects", ("projects:read", _R), 2),
    Endpoint("GET", "/v1/projects/{project_id}/files", ("projects:read", _R), 2),
    Endpoint("GET", "/v1/teams/{team_id}/components", ("team_library_content:read", _R), 3),
    Endpoint("GET", "/v1/teams/{team_id}/component_sets", ("team_library_content:read", _R), 3),
    Endpoint("GET", "/v1/teams/{team_id}/styles", ("team_library_content:read", _R), 3),
    Endpoint("GET", "/v1/files/{file_key}/components", ("library_content:read", _R), 3),
    Endpoint("GET", "/v1/files/{file_key}/component_sets", ("library_content:read", _R), 3),
    Endpoint("GET", "/v1/files/{file_key}/styles", ("library_content:read", _R), 3),
    Endpoint("GET", "/v1/components/{key}", ("library_assets:read", _R), 3),
    Endpoint("GET", "/v1/component_sets/{key}", ("library_assets:read", _R), 3),
    Endpoint("GET", "/v1/styles/{key}", ("library_assets:read", _R), 3),
    Endpoint("GET", "/v2/webhooks", ("webhooks:read",), 2),
    Endpoint("POST", "/v2/webhooks", ("webhooks:write",), 2, True),
    Endpoint("GET", "/v2/webhooks/{webhook_id}", ("webhooks:read", _R), 2),
    Endpoint("PUT", "/v2/webhooks/{webhook_id}", ("webhooks:write",), 2),
    Endpoint("DELETE", "/v2/webhooks/{webhook_id}", ("webhooks:write",), 2),
    Endpoint("GET", "/v2/teams/{team_id}/webhooks", ("webhooks:read", _R), 2),
    Endpoint("GET", "/v2/webhooks/{webhook_id}/requests", ("webhooks:read", _R), 2),
    Endpoint("GET", "/v1/activity_logs", ("org:activity_log_read",), 3),
    Endpoint("GET", "/v1/files/{file_key}/variables/local", ("file_variables:read",), 2),
    Endpoint("GET", "/v1/files/{file_key}/variables/published", ("file_variables:read",), 2),
    Endpoint("POST", "/v1/files/{file_key}/variables", ("file_variables:write",), 3),
    Endpoint("GET", "/v1/files/{file_key}/dev_resources", ("file_dev_resources:read",), 2),
    Endpoint("POST", "/v1/dev_resources", ("file_dev_resources:write",), 2),
    Endpoint("PUT", "/v1/dev_resources", ("file_dev_resources:write",), 2),
    Endpoint("DELETE", "/v1/files/{file_key}/dev_resources/{dev_resource_id}", ("file_dev_resources:write",), 2),
    Endpoint("GET", "/v1/analytics/libraries/{file_key}/component/actions", ("library_analytics:read",), 3),
    Endpoint("GET", "/v1/analytics/libraries/{file_key}/component/usages", ("library_analytics:read",), 3),
    Endpoint("GET", "/v1/analytics/libraries/{file_key}/style/actions", ("library_analytics:read",), 3),
    Endpoint("GET", "/v1/analytics/libraries/{file_key}/style/usages", ("library_analytics:read",), 3),
    Endpoint("GET", "/v1/analytics/libraries/{file_key}/variable/actions", ("library_analytics:read",), 3),
    Endpoint("GET", "/v1/analytics/libraries/{file_key}/variable/usages", ("library_analytics:read",), 3),
    Endpoint("GET", "/v1/oembed", ("file_metadata:read",), 3),
)

_COMPILED = tuple((e, e.pattern) for e in ENDPOINTS)


def find(method: str, path: str) -> Endpoint | None:
    """The endpoint ``method path`` calls (None: Figma has no such endpoint → 404)."""
    for endpoint, pattern in _COMPILED:
        if endpoint.method == method and pattern.match(path):
            return endpoint
    return None


def file_key(endpoint: Endpoint, path: str) -> str | None:
    """The file a call names (its plan's budget is the one spent), if its template has one."""
    names = endpoint.template.split("/")
    if "{file_key}" not in names:
        return None
    return path.split("/")[names.index("{file_key}")]


def scope_refusal(endpoint: Endpoint, held: list[str]) -> dict[str, object] | None:
    """Figma's 403 body for a token without the endpoint's scope (None: allowed). The wording is
    ours (Figma's exact text is unconfirmed); the shape is Figma's REST error shape."""
    if any(scope in held for scope in endpoint.scopes):
        return None
    needed = " or ".join(s for s in endpoint.scopes if s != _R) or endpoint.scopes[0]
    return {
        "status": 403,
        "err": f"Invalid scope(s): {', '.join(held) or 'none'}. This endpoint requires the {needed} scope",
    }
