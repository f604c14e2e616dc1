"""The Figma app's client secret, where the deployment keeps it, and the Figma client made with it.

Locally ``FIGMA_CLIENT_SECRET`` holds it; in AWS ``FIGMA_CLIENT_SECRET_ARN`` names the Secrets
Manager secret, read on first use and cached for five minutes (Powertools' parameters), so a
rotated secret is picked up without a redeploy and a function that never calls Figma's OAuth
endpoints never reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from figma_auth.settings import Settings

if TYPE_CHECKING:
    from figma_auth.figma import FigmaClient

CACHE_SECONDS = 300


def client_secret(config: Settings) -> Callable[[], str]:
    """A reader of the client secret (called at each OAuth call; cached where it is fetched)."""
    if config.client_secret:
        secret = config.client_secret
        return lambda: secret
    arn = config.figma_client_secret_arn

    def from_secrets_manager() -> str:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(arn, max_age=CACHE_SECONDS)).strip()  # type: ignore[arg-type]

    return from_secrets_manager


def figma_client(config: Settings) -> FigmaClient:
    from figma_auth.figma import FigmaClient

    return FigmaClient(
        api_url=config.figma_api_url,
        client_id=config.figma_client_id,
        client_secret=client_secret(config),
        refresh_style=config.figma_refresh_style,
    )
