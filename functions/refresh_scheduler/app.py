"""EventBridge schedule: refresh every Figma grant that expires within REFRESH_AHEAD_SECONDS."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from figma_auth import entry, jobs, runtime

runtime.check()


lambda_handler = entry.scheduled(jobs.scheduled_refresh)
