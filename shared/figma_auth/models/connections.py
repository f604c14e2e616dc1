"""The backend's listing of connections (``GET /connections``, AWS IAM). A family of
``figma_auth.models`` (its docstring says why each is a module of its own)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from figma_auth.models import Output
from figma_auth.models.views import ListedConnection

LISTING_PAGE, LISTING_MAX_PAGE = 50, 100


class ConnectionListQuery(BaseModel):
    """``GET /connections`` query (backend, AWS IAM)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    limit: Annotated[int, Field(ge=1, le=LISTING_MAX_PAGE, description="Connections per page (1-100).")] = LISTING_PAGE
    cursor: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=512,
            description="The `next` of the page before (opaque; refused when edited or made for another status).",
        ),
    ] = None
    status: Annotated[
        Literal["active", "reauth_required"] | None,
        Field(
            description="Only connections in this status, e.g. `reauth_required`: the users to ask to sign in again."
        ),
    ] = None


class ConnectionList(Output):
    """``GET /connections`` (backend, AWS IAM): newest first; ``next`` is null on the last page."""

    connections: list[ListedConnection]
    next: Annotated[
        str | None, Field(description="The cursor of the next page (pass it as `cursor`), or null: there is no more.")
    ]
