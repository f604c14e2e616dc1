"""Agents (MCP clients): what a person allowed one, its authorization codes and refresh tokens.
A kind of ``figma_auth.records`` (its docstring says why each kind is a module of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AgentGrant:
    """What a person allowed an agent (an MCP client) on the consent page: who, which client
    (its Client ID Metadata Document's URL and name), for which resource and scopes. The grant's
    refresh tokens form one family, ended as a whole (``family_id``, a session of client agent)."""

    user_id: str
    client_id: str
    client_name: str
    resource: str
    scopes: tuple[str, ...]
    family_id: str


@dataclass(frozen=True)
class AgentCode:
    """An authorization code (RFC 6749 §4.1.2), stored by its hash: single use, ≤ 60 s, bound to
    the grant, the redirect URI and the PKCE challenge."""

    code_hash: str
    grant: AgentGrant
    redirect_uri: str
    code_challenge: str
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class AgentRefresh:
    """A refresh token of an agent grant, stored by its hash; rotated on each use (a used one
    presented again ends its family)."""

    token_hash: str
    grant: AgentGrant
    expires_at: datetime
    used: bool = False
