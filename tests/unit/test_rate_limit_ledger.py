"""The rate-limit ledger and the views, without a stack: what a remembered 429 covers, the
refusal it answers with, what it records from Figma's answer and when it announces it, and
the session/connection views built from a connection (written against `make mutate`'s
"no tests" for these modules; the integration suites cover them through the stack)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.engine import Fresh
from figma_auth.errors import RateLimited, ReauthRequired
from figma_auth.figma import ProxyResponse
from figma_auth.figma_tiers import Classified
from figma_auth.oauth import FigmaGrant
from figma_auth.records import ACTIVE, Connection, Profile, RateLimit, Session
from figma_auth.usecases import rate_limits, views
from tests.support.fakes import Recorded

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ADA = Profile("Ada Lovelace", "ada@example.com", "https://img.example/ada.png")


def connection(*limits: RateLimit, status: str = ACTIVE, **fields: Any) -> Connection:
    return Connection(
        user_id="u1",
        profile=ADA,
        scopes=("current_user:read", "file_content:read"),
        status=status,
        grant_expires_at=NOW + timedelta(hours=1),
        rate_limits=limits,
        **fields,
    )


def ledger() -> tuple[rate_limits.RateLimitLedger, Recorded, list[tuple[str, dict[str, Any]]]]:
    store, events = Recorded(), []
    return (
        rate_limits.RateLimitLedger(store=store, publish=lambda t, d: events.append((t, d)), clock=lambda: NOW),
        store,
        events,
    )


def test_a_call_without_limits_is_classified_by_tier_and_scope() -> None:
    led, _, _ = ledger()
    assert led.check(connection(), "GET", "/v1/files/KEY/nodes") == Classified(1, "file:KEY")
    assert led.check(connection(), "GET", "/v1/me") == Classified(3, "user")


@pytest.mark.parametrize(
    ("limit", "path", "refused"),
    [
        (RateLimit(1, "user", NOW + timedelta(days=3)), "/v1/files/ANY", True),  # a user entry: its whole tier
        (RateLimit(1, "file:KEY", NOW + timedelta(days=3)), "/v1/files/KEY", True),
        (RateLimit(1, "file:KEY", NOW + timedelta(days=3)), "/v1/files/OTHER", False),  # another file goes on
        (RateLimit(2, "user", NOW + timedelta(days=3)), "/v1/files/KEY", False),  # another tier goes on
        (RateLimit(1, "user", NOW), "/v1/files/KEY", False),  # expired at this instant
    ],
)
def test_a_remembered_limit_refuses_exactly_the_calls_it_covers(limit: RateLimit, path: str, refused: bool) -> None:
    led, _, _ = ledger()
    if not refused:
        assert led.check(connection(limit), "GET", path).tier == 1
        return
    with pytest.raises(RateLimited) as answer:
        led.check(connection(limit), "GET", path)
    assert (answer.value.tier, answer.value.scope, answer.value.retry_after) == (1, limit.scope, 3 * 86400)


def test_the_refusal_rounds_up_and_carries_figmas_headers() -> None:
    limit = RateLimit(
        1, "user", NOW + timedelta(seconds=1.2), type="low", plan_tier="starter", upgrade_link="https://u"
    )
    refusal = rate_limits.refusal(limit, NOW)
    assert (refusal.retry_after, refusal.limit_type, refusal.plan_tier, refusal.upgrade_link) == (
        2,
        "low",
        "starter",
        "https://u",
    )
    assert rate_limits.refusal(RateLimit(1, "user", NOW - timedelta(seconds=5)), NOW).retry_after == 1


def figma_429(**headers: str) -> ProxyResponse:
    return ProxyResponse(status=429, body=b"{}", content_type="application/json", headers=headers)


def test_figmas_429_is_recorded_once_and_announced_once() -> None:
    led, store, events = ledger()
    answer = figma_429(
        **{
            "Retry-After": "396749",
            "X-Figma-Rate-Limit-Type": "low",
            "X-Figma-Plan-Tier": "starter",
            "x-figma-upgrade-link": "https://www.figma.com/upgrade",
        }
    )
    call = Classified(1, "file:KEY")

    limit = led.remember(connection(), call, answer)
    again = led.remember(connection(), Classified(1, "file:OTHER"), answer)  # the seat's limit, on another file

    assert limit == RateLimit(
        1, "user", NOW + timedelta(seconds=396749), "low", "starter", "https://www.figma.com/upgrade"
    )
    assert again == limit and list(store.entries) == ["1#user"]
    assert events == [("FigmaRateLimited", {"user_id": "u1", **views.entry_view(limit)})]
    assert views.entry_view(limit) == {
        "tier": 1,
        "scope": "user",
        "until": "2026-12-06T02:12:29Z",
        "type": "low",
        "plan_tier": "starter",
        "upgrade_link": "https://www.figma.com/upgrade",
    }


@pytest.mark.parametrize(
    ("limit_type", "call", "scope"),
    [
        ("low", Classified(1, "file:KEY"), "user"),  # the seat or plan: every file the user reads
        ("low", Classified(3, "user"), "user"),
        ("high", Classified(1, "file:KEY"), "file:KEY"),  # a burst: what the call spent
        ("high", Classified(3, "user"), "user"),
        (None, Classified(1, "file:KEY"), "file:KEY"),  # no type: as a burst
        ("LOW", Classified(1, "file:KEY"), "file:KEY"),  # Figma's values are lower case; anything else is no "low"
    ],
)
def test_a_low_429_covers_the_user_and_a_burst_what_the_call_spent(
    limit_type: str | None, call: Classified, scope: str
) -> None:
    led, store, events = ledger()
    headers = {"Retry-After": "60", **({"X-Figma-Rate-Limit-Type": limit_type} if limit_type else {})}
    limit = led.remember(connection(), call, figma_429(**headers))
    assert limit is not None and (limit.tier, limit.scope) == (call.tier, scope)
    assert list(store.entries) == [f"{call.tier}#{scope}"] and len(events) == 1


def test_a_low_user_entry_refuses_every_file_of_its_tier_and_says_seat_or_plan() -> None:
    led, _, _ = ledger()
    limit = RateLimit(1, "user", NOW + timedelta(days=3), type="low", upgrade_link="https://u")
    for key in ("A", "B", "C"):
        with pytest.raises(RateLimited) as answer:
            led.check(connection(limit), "GET", f"/v1/files/{key}")
        assert answer.value.scope == "user"
    assert "Tier 1 rate limit for this user's seat or plan is reached" in answer.value.message
    assert led.check(connection(limit), "GET", "/v1/files/A/meta").tier == 2  # another tier goes on
    burst = rate_limits.refusal(RateLimit(3, "user", NOW + timedelta(seconds=30), type="high"), NOW)
    assert "for this user is reached;" in burst.message and "seat" not in burst.message
    by_file = rate_limits.refusal(RateLimit(1, "file:K", NOW + timedelta(days=1), type="low"), NOW)
    assert "for this file's plan is reached (the seat or plan is the limit" in by_file.message


def test_any_other_answer_records_nothing() -> None:
    led, store, events = ledger()
    for status in (200, 403, 500):
        ok = ProxyResponse(status=status, body=b"{}", content_type="application/json", headers={"Retry-After": "5"})
        assert led.remember(connection(), Classified(1, "user"), ok) is None
    assert store.entries == {} and events == []


def test_unreadable_headers_are_left_out() -> None:
    led, _, _ = ledger()
    limit = led.remember(
        connection(),
        Classified(2, "user"),
        figma_429(**{"X-Figma-Plan-Tier": "x" * 513, "X-Figma-Rate-Limit-Type": "lo\nw"}),
    )
    assert limit is not None and (limit.plan_tier, limit.type, limit.upgrade_link) == (None, None, None)
    assert limit.until == NOW + timedelta(seconds=rate_limits.DEFAULT_RETRY_AFTER)
    ok = led.remember(connection(), Classified(3, "user"), figma_429(**{"X-Figma-Plan-Tier": "p" * 512}))
    assert ok is not None and ok.plan_tier == "p" * 512


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120),
        (" 5 ", 5),
        ("0", 1),
        ("-3", 1),
        ("1", 1),
        (None, 60),
        ("soon", 60),
        ("1.5", 60),
        (str(10**9), 366 * 86400),
    ],
)
def test_retry_after_is_read_in_seconds_and_bounded(value: str | None, seconds: int) -> None:
    assert rate_limits.retry_after(value) == seconds


def test_a_recorded_limit_is_written_for_its_connection_at_the_clocks_time() -> None:
    from figma_auth.figma import ProxyResponse
    from figma_auth.figma_tiers import Classified
    from figma_auth.usecases.rate_limits import RateLimitLedger

    written: list[tuple[Connection, RateLimit, datetime]] = []

    class Store:
        def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
            written.append((conn, limit, now))
            return True

    ledger = RateLimitLedger(store=Store(), publish=lambda t, d: None, clock=lambda: NOW)
    conn = connection()
    ledger.remember(conn, Classified(1, "user"), ProxyResponse(429, b"{}", "application/json", {"Retry-After": "9"}))
    ((got_conn, limit, now),) = written
    assert got_conn is conn and now == NOW and limit.until == NOW + timedelta(seconds=9)


# -- views ---------------------------------------------------------------------------------------

GRANT = FigmaGrant("access-1", "refresh-1", NOW + timedelta(hours=1), ("current_user:read",))


class Engine:
    def __init__(self, answer: Fresh | Exception) -> None:
        self.answer = answer
        self.asked: list[int | None] = []

    def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh:
        self.asked.append(min_validity)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_a_view_refreshes_within_the_leeway_and_a_dead_grant_shows_as_none() -> None:
    conn = connection()
    fresh = Fresh(conn, GRANT)
    engine = Engine(fresh)
    assert views.fresh_within_leeway(engine, conn, 300) is fresh and engine.asked == [300]
    assert views.fresh_within_leeway(Engine(ReauthRequired()), conn, 300) is None
    untouched = Engine(fresh)
    assert views.fresh_within_leeway(untouched, connection(status="reauth_required"), 300) is None
    assert untouched.asked == []  # a dead connection is not refreshed


def test_the_provider_view_shows_the_token_only_when_active_and_exposed() -> None:
    in_force = RateLimit(1, "user", NOW + timedelta(days=1), "low")
    conn = connection(
        in_force, RateLimit(2, "user", NOW - timedelta(seconds=1)), revoked_scopes=("file_comments:read",)
    )
    shown = views.provider_info(conn, Fresh(conn, GRANT), expose=True, now=NOW)
    assert (shown.access_token, shown.expires_at, shown.status) == ("access-1", "2026-12-01T13:00:00Z", "active")
    assert (shown.scopes, shown.revoked_scopes) == (["current_user:read", "file_content:read"], ["file_comments:read"])
    assert [(r.tier, r.type) for r in shown.rate_limits] == [(1, "low")]  # the expired entry is not shown
    hidden = views.provider_info(conn, Fresh(conn, GRANT), expose=False, now=NOW)
    assert hidden.access_token is None and hidden.status == "active"
    dead = views.provider_info(conn, None, expose=True, now=NOW)
    assert (dead.access_token, dead.expires_at, dead.status) == (None, None, "reauth_required")
    inactive = connection(status="reauth_required")
    assert views.provider_info(inactive, Fresh(inactive, GRANT), expose=True, now=NOW).status == "reauth_required"


def test_session_and_connection_views_and_the_token_response() -> None:
    conn = connection()
    session = Session("sid", "u1", NOW, NOW + timedelta(days=30))
    view = views.session_view(session, conn, Fresh(conn, GRANT), expose=True, now=NOW)
    assert (view.session.id, view.session.created_at, view.session.expires_at) == (
        "sid",
        "2026-12-01T12:00:00Z",
        "2026-12-31T12:00:00Z",
    )
    assert (view.user.id, view.user.handle, view.user.email, view.user.img_url) == ("u1", *vars(ADA).values())
    assert views.connection_view(conn, Fresh(conn, GRANT)).provider.access_token == "access-1"  # backends always see it

    answer = views.token_response("tok", view, NOW + timedelta(days=1))
    assert (answer.access_token, answer.session_token, answer.token_type) == ("tok", "tok", "Bearer")
    assert answer.expires_in == 29 * 86400 and answer.scope == "current_user:read file_content:read"
    assert answer.user == view.user
    assert views.token_response("tok", view, NOW + timedelta(days=31)).expires_in == 0  # never negative


def test_figmas_429s_and_our_refusals_are_counted_per_tier_and_low_entries_once(emitted: list[str]) -> None:
    led, _, _ = ledger()
    low = figma_429(**{"Retry-After": "60", "X-Figma-Rate-Limit-Type": "low"})
    led.remember(connection(), Classified(1, "file:KEY"), low)
    led.remember(connection(), Classified(1, "file:KEY"), low)  # the same entry again: no second "low"
    led.remember(
        connection(), Classified(3, "user"), figma_429(**{"Retry-After": "60", "X-Figma-Rate-Limit-Type": "high"})
    )
    with pytest.raises(RateLimited):
        led.check(connection(RateLimit(2, "user", NOW + timedelta(minutes=1))), "GET", "/v1/files/KEY/comments")
    assert emitted == [
        "FigmaRateLimitedTier1",
        "FigmaRateLimitedLow",
        "FigmaRateLimitedTier1",
        "FigmaRateLimitedTier3",
        "RateLimitAnsweredTier2",
    ]


# -- the clear -------------------------------------------------------------------------------------


def test_the_clear_forgets_the_callers_own_ledger_or_a_backends_user_and_nothing_else() -> None:
    from figma_auth.credentials import Credentials
    from figma_auth.errors import NotFound, Unauthorized
    from figma_auth.records import Current

    store = Recorded({"1#user": RateLimit(1, "user", NOW + timedelta(days=3))})
    asked: list[Credentials] = []

    def authenticate(creds: Credentials) -> Current:
        asked.append(creds)
        if creds.token != "ada's":
            raise Unauthorized()
        return Current(Session("sid", "u1", NOW, NOW + timedelta(days=1)), connection())

    clear = rate_limits.ClearRateLimits(store=store, authenticate=authenticate)
    with pytest.raises(Unauthorized):
        clear.mine(Credentials("nobody's", "cookie"))
    assert store.cleared == [] and len(store.entries) == 1

    clear.mine(Credentials("ada's", "bearer"))
    clear.theirs("1143925780461227139")
    with pytest.raises(NotFound):
        clear.theirs("x" * 200)  # no Figma user id: nobody's ledger

    assert store.cleared == ["u1", "1143925780461227139"] and store.entries == {}
