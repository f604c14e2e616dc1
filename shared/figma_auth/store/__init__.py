"""The one data-access adapter: every item kind in one DynamoDB table, behind one class.

``Store`` is one adapter (one table, one client; a sign-in's transaction spans session,
connection, ticket and device approval), written in parts by item kind. Each use case names
the part of it that it uses as a ``typing.Protocol``; ``Store`` satisfies all of them. Item
shapes are in ``figma_auth.items``, the records in ``figma_auth.records``, the item table in
``docs/ARCHITECTURE.md``. Secrets are never stored: states, session tokens, tickets and device
codes appear only as SHA-256 hashes, Figma's tokens only inside the connection's KMS-sealed box.
Every item but an offline connection carries ``ttl``, and expiry is always checked on read
(DynamoDB deletes expired items days late).
"""

from __future__ import annotations

from figma_auth.store.devices import DevicesTable
from figma_auth.store.grants import GrantsTable
from figma_auth.store.sessions import SessionsTable
from figma_auth.store.signin import SignInTable
from figma_auth.store.webhooks import WebhooksTable


class Store(SignInTable, SessionsTable, GrantsTable, DevicesTable, WebhooksTable):
    """DynamoDB: sign-in, sessions, grants, device sign-in and webhooks, on one table and client."""


__all__ = ["Store"]
