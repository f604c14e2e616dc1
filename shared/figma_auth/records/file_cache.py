"""The read-once cache's index: one Tier-1 read of a file version.
A kind of ``figma_auth.records`` (its docstring says why each kind is a module of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CachedRead:
    """One Tier-1 read of a file version, as the read-once cache holds it (its body in S3)."""

    file_key: str
    request: str  # the SHA-256 of the canonical request (path and sorted query)
    version: str  # the file's version, as /meta named it when the read was made
    stored_at: datetime
    content_type: str
    encoding: str | None  # "gzip": stored compressed, as Figma sent it
    size: int  # the stored bytes
    object_key: str
