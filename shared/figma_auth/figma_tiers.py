"""Figma's REST endpoint tiers as data: which rate-limit budget a proxied call spends.

Since November 17, 2025 Figma counts REST calls per user, per plan, per app, by the endpoint's
tier (1 is the strictest: file content, nodes, images). The tiers are Figma's REST API
reference's; ``confirmed`` marks the ones docs/FIGMA.md names with their source ("Endpoint
tiers": files, nodes, images: 1; file meta, comments and webhook creation: 2; /v1/me: 3), the
rest are our reading of the reference. **An unknown path is Tier 1** (the strictest), so a new
endpoint is never spent as if it were cheap.

What a call's limit covers: a path that names a file (``/v1/files/{key}…``, ``/v1/images/{key}``)
counts against the file's plan, so a burst 429 covers that file (``file:<key>``); anything else
covers the user (``user``). A 429 saying the seat or plan is the limit (type ``low``) covers the
user whatever the path (usecases/rate_limits.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

STRICTEST = 1


@dataclass(frozen=True)
class Classified:
    """A call's tier and the scope of its limit."""

    tier: int
    scope: str  # "file:<key>" or "user"


# (method, path template, tier, confirmed). {name} matches one path segment.
TIERS: tuple[tuple[str, str, int, bool], ...] = (
    ("GET", "/v1/me", 3, True),
    ("GET", "/v1/files/{file_key}", 1, True),
    ("GET", "/v1/files/{file_key}/nodes", 1, True),
    ("GET", "/v1/images/{file_key}", 1, True),
    ("GET", "/v1/files/{file_key}/images", 2, False),
    ("GET", "/v1/files/{file_key}/meta", 2, True),
    ("GET", "/v1/files/{file_key}/versions", 2, False),
    ("GET", "/v1/files/{file_key}/comments", 2, True),
    ("POST", "/v1/files/{file_key}/comments", 2, True),
    ("DELETE", "/v1/files/{file_key}/comments/{comment_id}", 2, False),
    ("GET", "/v1/files/{file_key}/comments/{comment_id}/reactions", 2, False),
    ("POST", "/v1/files/{file_key}/comments/{comment_id}/reactions", 2, False),
    ("DELETE", "/v1/files/{file_key}/comments/{comment_id}/reactions", 2, False),
    ("GET", "/v1/teams/{team_id}/projects", 2, False),
    ("GET", "/v1/projects/{project_id}/files", 2, False),
    ("GET", "/v1/teams/{team_id}/components", 3, False),
    ("GET", "/v1/teams/{team_id}/component_sets", 3, False),
    ("GET", "/v1/teams/{team_id}/styles", 3, False),
    ("GET", "/v1/files/{file_key}/components", 3, False),
    ("GET", "/v1/files/{file_key}/component_sets", 3, False),
    ("GET", "/v1/files/{file_key}/styles", 3, False),
    ("GET", "/v1/components/{key}", 3, False),
    ("GET", "/v1/component_sets/{key}", 3, False),
    ("GET", "/v1/styles/{key}", 3, False),
    ("GET", "/v2/webhooks", 2, False),
    ("POST", "/v2/webhooks", 2, True),
    ("GET", "/v2/webhooks/{webhook_id}", 2, False),
    ("PUT", "/v2/webhooks/{webhook_id}", 2, False),
    ("DELETE", "/v2/webhooks/{webhook_id}", 2, False),
    ("GET", "/v2/teams/{team_id}/webhooks", 2, False),
    ("GET", "/v2/webhooks/{webhook_id}/requests", 2, False),
    ("GET", "/v1/activity_logs", 3, False),
    ("GET", "/v1/files/{file_key}/variables/local", 2, False),
    ("GET", "/v1/files/{file_key}/variables/published", 2, False),
    ("POST", "/v1/files/{file_key}/variables", 3, False),
    ("GET", "/v1/files/{file_key}/dev_resources", 2, False),
    ("POST", "/v1/dev_resources", 2, False),
    ("PUT", "/v1/dev_resources", 2, False),
    ("DELETE", "/v1/files/{file_key}/dev_resources/{dev_resource_id}", 2, False),
    ("GET", "/v1/analytics/libraries/{file_key}/component/actions", 3, False),
    ("GET", "/v1/analytics/libraries/{file_key}/component/usages", 3, False),
    ("GET", "/v1/analytics/libraries/{file_key}/style/actions", 3, False),
    ("GET", "/v1/analytics/libraries/{file_key}/style/usages", 3, False),
    ("GET", "/v1/analytics/libraries/{file_key}/variable/actions", 3, False),
    ("GET", "/v1/analytics/libraries/{file_key}/variable/usages", 3, False),
    ("GET", "/v1/oembed", 3, False),
)

_FILE = re.compile(r"^/v1/(?:files|images)/([^/]+)")


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regex, compiled the first time a path is tried against it: compiling all
    of them at import cost every cold start that classifies a call ≈ 12 M instructions (callgrind),
    and a call tries only the few before its match."""
    return re.compile("^" + re.sub(r"\{[a-z_]+\}", "[^/]+", template) + "$")


def classify(method: str, path: str) -> Classified:
    """The tier and the limit's scope of ``method path`` (a checked Figma path, no query)."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    tier = next((t for m, template, t, _ in TIERS if m == method and _pattern(template).match(path)), STRICTEST)
    named = _FILE.match(path)
    return Classified(tier, f"file:{named.group(1)}" if named else "user")
