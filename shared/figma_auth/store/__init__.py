"""The one data-access adapter: every item kind in one DynamoDB table, behind one class.

``Store`` is one adapter (one table, one client; a sign-in's transaction spans session,
connection, ticket and device approval), written in parts by item kind. Each use case names
the part of it that it uses as a ``typing.Protocol``; ``Store`` satisfies all of them. Each
module owns its item kinds' keys, shapes and expressions (``signin``: login transactions and
tickets; ``sessions``; ``connections``: the connection, its grant and rate-limit ledger, and the
scheduler's pause; ``devices``; ``webhooks``; ``file_cache``: the read-once cache's index; ``realtime``: tickets, sockets, watches and live hooks; ``agents``: MCP clients' codes and
refresh tokens); ``codec`` is DynamoDB's attribute-value format,
``table`` the table's indexes and single-item writes. The records are in ``figma_auth.records``,
the item table in ``docs/ARCHITECTURE.md``. A module imports its kind's records
(``figma_auth.records.<kind>``) inside the functions that build them, not at its top: every
function's first request imports the whole store, and a kind it never reads then costs it no
dataclass creation (``figma_auth.records`` says why that is worth it).

Secrets are never stored: states, session tokens, tickets and device codes appear only as
SHA-256 hashes, Figma's tokens only inside the connection's KMS-sealed box. Every item but an
offline connection carries ``ttl``, and expiry is always checked on read
(DynamoDB deletes expired items days late).
"""

from __future__ import annotations

from figma_auth.store.agents import AgentsTable
from figma_auth.store.connections import ConnectionsTable
from figma_auth.store.devices import DevicesTable
from figma_auth.store.file_cache import FileCacheTable
from figma_auth.store.realtime import RealtimeTable
from figma_auth.store.sessions import SessionsTable
from figma_auth.store.signin import SignInTable
from figma_auth.store.webhooks import WebhooksTable


class Store(
    SignInTable,
    SessionsTable,
    ConnectionsTable,
    DevicesTable,
    WebhooksTable,
    FileCacheTable,
    RealtimeTable,
    AgentsTable,
):
    """DynamoDB: sign-in, sessions, connections, device sign-in, webhooks, the read-once cache's
    index and the realtime API's sockets and watches, on one table and client."""


__all__ = ["Store"]
