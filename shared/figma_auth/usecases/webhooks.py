"""A connection's Figma webhooks: create (at Figma, with the user's token, pointing at our
receiver), list, delete, and drop them all when the connection ends (a disconnect, or the
user's last session ending).

One webhook per user, event type and context: creating one the user already holds answers that
one (no duplicate at Figma, whose quota of 3 a file counts every user of the app).

The passcode is ours: 32 random bytes, sent to Figma once and never stored (only its SHA-256,
which the receiver checks in constant time). Figma's refusals map to codes an app can act on:
quotas → webhook_quota, no edit/admin right → webhook_forbidden, a connection without
``webhooks:write`` → insufficient_scope (checked before Figma is called).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from figma_auth.errors import (
    FigmaError,
    FigmaUnavailable,
    InsufficientScope,
    NotFound,
    ReauthRequired,
    TemporarilyUnavailable,
    WebhookForbidden,
    WebhookQuota,
)
from figma_auth.models.webhooks import WebhookCreate, WebhookList, WebhookView
from figma_auth.observability import logger, metrics_count
from figma_auth.records import ACTIVE, Connection
from figma_auth.records.webhooks import Webhook
from figma_auth.times import iso
from figma_auth.tokens import hash_secret, random_token
from figma_auth.usecases.rate_limits import refusal

if TYPE_CHECKING:  # types only: dropping a user's webhooks (logout, disconnect) loads no proxy code
    from figma_auth.figma import ProxyResponse
    from figma_auth.usecases.proxy import Forwarder
    from figma_auth.usecases.rate_limits import RateLimitLedger
    from figma_auth.usecases.views import FreshGrants

PENDING_PASSCODE_TTL = timedelta(minutes=15)  # the PING of a create may come before Figma's answer


class WebhookStore(Protocol):
    def put_pending_passcode(self, passcode_hash: str, user_id: str, expires_at: datetime) -> None: ...
    def save_webhook(self, webhook: Webhook, passcode_hash: str) -> bool: ...
    def user_webhooks(self, user_id: str) -> list[Webhook]: ...
    def delete_webhook(self, user_id: str, webhook: Webhook) -> None: ...
    def get_connection(self, user_id: str) -> Connection | None: ...


@dataclass(frozen=True)
class Created:
    """A create's answer: the webhook, and whether it is new."""

    view: WebhookView
    new: bool  # False: the user already held this webhook (answered 200, not 201)


class ManageWebhooks:
    def __init__(
        self,
        *,
        store: WebhookStore,
        engine: FreshGrants,
        figma: Forwarder,
        ledger: RateLimitLedger,
        clock: Callable[[], datetime],
        leeway_seconds: int,
    ) -> None:
        self.store, self.engine, self.figma, self.ledger = store, engine, figma, ledger
        self.clock, self.leeway_seconds = clock, leeway_seconds

    def create(self, conn: Connection, request: WebhookCreate, *, issuer: str) -> Created:
        """At Figma, pointing at ``{issuer}/webhooks/figma`` (our receiver); the user's own when
        they already hold one for this event type and context."""
        held = self._held(conn.user_id, request)
        if held is not None:
            return Created(view(held, conn), new=False)
        if conn.status != ACTIVE:
            raise ReauthRequired()
        if "webhooks:write" not in conn.scopes:
            raise InsufficientScope(
                "Creating a webhook needs the webhooks:write scope, which this user's Figma connection lacks: "
                "sign in again asking for it (scopes=…,webhooks:write)."
            )
        tiered = self.ledger.check(conn, "POST", "/v2/webhooks")
        passcode = random_token(32)
        passcode_hash = hash_secret(passcode)
        now = self.clock()
        self.store.put_pending_passcode(passcode_hash, conn.user_id, now + PENDING_PASSCODE_TTL)
        endpoint = f"{issuer}/webhooks/figma"
        body = {
            "event_type": request.event_type,
            "context": request.context,
            "context_id": request.context_id,
            "endpoint": endpoint,
            "passcode": passcode,
            **({"description": request.description} if request.description else {}),
        }
        answer = self._call(conn, "POST", "/v2/webhooks", body)
        limited = self.ledger.remember(conn, tiered, answer)
        if limited is not None:
            raise refusal(limited, self.clock())
        created = _created(answer)
        webhook = Webhook(
            id=str(created["id"]),
            user_id=conn.user_id,
            event_type=request.event_type,
            context=request.context,
            context_id=request.context_id,
            created_at=now,
            description=request.description,
            status="paused" if str(created.get("status", "ACTIVE")).upper() == "PAUSED" else "active",
            endpoint=endpoint,
        )
        if not self.store.save_webhook(webhook, passcode_hash):
            # Another create of the same webhook (a second click) was saved first: ours goes.
            self._delete_at_figma(conn, webhook.id)
            held = self._held(conn.user_id, request)
            if held is None:
                raise TemporarilyUnavailable(retry_after=1)
            return Created(view(held, conn), new=False)
        metrics_count("WebhookCreated")
        return Created(view(webhook, conn), new=True)

    def _held(self, user_id: str, request: WebhookCreate) -> Webhook | None:
        same = (request.event_type, request.context, request.context_id)
        return next(
            (w for w in self.store.user_webhooks(user_id) if (w.event_type, w.context, w.context_id) == same), None
        )

    def list(self, conn: Connection) -> WebhookList:
        return WebhookList(webhooks=[view(w, conn) for w in self.store.user_webhooks(conn.user_id)])

    def delete(self, conn: Connection, webhook_id: str) -> None:
        """At Figma first (with the user's token), then here. Already gone at Figma is fine."""
        webhook = next((w for w in self.store.user_webhooks(conn.user_id) if w.id == webhook_id), None)
        if webhook is None:
            raise NotFound("This user has no webhook with that id.")
        if conn.status == ACTIVE:
            answer = self._call(conn, "DELETE", f"/v2/webhooks/{webhook_id}", None)
            if answer.status >= 400 and answer.status != 404:
                raise FigmaError(f"Figma refused to delete the webhook (HTTP {answer.status}); it is kept")
        self.store.delete_webhook(conn.user_id, webhook)

    def drop_all(self, user_id: str, *, keep_undeleted: bool = False) -> int:
        """Before a connection ends: the user's webhooks at Figma (with the token while it still
        works) and here. Returns how many are still at Figma (Figma down, or the grant dead):
        with ``keep_undeleted`` ours are kept for them (the connection stays, and the
        reconciliation deletes them later), else ours go all the same (a disconnect: the user's
        tokens go now, whatever Figma says). One Query when there are none."""
        webhooks = self.store.user_webhooks(user_id)
        conn = self.store.get_connection(user_id) if webhooks else None
        left = 0
        for webhook in webhooks:
            deleted = conn is not None and conn.status == ACTIVE and self._delete_at_figma(conn, webhook.id)
            if not deleted:
                left += 1
                metrics_count("WebhookNotDeletedAtFigma")
                if keep_undeleted:
                    continue
            self.store.delete_webhook(user_id, webhook)
        return left

    def _delete_at_figma(self, conn: Connection, webhook_id: str) -> bool:
        """Whether the webhook is gone at Figma now (deleted, or already gone)."""
        try:
            answer = self._call(conn, "DELETE", f"/v2/webhooks/{webhook_id}", None)
        except Exception:  # Figma down, rate limited, the grant dead: best effort, said in the metric
            answer = None
        if answer is not None and (answer.status < 300 or answer.status == 404):
            return True
        # pragma: no mutate start (log wording: docs/TESTING.md)
        logger.warning("could not delete a webhook at Figma", extra={"webhook_id": webhook_id})
        # pragma: no mutate end
        return False

    def _call(self, conn: Connection, method: str, path: str, body: dict[str, Any] | None) -> ProxyResponse:
        token = self.engine.fresh(conn, self.leeway_seconds).grant.access_token
        payload = json.dumps(body).encode() if body is not None else None
        answer = self.figma.forward(
            path, method=method, token=token, body=payload, content_type="application/json" if payload else None
        )
        if answer.status >= 500:
            raise FigmaUnavailable(f"Figma answered HTTP {answer.status}", status=502)
        return answer


def view(webhook: Webhook, conn: Connection) -> WebhookView:
    return WebhookView(
        id=webhook.id,
        event_type=webhook.event_type,
        context=webhook.context,  # type: ignore[arg-type]
        context_id=webhook.context_id,
        status="paused" if conn.status != ACTIVE else webhook.status,  # type: ignore[arg-type]
        created_at=iso(webhook.created_at),
        description=webhook.description,
    )


def _created(answer: ProxyResponse) -> dict[str, Any]:
    """Figma's answer to the create, or the error it means."""
    try:
        body = json.loads(answer.body or b"null")
    except ValueError:
        body = None
    said = str((body or {}).get("message") or (body or {}).get("err") or "")[:300] if isinstance(body, dict) else ""
    if answer.status == 200 and isinstance(body, dict) and isinstance(body.get("id"), (str, int)):
        return body
    if answer.status == 400 and ("maximum" in said.lower() or "limit" in said.lower()):
        raise WebhookQuota(f"{WebhookQuota.default_message} Figma said: {said}")
    if answer.status == 403 and "scope" in said.lower():
        raise InsufficientScope(f"Figma refused the token's scopes: {said}")
    if answer.status == 403:
        raise WebhookForbidden(f"{WebhookForbidden.default_message} Figma said: {said}")
    raise FigmaError(f"Figma refused the webhook (HTTP {answer.status}): {said}")
