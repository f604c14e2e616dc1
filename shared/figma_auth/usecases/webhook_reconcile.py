"""Figma and the table kept in agreement, on a schedule. For each user's webhooks:

- **No event lost**: each webhook's requests log at Figma (``GET /v2/webhooks/{id}/requests``,
  the last week, within the rate-limit ledger) is relayed through the receiver's deduplication,
  so whatever the receiver missed while it was down is published once, and what it already
  published is not again.
- **No webhook turned against us**: a webhook whose endpoint at Figma is no longer our receiver,
  or whose requests log shows a delivery sent elsewhere since its passcode was last set (its
  owner pointed it away to read the passcode, and maybe back), gets our endpoint and a new
  passcode; ``WebhookTampered`` tells the app. A webhook Figma paused shows paused.
- **No leftovers**: a webhook gone at Figma goes here; a second webhook for the same event and
  context (made before creates answered the one held) goes at Figma and here; the webhooks of a
  connection whose sessions have all ended go at Figma, and then the connection (it kept its
  token for this); a webhook whose connection is gone is forgotten.
- **Live webhooks that still serve** (usecases/live.py): one held for a file's watchers by a
  socket gone without its $disconnect, or gone at Figma (or with its connection), moves to
  another watcher who can hold it, or every watcher is told ``unavailable``.
- **Watchers who may still watch**: after the webhooks, each file with a file webhook has every
  watcher's access proven again with their own token — one ``/meta`` call (Tier 2, through the
  ledger) per user and file a run, however many sockets they watch it on. A user who can no
  longer open the file is told ``forbidden`` on each of their sockets and gets no more of its
  events (``watchers_forbidden`` counts the sockets); a webhook they held moves on as above
  (``live_moved``). A user rate limited, or Figma unavailable, is asked again at the next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from figma_auth.errors import FigmaAuthError
from figma_auth.figma import ProxyResponse
from figma_auth.observability import logger, metrics_count
from figma_auth.records import ACTIVE, Connection, Session
from figma_auth.records.realtime import Watcher
from figma_auth.records.webhooks import Webhook
from figma_auth.times import parse_iso
from figma_auth.tokens import hash_secret, random_token
from figma_auth.usecases.proxy import Forwarder
from figma_auth.usecases.rate_limits import RateLimitLedger
from figma_auth.usecases.views import FreshGrants
from figma_auth.usecases.webhook_receiver import Outcome

RECEIVER_PATH = "/webhooks/figma"


class ReconcileStore(Protocol):
    def every_webhook(self) -> Iterator[tuple[str, str]]: ...
    def get_connection(self, user_id: str) -> Connection | None: ...
    def user_webhooks(self, user_id: str) -> list[Webhook]: ...
    def user_sessions(self, user_id: str) -> list[Session]: ...
    def delete_webhook(self, user_id: str, webhook: Webhook) -> None: ...
    def replace_passcode(
        self, user_id: str, webhook_id: str, passcode_hash: str, endpoint: str, *, now: datetime
    ) -> None: ...
    def set_webhook_status(self, user_id: str, webhook_id: str, status: str) -> None: ...


# A watcher's access is proven with their own Tier-2 budget (5 a minute on a View or Collab seat):
# a run asks at most this many files per user, in turn, so the app's own calls keep the rest.
LIVE_CHECKS_PER_USER = 2
RUN_SECONDS = 900  # the schedule's period: the turn moves on once a run


class LiveReview(Protocol):
    def review(self, user_id: str, webhook_id: str, file_key: str, event: str, *, gone: bool = False) -> str | None: ...
    def watchers(self, file_key: str) -> list[Watcher]: ...
    def recheck(
        self, file_key: str, *, watchers: list[Watcher] | None = None, skip: frozenset[str] = ...
    ) -> tuple[int, int]: ...


class ConnectionEnder(Protocol):
    def forget_unused_connection(self, user_id: str, reason: str = "logout") -> bool: ...


@dataclass
class Report:
    """What one reconciliation did, counted."""

    files: set[str] = field(default_factory=set)  # of the file webhooks seen: their watchers are checked
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "webhooks",
                "published",
                "duplicate",
                "skipped",
                "failed",
                "tampered",
                "removed",
                "connections_ended",
                "live_moved",
                "watchers_forbidden",
            ),
            0,
        )
    )

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n


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
        clock: Callable[[], datetime],
        publish: Callable[[str, dict[str, Any]], None],
        end_user: ConnectionEnder,
        offline_access: bool,
        issuer: str | None,
        live: LiveReview | None = None,
    ) -> None:
        self.store, self.engine, self.figma, self.ledger, self.relay = store, engine, figma, ledger, relay
        self.leeway_seconds, self.clock, self.publish, self.end_user = leeway_seconds, clock, publish, end_user
        self.offline_access, self.issuer, self.live = offline_access, issuer, live

    def run(self, *, time_left: Callable[[], float] = lambda: 1e9) -> dict[str, int]:
        report = Report()
        users: dict[str, list[str]] = {}
        for webhook_id, user_id in self.store.every_webhook():
            users.setdefault(user_id, []).append(webhook_id)
        for user_id, ids in users.items():
            if time_left() < 30:  # leave the rest to the next run
                break
            report.add("webhooks", len(ids))
            self._user(user_id, ids, report, time_left)
        self._watchers(report, time_left)
        return report.counts

    def _user(self, user_id: str, ids: list[str], report: Report, time_left: Callable[[], float]) -> None:
        conn = self.store.get_connection(user_id)
        webhooks = {w.id: w for w in self.store.user_webhooks(user_id)}
        report.files.update(w.context_id for w in webhooks.values() if w.context == "file")
        if conn is None:  # the connection went without them (a disconnect while Figma was down)
            for webhook in webhooks.values():
                self.store.delete_webhook(user_id, webhook)
                report.add("removed")
                self._live(user_id, webhook, report, gone=True)
            return
        if conn.status != ACTIVE:
            report.add("skipped", len(ids))
            return
        if not self.offline_access and not self._signed_in(user_id):
            # Every session ended (expired, or a logout while Figma was down): its webhooks and
            # then the connection go, as a logout does.
            if self.end_user.forget_unused_connection(user_id, "expired"):
                report.add("removed", len(webhooks))
                report.add("connections_ended")
            return
        for webhook in _duplicates(list(webhooks.values())):
            if self._delete_at_figma(conn, webhook.id):
                self.store.delete_webhook(user_id, webhook)
                webhooks.pop(webhook.id)
                report.add("removed")
        for webhook in webhooks.values():
            if time_left() < 30:
                return
            try:
                gone = self._one(conn, webhook, report)
                self._live(user_id, webhook, report, gone=gone)
            except FigmaAuthError as exc:  # rate limited, Figma down, grant dead: the next run tries again
                report.add("failed")
                logger.info("webhook reconciliation skipped one", extra={"error": exc.code})  # pragma: no mutate

    def _one(self, conn: Connection, webhook: Webhook, report: Report) -> bool:
        """Whether the webhook is gone at Figma (and so here now)."""
        at_figma = self._call(conn, "GET", f"/v2/webhooks/{webhook.id}")
        if at_figma.status == 404:  # deleted at Figma (by the user, in Figma): gone here too
            self.store.delete_webhook(conn.user_id, webhook)
            report.add("removed")
            return True
        if at_figma.status != 200:
            raise FigmaAuthError(f"Figma answered HTTP {at_figma.status}")
        shown = _object(at_figma.body)
        status = "paused" if str(shown.get("status", "ACTIVE")).upper() == "PAUSED" else "active"
        if status != webhook.status:
            self.store.set_webhook_status(conn.user_id, webhook.id, status)
        logged = self._requests(conn, webhook.id)
        ours = webhook.endpoint or (f"{self.issuer}{RECEIVER_PATH}" if self.issuer else None)
        since = webhook.passcode_set_at or webhook.created_at
        if ours is not None and (shown.get("endpoint") != ours or _sent_elsewhere(logged, ours, since)):
            self._take_back(conn, webhook, ours)
            report.add("tampered")
        for request in logged:
            outcome = self.relay(conn.user_id, request["payload"])
            if outcome in ("published", "duplicate"):
                report.add(outcome)
        return False

    def _live(self, user_id: str, webhook: Webhook, report: Report, *, gone: bool) -> None:
        """A live webhook (one file's watchers share it) whose holder cannot keep it moves on."""
        if self.live is None or webhook.context != "file":
            return
        if self.live.review(user_id, webhook.id, webhook.context_id, webhook.event_type, gone=gone) == "moved":
            report.add("live_moved")

    def _watchers(self, report: Report, time_left: Callable[[], float]) -> None:
        """Every watcher of the files seen still able to open them: each user asked once a file,
        at most ``LIVE_CHECKS_PER_USER`` files a run, their files in turn (``checks_due``)."""
        if self.live is None:
            return
        watching = {f: self.live.watchers(f) for f in sorted(report.files)}
        run = int(self.clock().timestamp()) // RUN_SECONDS
        due = checks_due({f: [w.user_id for w in ws] for f, ws in watching.items()}, LIVE_CHECKS_PER_USER, run)
        for file_key, watchers in watching.items():
            if time_left() < 30:
                return
            not_now = frozenset(w.user_id for w in watchers if (w.user_id, file_key) not in due)
            forbidden, moved = self.live.recheck(file_key, watchers=watchers, skip=not_now)
            report.add("watchers_forbidden", forbidden)
            report.add("live_moved", moved)

    def _take_back(self, conn: Connection, webhook: Webhook, endpoint: str) -> None:
        """Our endpoint back, with a passcode its owner never saw (the old one was sent elsewhere)."""
        passcode = random_token(32)
        body = json.dumps({"endpoint": endpoint, "passcode": passcode}).encode()
        answer = self._call(conn, "PUT", f"/v2/webhooks/{webhook.id}", body)
        if answer.status != 200:
            raise FigmaAuthError(f"Figma answered HTTP {answer.status} to the webhook's repair")
        self.store.replace_passcode(conn.user_id, webhook.id, hash_secret(passcode), endpoint, now=self.clock())
        metrics_count("WebhookTampered")
        # pragma: no mutate start (log wording: docs/TESTING.md)
        logger.warning(
            "a webhook was pointed away from our receiver at Figma; restored", extra={"webhook_id": webhook.id}
        )
        # pragma: no mutate end
        self.publish("WebhookTampered", {"user_id": conn.user_id, "webhook_id": webhook.id})

    def _requests(self, conn: Connection, webhook_id: str) -> list[dict[str, Any]]:
        """This webhook's logged deliveries: each ``{"payload", "endpoint", "sent_at"}``."""
        answer = self._call(conn, "GET", f"/v2/webhooks/{webhook_id}/requests")
        if answer.status != 200:
            raise FigmaAuthError(f"Figma answered HTTP {answer.status}")
        found = []
        for logged in _object(answer.body).get("requests", []):
            info = logged.get("request_info") if isinstance(logged, dict) else None
            if not isinstance(info, dict):
                continue
            payload = info.get("payload")
            if not isinstance(payload, dict) or not isinstance(payload.get("event_type"), str):
                continue
            if str(payload.get("webhook_id")) != webhook_id:
                continue
            found.append(
                {
                    "payload": {**payload, "webhook_id": webhook_id},
                    "endpoint": info.get("endpoint"),
                    "sent_at": info.get("sent_at"),
                }
            )
        return found

    def _delete_at_figma(self, conn: Connection, webhook_id: str) -> bool:
        try:
            answer = self._call(conn, "DELETE", f"/v2/webhooks/{webhook_id}")
        except FigmaAuthError:
            return False
        return answer.status < 300 or answer.status == 404

    def _call(self, conn: Connection, method: str, path: str, body: bytes | None = None) -> ProxyResponse:
        """One call with the connection's token, within the ledger (a 429 is remembered)."""
        tiered = self.ledger.check(conn, method, path)
        fresh = self.engine.fresh(conn, self.leeway_seconds)
        answer = self.figma.forward(
            path,
            method=method,
            token=fresh.grant.access_token,
            body=body,
            content_type="application/json" if body else None,
        )
        self.ledger.remember(fresh.connection, tiered, answer)
        return answer

    def _signed_in(self, user_id: str) -> bool:
        now = self.clock()
        return any(s.activated and s.expires_at > now for s in self.store.user_sessions(user_id))


def checks_due(watching: dict[str, list[str]], per_user: int, run: int) -> set[tuple[str, str]]:
    """The (user, file) pairs to check in run number ``run``: every pair of a user watching at
    most ``per_user`` files; else ``per_user`` of their files (in key order), the window moving
    by ``per_user`` each run, so each file is checked at least once in ``ceil(files / per_user)``
    consecutive runs."""
    files_of: dict[str, list[str]] = {}
    for file_key in sorted(watching):
        for user_id in dict.fromkeys(watching[file_key]):
            files_of.setdefault(user_id, []).append(file_key)
    due: set[tuple[str, str]] = set()
    for user_id, files in files_of.items():
        start = (run * per_user) % len(files)
        turn = files if len(files) <= per_user else [files[(start + i) % len(files)] for i in range(per_user)]
        due.update((user_id, f) for f in turn)
    return due


def _duplicates(webhooks: list[Webhook]) -> list[Webhook]:
    """Every webhook but the oldest of each event type and context."""
    seen: set[tuple[str, str, str]] = set()
    extra = []
    for webhook in sorted(webhooks, key=lambda w: (w.created_at, w.id)):
        same = (webhook.event_type, webhook.context, webhook.context_id)
        if same in seen:
            extra.append(webhook)
        seen.add(same)
    return extra


def _sent_elsewhere(logged: list[dict[str, Any]], ours: str, since: datetime) -> bool:
    """Whether Figma sent a delivery (and so its passcode) to another endpoint after ``since``."""
    for request in logged:
        endpoint, sent_at = request["endpoint"], request["sent_at"]
        if not isinstance(endpoint, str) or endpoint == ours or not isinstance(sent_at, str):
            continue
        try:
            if parse_iso(sent_at) > since:
                return True
        except ValueError:
            continue
    return False


def _object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
