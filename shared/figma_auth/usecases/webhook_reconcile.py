"""No event lost: a scheduled pass reads each active webhook's requests log at Figma
(``GET /v2/webhooks/{id}/requests``, the last week, within the rate-limit ledger) and relays
every delivery through the receiver's deduplication, so whatever the receiver missed while it
was down (or refused: a 5xx) is published once, and what it already published is not again."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from figma_auth.errors import FigmaAuthError
from figma_auth.observability import logger
from figma_auth.records import ACTIVE, Connection
from figma_auth.usecases.proxy import Forwarder
from figma_auth.usecases.rate_limits import RateLimitLedger
from figma_auth.usecases.views import FreshGrants
from figma_auth.usecases.webhook_receiver import Outcome


class ReconcileStore(Protocol):
    def every_webhook(self) -> Iterator[tuple[str, str]]: ...
    def get_connection(self, user_id: str) -> Connection | None: ...


class Reconcile:
    def __init__(
        self,
        *,
        store: ReconcileStore,
        engine: FreshGrants,
        figma: Forwarder,
        ledger: RateLimitLedger,
        relay: Callable[[str, dict[str, Any]], Outcome],
        leeway_seconds: int,
    ) -> None:
        self.store, self.engine, self.figma, self.ledger, self.relay = store, engine, figma, ledger, relay
        self.leeway_seconds = leeway_seconds

    def run(self, *, time_left: Callable[[], float] = lambda: 1e9) -> dict[str, int]:
        report = {"webhooks": 0, "published": 0, "duplicate": 0, "skipped": 0, "failed": 0}
        connections: dict[str, Connection | None] = {}
        for webhook_id, user_id in self.store.every_webhook():
            if time_left() < 30:  # leave the rest to the next run
                break
            report["webhooks"] += 1
            if user_id not in connections:
                connections[user_id] = self.store.get_connection(user_id)
            conn = connections[user_id]
            if conn is None or conn.status != ACTIVE:
                report["skipped"] += 1
                continue
            try:
                for payload in self._requests(conn, webhook_id):
                    outcome = self.relay(user_id, payload)
                    if outcome in ("published", "duplicate"):
                        report[outcome] += 1
            except FigmaAuthError as exc:  # rate limited, Figma down, grant dead: the next run tries again
                report["failed"] += 1
                logger.info("webhook reconciliation skipped one", extra={"error": exc.code})  # pragma: no mutate
        return report

    def _requests(self, conn: Connection, webhook_id: str) -> list[dict[str, Any]]:
        path = f"/v2/webhooks/{webhook_id}/requests"
        tiered = self.ledger.check(conn, "GET", path)
        fresh = self.engine.fresh(conn, self.leeway_seconds)
        answer = self.figma.forward(path, method="GET", token=fresh.grant.access_token, body=None, content_type=None)
        self.ledger.remember(fresh.connection, tiered, answer)
        if answer.status != 200:
            raise FigmaAuthError(f"Figma answered HTTP {answer.status}")
        try:
            logged = json.loads(answer.body).get("requests", [])
        except (ValueError, AttributeError):
            return []
        payloads = [r.get("request_info", {}).get("payload") for r in logged if isinstance(r, dict)]
        return [
            p
            for p in payloads
            if isinstance(p, dict) and p.get("webhook_id") == webhook_id and isinstance(p.get("event_type"), str)
        ]
