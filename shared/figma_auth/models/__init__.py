"""The HTTP contract as pydantic models: what each route reads and what it answers.

The handlers parse input with these models and the service answers with them; the OpenAPI
document (``openapi.py``) is generated from the same classes, so the two cannot drift.
Semantic checks that need settings (allowed origins, known scopes) stay in ``oauth.py``.

The models are in modules by route family, and a function imports the families its routes
use: ``sign_in`` (authorize, callback, the device sign-in's start), ``tokens`` (``POST
/auth/token``'s grants), ``views`` (the session and connection views), ``sessions`` (refresh,
logout, the session list, realtime tickets), ``jwts`` (JWTs, their keys, the discovery
document), ``connections`` (the backend's listing) and ``webhooks``. Why: a model's class is
built when its module is imported (its fields, types and validators collected, even with
``defer_build``), ≈ 10 ms of a cold start for all of them, and most functions' routes use one
or two families (the session function, with eleven routes, four): ``tests/unit/test_boot.py``
checks which families some functions' inits build. This module holds what they share: the
bases, common field types and ``dump``.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

URL_SAFE = r"^[A-Za-z0-9_-]+$"


Timestamp = Annotated[str, Field(description="UTC, ISO 8601 with a Z suffix.", examples=["2026-11-28T14:00:00Z"])]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class OAuthInput(BaseModel):
    """RFC 6749 §3.1, §3.2: parameters an OAuth endpoint does not know are ignored (what it
    knows is validated strictly)."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class Output(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


ClientId = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\x20-\x7e]+$",
        description="Your app's name as RFC 8628 clients send it (shown to the person on the verify page).",
        examples=["figma-cli"],
    ),
]


def dump(model: BaseModel) -> dict[str, Any]:
    """The JSON body of a response model (optional fields that were never set are left out)."""
    return model.model_dump(mode="json", exclude_unset=True)
