"""EventBridge schedule: for each active webhook, read Figma's log of its deliveries (the last
week) and publish what the receiver did not (deduplicated), so an outage loses nothing."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from figma_auth import entry, jobs, runtime

runtime.check()


lambda_handler = entry.scheduled(jobs.webhook_reconciliation)
