"""The session and connection views (the contract's JSON), and the one rule for what a view
shows: the connection's grant, refreshed first when it expires within the leeway."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from figma_auth.engine import Fresh
from figma_auth.errors import ReauthRequired
from figma_auth.models.views import (
    ConnectionView,
    ListedConnection,
    ProviderInfo,
    RateLimitInfo,
    SessionInfo,
    SessionView,
    TokenResponse,
    UserInfo,
)
from figma_auth.records import ACTIVE, Connection, RateLimit, Session
from figma_auth.times import iso, parse_iso, utcnow


class FreshGrants(Protocol):
    """The refresh engine, as request paths use it."""

    def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh: ...


def fresh_within_leeway(engine: FreshGrants, conn: Connection, leeway_seconds: int) -> Fresh | None:
    """The connection's grant, refreshed first when it expires within the leeway; None when
    the grant is dead (the view then says reauth_required)."""
    if conn.status != ACTIVE:
        return None
    try:
        return engine.fresh(conn, leeway_seconds)
    except ReauthRequired:
        return None


def session_view(
    session: Session, conn: Connection, fresh: Fresh | None, *, expose: bool, now: datetime | None = None
) -> SessionView:
    return SessionView(
        session=SessionInfo(id=session.id, created_at=iso(session.created_at), expires_at=iso(session.expires_at)),
        user=user_info(conn),
        provider=provider_info(conn, fresh, expose=expose, now=now),
    )


def connection_view(conn: Connection, fresh: Fresh | None) -> ConnectionView:
    return ConnectionView(user=user_info(conn), provider=provider_info(conn, fresh, expose=True))


def listed_view(conn: Connection, now: datetime) -> ListedConnection:
    """A connection as the backend's listing shows it: as stored, without refreshing its grant."""
    return ListedConnection(
        user=user_info(conn),
        status="active" if conn.status == ACTIVE else "reauth_required",
        scopes=list(conn.scopes),
        created_at=iso(conn.created_at) if conn.created_at else "",
        rate_limits=[RateLimitInfo.model_validate(entry_view(limit)) for limit in conn.rate_limits_at(now)],
    )


def user_info(conn: Connection) -> UserInfo:
    profile = conn.profile
    return UserInfo(id=conn.user_id, handle=profile.handle, email=profile.email, img_url=profile.img_url)


def provider_info(conn: Connection, fresh: Fresh | None, *, expose: bool, now: datetime | None = None) -> ProviderInfo:
    active = conn.status == ACTIVE and fresh is not None
    limits = conn.rate_limits_at(now or utcnow())
    exposed = {"access_token": fresh.grant.access_token} if fresh and active and expose else {}
    return ProviderInfo(
        name="figma",
        **exposed,
        expires_at=iso(conn.grant_expires_at) if active and conn.grant_expires_at else None,
        scopes=list(conn.scopes),
        revoked_scopes=list(conn.revoked_scopes),
        rate_limits=[RateLimitInfo.model_validate(entry_view(limit)) for limit in limits],
        status="active" if active else "reauth_required",
    )


def token_response(token: str, view: SessionView, now: datetime) -> TokenResponse:
    """RFC 6749 §5.1's answer for a new session (the session token is the access token), with
    the session view."""
    ends = parse_iso(view.session.expires_at)
    return TokenResponse(
        access_token=token,
        token_type="Bearer",
        expires_in=max(0, int((ends - now).total_seconds())),
        scope=" ".join(view.provider.scopes),
        session_token=token,
        **dict(view),
    )


def entry_view(limit: RateLimit) -> dict[str, object]:
    """``{tier, scope, until, type, plan_tier, upgrade_link}``: views and the ``FigmaRateLimited`` event (kept
    here: a session view shows its entries without loading the ledger or Figma's tier table)."""
    return {
        "tier": limit.tier,
        "scope": limit.scope,
        "until": iso(limit.until),
        "type": limit.type,
        "plan_tier": limit.plan_tier,
        "upgrade_link": limit.upgrade_link,
    }
