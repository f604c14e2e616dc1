"""Opaque, tamper-evident page cursors (the ``next`` of ``GET /connections``).

A cursor is ``<payload>.<tag>``: the payload is the base64url of a small JSON object of strings
(where the page ended, and the filter it was made for), the tag the first 16 bytes of its
HMAC-SHA256 under a key only the stack's functions hold: derived from the Figma app's client
secret and the table's name, so a cursor edited by hand, or made by another stack, opens as None.
Not encrypted: the payload names a time and a user id, nothing the pages do not show anyway. No
I/O; the key comes from the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json

from figma_auth.tokens import b64url, constant_time_equal

TAG_BYTES = 16  # 128 bits: forging one is out of reach, and the cursor stays short
MAX_CURSOR = 512  # longer than any cursor we make: anything longer is refused unread


def cursor_key(secret: str, table: str) -> bytes:
    """The listing cursors' key: the client secret's, for this purpose and this stack's table."""
    purpose = f"figma-auth:connections-cursor:v1:{table}"
    return hmac.new(secret.encode("utf-8"), purpose.encode("utf-8"), hashlib.sha256).digest()


def _tag(payload: str, key: bytes) -> str:
    return b64url(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:TAG_BYTES])


def seal(fields: dict[str, str], key: bytes) -> str:
    """``fields`` as a cursor only ``key`` opens."""
    payload = b64url(json.dumps(fields, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{payload}.{_tag(payload, key)}"


def opened(cursor: str, key: bytes) -> dict[str, str] | None:
    """The fields ``seal`` put in ``cursor`` under ``key``; None for anything else (edited,
    truncated, another stack's, not a cursor at all)."""
    payload, dot, tag = cursor.partition(".")
    if len(cursor) > MAX_CURSOR or not dot or not cursor.isascii():
        return None
    if not constant_time_equal(tag, _tag(payload, key)):
        return None
    try:
        fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        return None
    return fields
