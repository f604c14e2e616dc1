"""The composition root: the one place that builds a Lambda container's collaborators (settings,
the store, the vault, the Figma client, the publisher, the refresh engine, the JWT signer) and
the use cases each function serves.

Everything is built lazily on first use and cached per container; ``reset()`` forgets it
(tests). Handlers call ``check()`` at import so bad settings fail the cold start with one line,
and name the use cases they serve (``runtime.sessions()``, ``runtime.proxy()``, …) inside their
routes: a handler's cold start imports no use-case code before its first request.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from figma_auth import aws, coldstart
from figma_auth.observability import logger
from figma_auth.settings import Settings
from figma_auth.times import utcnow

if TYPE_CHECKING:  # the use cases load on the first request, not at a handler's import
    from figma_auth.engine import Publish, RefreshEngine
    from figma_auth.figma import FigmaClient
    from figma_auth.signing import JwtSigner
    from figma_auth.store import Store
    from figma_auth.usecases.authenticate import Authenticate
    from figma_auth.usecases.authorize import StartSignIn
    from figma_auth.usecases.connections import BackendConnections
    from figma_auth.usecases.device import DeviceSignIn
    from figma_auth.usecases.device_verify import DeviceVerification
    from figma_auth.usecases.discovery import Discovery
    from figma_auth.usecases.jwts import AppJwts
    from figma_auth.usecases.proxy import FigmaProxy
    from figma_auth.usecases.rate_limits import RateLimitLedger
    from figma_auth.usecases.sessions import EndUser, Sessions
    from figma_auth.usecases.signin import CompleteSignIn, RedeemTicket
    from figma_auth.usecases.webhook_receiver import ReceiveDelivery
    from figma_auth.usecases.webhooks import ManageWebhooks
    from figma_auth.vault import Vault


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


def check() -> Settings:
    """Validate configuration now (cold start), and renew per-process state after a SnapStart
    restore (figma_auth.snapshot)."""
    from figma_auth import snapshot

    snapshot.after_restore(renew_after_restore)
    config = settings()
    if snapshot.snapshotting():
        snapshot.preload()  # code, not state: what every restore's first request would import
    return config


def renew_after_restore() -> None:
    """After a SnapStart restore: make fresh what the snapshot shares between its restores."""
    import random
    import sys

    random.seed()  # from os.urandom: each restore its own jitter
    reset()  # clients, pools and caches are rebuilt by this copy's first request
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters")
    if parameters is not None:
        parameters.clear_caches()  # the client secret, if init ever fetched it


@dataclass
class Parts:
    """A container's collaborators, shared by every use case it serves."""

    settings: Settings
    store: Store
    vault: Vault
    figma: FigmaClient
    publish: Publish
    clock: Callable[[], datetime] = utcnow
    signer: JwtSigner | None = None

    @functools.cached_property
    def engine(self) -> RefreshEngine:
        """The refresh engine, built for the first use case that needs one (not sign-in's start)."""
        from figma_auth.engine import RefreshEngine

        return RefreshEngine(
            store=self.store, vault=self.vault, figma=self.figma, clock=self.clock, publish=self.publish
        )


@functools.cache
def parts() -> Parts:
    from figma_auth.signing import JwtSigner
    from figma_auth.store import Store
    from figma_auth.vault import Vault

    config = settings()
    signer = (
        JwtSigner(kms=aws.deferred_kms(), key_id=config.jwt_key_id, also_serve=config.jwt_verify_key_ids)
        if config.jwt_key_id
        else None
    )
    return Parts(
        settings=config,
        store=Store(table_name=config.table_name, client=aws.dynamodb()),
        vault=Vault(kms=aws.deferred_kms(), key_id=config.kms_key_id),
        figma=cast("FigmaClient", aws.Deferred(lambda: figma_client(config))),  # built on first use
        publish=_publisher(config),
        signer=signer,
    )


# -- the use cases, one each per container ----------------------------------------------------


@functools.cache
def authenticate() -> Authenticate:
    from figma_auth.usecases.authenticate import Authenticate

    return Authenticate(store=parts().store, clock=parts().clock)


@functools.cache
def start_sign_in() -> StartSignIn:
    from figma_auth.usecases.authorize import StartSignIn

    p = parts()
    return StartSignIn(settings=p.settings, store=p.store, authenticate=authenticate(), clock=p.clock)


@functools.cache
def complete_sign_in() -> CompleteSignIn:
    from figma_auth.usecases.signin import CompleteSignIn

    p = parts()
    return CompleteSignIn(
        store=p.store,
        vault=p.vault,
        figma=p.figma,
        clock=p.clock,
        publish=p.publish,
        restart=start_sign_in().begin,
        session_ttl_days=p.settings.session_ttl_days,
        offline_access=p.settings.offline_access,
    )


@functools.cache
def end_user() -> EndUser:
    from figma_auth.usecases.sessions import EndUser

    p = parts()
    return EndUser(
        store=p.store,
        publish=p.publish,
        offline_access=p.settings.offline_access,
        clock=p.clock,
        drop_webhooks=lambda user_id, keep: webhooks().drop_all(user_id, keep_undeleted=keep),
    )


@functools.cache
def sessions() -> Sessions:
    from figma_auth.usecases.sessions import Sessions

    p = parts()
    return Sessions(
        store=p.store,
        authenticate=authenticate(),
        engine=p.engine,
        end_user=end_user(),
        clock=p.clock,
        leeway_seconds=p.settings.refresh_leeway_seconds,
        expose_token=p.settings.expose_provider_token,
    )


@functools.cache
def redeem_ticket() -> RedeemTicket:
    from figma_auth.usecases.signin import RedeemTicket

    return RedeemTicket(store=parts().store, view=sessions().view, clock=parts().clock)


@functools.cache
def device() -> DeviceSignIn:
    from figma_auth.usecases.device import DeviceSignIn

    p = parts()
    return DeviceSignIn(
        store=p.store,
        login=start_sign_in(),
        view=sessions().view,
        clock=p.clock,
        code_ttl_seconds=p.settings.device_code_ttl_seconds,
        poll_interval_seconds=p.settings.device_poll_interval_seconds,
        session_ttl_days=p.settings.session_ttl_days,
        offline_access=p.settings.offline_access,
    )


@functools.cache
def device_verification() -> DeviceVerification:
    from figma_auth.usecases.device_verify import DeviceVerification

    return DeviceVerification(store=parts().store, login=start_sign_in(), clock=parts().clock)


@functools.cache
def proxy() -> FigmaProxy:
    from figma_auth.usecases.proxy import FigmaProxy

    p = parts()
    return FigmaProxy(
        store=p.store,
        authenticate=authenticate(),
        engine=p.engine,
        figma=p.figma,
        ledger=_ledger(p),
        clock=p.clock,
        leeway_seconds=p.settings.refresh_leeway_seconds,
    )


def _ledger(p: Parts) -> RateLimitLedger:
    from figma_auth.usecases.rate_limits import RateLimitLedger

    return RateLimitLedger(store=p.store, publish=p.publish, clock=p.clock)


@functools.cache
def webhooks() -> ManageWebhooks:
    from figma_auth.usecases.webhooks import ManageWebhooks

    p = parts()
    return ManageWebhooks(
        store=p.store,
        engine=p.engine,
        figma=p.figma,
        ledger=_ledger(p),
        clock=p.clock,
        leeway_seconds=p.settings.refresh_leeway_seconds,
    )


@functools.cache
def webhook_receiver() -> ReceiveDelivery:
    """The receiver's parts only: the table and EventBridge (no KMS, no Figma client, no httpx)."""
    from figma_auth.store import Store
    from figma_auth.usecases.webhook_receiver import ReceiveDelivery, Relay

    config = settings()
    store = Store(table_name=config.table_name, client=aws.dynamodb())
    relay = Relay(store=store, publish=_publisher(config, strict=True), clock=utcnow)
    return ReceiveDelivery(store=store, relay=relay, clock=utcnow)


def run_webhook_reconciliation(*, time_left: Callable[[], float]) -> dict[str, int]:
    coldstart.end()  # a batch: it collects as it goes
    from figma_auth.store import Store
    from figma_auth.usecases.webhook_receiver import Relay
    from figma_auth.usecases.webhook_reconcile import Reconcile

    p = parts()
    pages = Store(table_name=p.settings.table_name, client=aws.dynamodb_paging())
    relay = Relay(store=p.store, publish=_publisher(p.settings, strict=True), clock=p.clock)
    reconcile = Reconcile(
        store=pages,
        engine=p.engine,
        figma=p.figma,
        ledger=_ledger(p),
        relay=relay,
        leeway_seconds=p.settings.refresh_leeway_seconds,
        clock=p.clock,
        publish=p.publish,
        end_user=end_user(),
        offline_access=p.settings.offline_access,
        issuer=p.settings.issuer or None,
    )
    return reconcile.run(time_left=time_left)


@functools.cache
def connections() -> BackendConnections:
    from figma_auth.usecases.connections import BackendConnections

    p = parts()
    return BackendConnections(
        store=p.store, engine=p.engine, end_user=end_user(), leeway_seconds=p.settings.refresh_leeway_seconds
    )


@functools.cache
def discovery() -> Discovery:
    from figma_auth.usecases.discovery import Discovery

    config = settings()  # settings alone: the metadata costs no AWS call (and no KMS client)
    return Discovery(scopes=config.scopes_allowed, jwts=bool(config.jwt_key_id))


@functools.cache
def jwts() -> AppJwts:
    from figma_auth.usecases.jwts import AppJwts

    p = parts()
    return AppJwts(
        signer=p.signer,
        authenticate=authenticate(),
        audience=p.settings.jwt_audience,
        ttl_seconds=p.settings.jwt_ttl_seconds,
        clock=p.clock,
    )


def reset() -> None:
    """Forget everything built (tests that change the environment between cases)."""
    factories = (settings, parts, authenticate, start_sign_in, complete_sign_in, end_user, sessions)
    more = (redeem_ticket, device, device_verification, proxy, connections, discovery, jwts, webhooks, webhook_receiver)
    for factory in (*factories, *more):
        factory.cache_clear()
    aws.reset()


# -- the scheduled refresh ------------------------------------------------------------------------


def run_scheduled_refresh(*, remaining_ms: Any) -> dict[str, Any]:
    """One scheduled batch; outcomes go to Powertools metrics and the returned report."""
    coldstart.end()  # a batch may run for minutes: it collects as it goes
    from figma_auth.observability import metrics_count
    from figma_auth.store import Store

    pages = Store(table_name=settings().table_name, client=aws.dynamodb_paging())
    report = refresh_batch(parts(), remaining_ms=remaining_ms, pages=pages)
    for outcome in ("refreshed", "skipped", "reauth_required", "failed"):
        metrics_count(f"Grants{outcome.title().replace('_', '')}", report[outcome])
    logger.info("scheduled refresh done", extra={k: v for k, v in report.items() if k != "failures"})
    return report


def refresh_batch(
    p: Parts, *, remaining_ms: Any, pages: Store | None = None, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """One batch of the scheduled refresh with ``p``'s collaborators: the same engine as the
    request paths, over a Figma client that leaves 429s to the scheduler (``sleep``: how it
    waits out a Retry-After)."""
    from figma_auth.engine import RefreshEngine
    from figma_auth.figma import RetryPolicy
    from figma_auth.usecases.scheduled_refresh import RefreshScheduler

    # The container's Figma client (its TLS context and warm connections), with the scheduler's policy.
    figma = p.figma.with_retry(RetryPolicy(retry_rate_limited=False))
    engine = RefreshEngine(store=p.store, vault=p.vault, figma=figma, clock=p.clock, publish=p.publish)
    scheduler = RefreshScheduler(
        engine=engine,
        store=p.store,
        pages=pages or p.store,
        concurrency=p.settings.refresh_concurrency,
        ahead_seconds=p.settings.refresh_ahead_seconds,
        remaining_ms=remaining_ms,
        clock=p.clock,
        sleep=sleep,
    )
    return scheduler.run().as_dict()


# -- outside systems ------------------------------------------------------------------------------


def figma_client(config: Settings) -> FigmaClient:
    from figma_auth.figma import FigmaClient

    return FigmaClient(
        api_url=config.figma_api_url,
        client_id=config.figma_client_id,
        client_secret=_client_secret(config),
        refresh_style=config.figma_refresh_style,
    )


def _client_secret(config: Settings) -> Any:
    if config.client_secret:
        secret = config.client_secret
        return lambda: secret
    arn = config.figma_client_secret_arn

    def from_secrets_manager() -> str:
        from aws_lambda_powertools.utilities import parameters

        # Cached for 5 minutes: a rotated secret is picked up without a redeploy.
        return str(parameters.get_secret(arn, max_age=300)).strip()  # type: ignore[arg-type]

    return from_secrets_manager


def _publisher(config: Settings, *, strict: bool = False) -> Any:
    """PutEvents to the stack's bus. A notification never fails the user's request (failures
    are logged); ``strict`` (the webhook relay, whose event is the whole point) raises instead."""

    def publish(detail_type: str, detail: dict[str, Any]) -> None:
        try:
            answer = aws.events().put_events(
                Entries=[
                    {
                        "Source": "figma-auth",
                        "DetailType": detail_type,
                        "Detail": json.dumps(detail),
                        "EventBusName": config.event_bus_name,
                    }
                ]
            )
            if answer.get("FailedEntryCount"):
                raise RuntimeError("EventBridge refused the event")
        except Exception:
            if strict:
                raise
            logger.warning("could not publish event", extra={"detail_type": detail_type})

    return publish
