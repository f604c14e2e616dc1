"""Factories for the collaborators a Lambda container shares between invocations.

Built lazily on first use and cached per container; ``reset()`` forgets them (tests).
Handlers call ``check()`` at import so bad settings fail the cold start with one line.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from figma_auth import aws
from figma_auth.observability import logger
from figma_auth.settings import Settings

if TYPE_CHECKING:  # the use cases load on the first request, not at a handler's import
    from figma_auth.figma import FigmaClient, RetryPolicy
    from figma_auth.service import AuthService
    from figma_auth.store import Store


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


def check() -> Settings:
    """Validate configuration now (cold start)."""
    return settings()


@functools.cache
def service() -> AuthService:
    from figma_auth.service import AuthService
    from figma_auth.signing import JwtSigner
    from figma_auth.store import Store
    from figma_auth.vault import Vault

    config = settings()
    signer = (
        JwtSigner(kms=aws.kms(), key_id=config.jwt_key_id, also_serve=config.jwt_verify_key_ids)
        if config.jwt_key_id
        else None
    )
    return AuthService(
        settings=config,
        store=Store(table_name=config.table_name, client=aws.dynamodb()),
        vault=Vault(kms=aws.kms(), key_id=config.kms_key_id),
        figma=figma_client(config),
        publish=_publisher(config),
        signer=signer,
    )


def figma_client(config: Settings, retry: RetryPolicy | None = None, http: Any = None) -> FigmaClient:
    from figma_auth.figma import FigmaClient

    return FigmaClient(
        api_url=config.figma_api_url,
        client_id=config.figma_client_id,
        client_secret=_client_secret(config),
        refresh_style=config.figma_refresh_style,
        retry=retry,
        http=http,
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


def _publisher(config: Settings) -> Any:
    def publish(detail_type: str, detail: dict[str, Any]) -> None:
        try:
            aws.events().put_events(
                Entries=[
                    {
                        "Source": "figma-auth",
                        "DetailType": detail_type,
                        "Detail": json.dumps(detail),
                        "EventBusName": config.event_bus_name,
                    }
                ]
            )
        except Exception:  # an app notification must never fail the user's request
            logger.warning("could not publish event", extra={"detail_type": detail_type})

    return publish


def reset() -> None:
    settings.cache_clear()
    service.cache_clear()
    aws.reset()


def run_scheduled_refresh(*, remaining_ms: Any) -> dict[str, Any]:
    """One scheduled batch; outcomes go to Powertools metrics and the returned report."""
    from figma_auth.observability import metrics_count
    from figma_auth.store import Store

    config = settings()
    pages = Store(table_name=config.table_name, client=aws.dynamodb_paging())
    report = refresh_batch(service(), remaining_ms=remaining_ms, pages=pages)
    for outcome in ("refreshed", "skipped", "reauth_required", "failed"):
        metrics_count(f"Grants{outcome.title().replace('_', '')}", report[outcome])
    logger.info("scheduled refresh done", extra={k: v for k, v in report.items() if k != "failures"})
    return report


def refresh_batch(auth: AuthService, *, remaining_ms: Any, pages: Store | None = None) -> dict[str, Any]:
    """One batch of the scheduled refresh with ``auth``'s settings and collaborators: the same
    engine as the request paths, over a Figma client that leaves 429s to the scheduler."""
    from figma_auth.engine import RefreshEngine
    from figma_auth.figma import RetryPolicy
    from figma_auth.scheduler import RefreshScheduler

    config = auth.settings
    # The container's HTTP client (its TLS context and warm connections), with the scheduler's policy.
    figma = figma_client(config, RetryPolicy(retry_rate_limited=False), http=auth.figma.http)
    engine = RefreshEngine(store=auth.store, vault=auth.vault, figma=figma, clock=auth.clock, publish=auth.publish)
    scheduler = RefreshScheduler(
        engine=engine,
        store=auth.store,
        pages=pages,
        concurrency=config.refresh_concurrency,
        ahead_seconds=config.refresh_ahead_seconds,
        remaining_ms=remaining_ms,
        clock=auth.clock,
    )
    return scheduler.run().as_dict()
