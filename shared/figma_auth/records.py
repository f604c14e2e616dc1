"""The domain's nouns: what a sign-in, a session and a connection are, independent of how
DynamoDB stores them (``items``) or who reads them (the use cases)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from figma_auth.vault import SealedBox

ACTIVE = "active"
REAUTH_REQUIRED = "reauth_required"
CLIENTS = ("web", "token", "device", "agent")
Client = Literal["web", "token", "device", "agent"]


@dataclass(frozen=True)
class LoginTransaction:
    """One sign-in attempt between authorize and callback (10 minutes at most)."""

    state_hash: str
    binding: str  # hash bound to the browser's transaction cookie
    success_url: str  # the URLs travel in the browser's transaction cookie, not in the item
    failure_url: str
    redirect_uri: str  # exactly what authorize sent to Figma
    scopes: tuple[str, ...]
    mode: str
    pkce: bool  # whether a code_challenge was sent to Figma
    app_challenge: str | None  # token mode: S256 of the SPA's own verifier
    expires_at: datetime
    device_hash: str | None = None  # device mode: the device sign-in this login approves
    urls_hash: str = ""  # the hash of the return URLs the browser's cookie carries
    widened: bool = False  # the one return to Figma for the union of the connection's scopes


@dataclass(frozen=True)
class Profile:
    handle: str
    email: str
    img_url: str


@dataclass(frozen=True)
class Session:
    """An app session: who, until when, from which kind of client. Its grant is the user's
    connection's."""

    id: str  # public id: SHA-256 of the session token
    user_id: str
    created_at: datetime
    expires_at: datetime
    client: Client = "web"
    activated: bool = True
    client_name: str | None = None  # an agent's: the name its Client ID Metadata Document gives


@dataclass(frozen=True)
class RateLimit:
    """A Figma 429 remembered in the user's ledger: calls of ``tier`` within ``scope`` ("user", or
    "file:<key>" for one file's plan) are refused by Figma until ``until``."""

    tier: int
    scope: str
    until: datetime
    type: str | None = None  # X-Figma-Rate-Limit-Type: low (the seat/plan) | high (a burst)
    plan_tier: str | None = None  # X-Figma-Plan-Tier
    upgrade_link: str | None = None  # X-Figma-Upgrade-Link

    @property
    def key(self) -> str:
        return f"{self.tier}#{self.scope}"

    def covers(self, tier: int, scope: str) -> bool:
        """A user entry covers every call of its tier; a file entry the calls naming that file."""
        return self.tier == tier and self.scope in ("user", scope)


@dataclass(frozen=True)
class Connection:
    """A Figma user's connection to this app: the one grant Figma keeps for them."""

    user_id: str
    profile: Profile
    scopes: tuple[str, ...]
    status: str = ACTIVE
    grant_box: SealedBox | None = field(default=None, repr=False)
    grant_expires_at: datetime | None = None
    grant_obtained_at: datetime | None = None  # set by refreshes (a sign-in's grant doesn't count)
    version: int = 1  # +1 on every new grant (sign-in or refresh)
    signed_in_ms: int = 0  # when the current grant's code exchange finished: newer sign-ins win
    lease_until_ms: int = 0
    revoked_scopes: tuple[str, ...] = ()  # dropped by Figma at a refresh since the last sign-in
    rate_limits: tuple[RateLimit, ...] = ()  # the user's ledger, read with it (some entries may have expired)
    created_at: datetime | None = None  # its first sign-in (since the last disconnect): the listing's order

    def rate_limits_at(self, now: datetime) -> tuple[RateLimit, ...]:
        """The entries still in force."""
        return tuple(limit for limit in self.rate_limits if limit.until > now)


@dataclass(frozen=True)
class ListedAt:
    """A place in the listing of connections (newest first): a connection's ``created_at`` as
    stored, and its user id (with it, the place is one connection even among those made in the
    same second)."""

    created_at: str
    user_id: str


@dataclass(frozen=True)
class ConnectionsPage:
    """One page of the listing, and where the next starts (None: there is no more)."""

    connections: tuple[Connection, ...]
    after: ListedAt | None


@dataclass(frozen=True)
class Webhook:
    """A Figma webhook a user's connection created (Figma's id), as our views show it."""

    id: str
    user_id: str
    event_type: str
    context: str  # team | project | file
    context_id: str
    created_at: datetime
    description: str | None = None
    status: str = "active"  # as created at Figma; a dead grant shows it paused
    endpoint: str | None = None  # the receiver URL we registered at Figma (None: made before it was kept)
    passcode_set_at: datetime | None = None  # when the reconciliation last gave it a new passcode


@dataclass(frozen=True)
class WebhookRegistration:
    """What the receiver checks a delivery against: whose webhook it is, its passcode's hash, and
    what it was made for (a delivery of another event type or file is not this webhook's)."""

    user_id: str
    passcode_hash: str
    event_type: str
    context: str  # team | project | file
    context_id: str


@dataclass(frozen=True)
class Ticket:
    """Token mode: a one-time ticket that trades for the session token it seals."""

    ticket_hash: str
    session_id: str
    app_challenge: str
    sealed_token: bytes = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class DeviceCode:
    """A device sign-in (RFC 8628): started by a plugin or CLI, confirmed by a person."""

    device_hash: str
    user_code_hash: str
    scopes: tuple[str, ...]
    expires_at: datetime
    interval_ms: int
    status: str = "pending"  # pending → approved (Figma said yes) → delivered (polled); or denied
    user_id: str | None = None
    client_id: str | None = None  # the app's name as the RFC 8628 client sent it (shown, never trusted)
    network: str | None = None  # a hash of the network (IPv4 /24, IPv6 /64) the sign-in started from
    started_at: datetime | None = None


@dataclass(frozen=True)
class DeviceApproval:
    """A callback approving a device sign-in: the session is created by the device's poll."""

    device_hash: str
    user_id: str
    now: datetime
    lives_until: datetime  # the connection must live at least until the device's session could


@dataclass(frozen=True)
class SignInWrite:
    """What one sign-in writes beside the connection's grant, in the same transaction: the new
    session (in token mode with its ticket), or the approval of a device sign-in."""

    session: Session | None
    ticket: Ticket | None = None
    device: DeviceApproval | None = None
    offline: bool = False  # OFFLINE_ACCESS: the connection outlives its sessions


@dataclass(frozen=True)
class Current:
    """An authenticated request: its session and the user's connection."""

    session: Session
    connection: Connection


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


@dataclass(frozen=True)
class RealtimeTicket:
    """A one-time ticket that opens one WebSocket for the session that asked for it (stored only
    as its SHA-256)."""

    ticket_hash: str
    session_id: str
    user_id: str
    expires_at: datetime


@dataclass(frozen=True)
class LiveSocket:
    """An open WebSocket of the realtime API: whose (session, user), and the files it watches."""

    id: str  # API Gateway's connectionId
    user_id: str
    session_id: str
    connected_at: datetime
    files: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Watcher:
    """A socket watching a file (one item per socket and file: the push's one query by file key)."""

    socket_id: str
    user_id: str


@dataclass(frozen=True)
class LiveHook:
    """The app's one Figma webhook for a file and event type, held by one watching socket's user."""

    file_key: str
    event_type: str
    webhook_id: str
    holder_user: str
    holder_socket: str
    owned: bool  # made for the live watch (False: the holder's own webhook, left at Figma when they go)


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
