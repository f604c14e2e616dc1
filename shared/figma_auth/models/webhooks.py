"""A user's Figma webhooks: the create request and the views. A family of ``figma_auth.models``
(its docstring says why each is a module of its own)."""

from typing import Annotated, Literal

from pydantic import Field

from figma_auth.models import Input, Output


class WebhookCreate(Input):
    """``POST /auth/webhooks`` and ``POST /connections/{user_id}/webhooks``."""

    event_type: Literal[
        "FILE_UPDATE", "FILE_VERSION_UPDATE", "FILE_DELETE", "LIBRARY_PUBLISH", "FILE_COMMENT", "DEV_MODE_STATUS_UPDATE"
    ]
    context: Literal["team", "project", "file"]
    context_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_\-:]+$")]
    description: Annotated[str | None, Field(max_length=150)] = None


class WebhookView(Output):
    """A webhook of the user's connection (Figma's id)."""

    id: str
    event_type: str
    context: Literal["team", "project", "file"]
    context_id: str
    status: Annotated[Literal["active", "paused"], Field(description="paused: the user's Figma grant is dead.")]
    created_at: str
    description: str | None = None


class WebhookList(Output):
    webhooks: list[WebhookView]
