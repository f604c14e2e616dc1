"""The proxy and the session reads, without a stack: which paths reach Figma, when the token is
refreshed (first within the leeway; once more, at most every 30 s, when Figma calls it
invalid), what a remembered limit and Figma's outages answer; who a token is, what the session
view, a refresh and the list show (integration/test_proxy.py and test_lifecycle.py run them
end to end; test_sessions.py has logout's rules)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.credentials import Credentials
from figma_auth.engine import Fresh
from figma_auth.errors import (
    FigmaUnavailable,
    InvalidPath,
    InvalidRequest,
    NotFound,
    RateLimited,
    ReauthRequired,
    Unauthorized,
)
from figma_auth.figma import Overflow, ProxyResponse
from figma_auth.models.sessions import LogoutRequest
from figma_auth.records import ACTIVE, REAUTH_REQUIRED, Connection, Current, Profile, RateLimit, Session
from figma_auth.tokens import hash_secret, new_session_token
from figma_auth.usecases.proxy import (
    FORCED_REFRESH_SPACING,
    FigmaProxy,
    ProxyCall,
    figma_target,
    proxy_path,
    proxy_query,
)
from figma_auth.usecases.rate_limits import RateLimitLedger
from figma_auth.usecases.sessions import Authenticate, EndUser, Sessions
from tests.support.engines import Engine, Narrowing
from tests.support.fakes import MemoryStore
from tests.support.publisher import Published

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
USER = "1143925780461227139"


def connection(status: str = ACTIVE, **fields: Any) -> Connection:
    return Connection(
        USER,
        Profile("Ada Lovelace", "ada@example.com", "https://img.example/ada.png"),
        ("current_user:read", "file_content:read"),
        status=status,
        grant_expires_at=NOW + timedelta(hours=1),
        **fields,
    )


@dataclass
class Figma:
    answers: list[ProxyResponse] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)

    def forward(
        self,
        target: str,
        *,
        method: str,
        token: str,
        body: bytes | None,
        content_type: str | None,
        gzip: bool = False,
        overflow: Overflow | None = None,
        max_bytes: int | None = None,
    ) -> ProxyResponse:
        self.calls.append({"target": target, "method": method, "token": token, "body": body, "type": content_type})
        return self.answers.pop(0) if self.answers else ProxyResponse(200, b'{"ok": true}', "application/json", {})


@dataclass
class Limits:
    recorded: list[RateLimit] = field(default_factory=list)

    def record_rate_limit(self, conn: Connection, limit: RateLimit, *, now: datetime) -> bool:
        self.recorded.append(limit)
        return True


@dataclass
class Connections:
    connections: dict[str, Connection] = field(default_factory=dict)

    def get_connection(self, user_id: str) -> Connection | None:
        return self.connections.get(user_id)


@dataclass
class World:
    engine: Engine = field(default_factory=Engine)
    figma: Figma = field(default_factory=Figma)
    limits: Limits = field(default_factory=Limits)
    store: Connections = field(default_factory=Connections)
    current: Connection = field(default_factory=connection)
    clock: list[datetime] = field(default_factory=lambda: [NOW])

    def authenticate(self, creds: Credentials) -> Current:
        if creds.token != "session-token":
            raise Unauthorized()
        return Current(Session("s", USER, NOW, NOW + timedelta(days=1)), self.current)

    def proxy(self) -> FigmaProxy:
        ledger = RateLimitLedger(store=self.limits, publish=lambda t, d: None, clock=lambda: self.clock[0])
        return FigmaProxy(
            store=self.store,
            authenticate=self.authenticate,
            engine=self.engine,
            figma=self.figma,
            ledger=ledger,
            clock=lambda: self.clock[0],
            leeway_seconds=300,
        )


SESSION = Credentials("session-token", "cookie")


def call(path: str = "/figma/v1/me", method: str = "GET", query: str = "", body: bytes | None = None) -> ProxyCall:
    return ProxyCall(method, path, query, body, "application/json" if body else None)


def reply(status: int, body: bytes = b"{}", headers: dict[str, str] | None = None) -> ProxyResponse:
    return ProxyResponse(status, body, "application/json", headers or {})


# -- paths ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "after", "query", "target"),
    [
        ("/figma/v1/me", 1, "", "/v1/me"),
        ("/figma/v1/files/KEY/nodes", 1, "ids=1:2,3:4", "/v1/files/KEY/nodes?ids=1:2,3:4"),
        ("/figma/v2/webhooks/", 1, "", "/v2/webhooks"),  # one trailing slash is harmless
        ("/connections/123/figma/v1/me", 3, "", "/v1/me"),
        ("/connections/123/figma/v1/images/K", 3, "format=svg", "/v1/images/K?format=svg"),
    ],
)
def test_the_target_is_the_path_after_the_route_and_its_query(raw: str, after: int, query: str, target: str) -> None:
    assert figma_target(raw, query, after=after) == target


@pytest.mark.parametrize(
    "path",
    [
        "",
        "v3/me",
        "files/KEY",
        "v1",  # nothing after the version is still v1: allowed below? no — see the next test
        "v1/oauth/token",
        "v1/OAuth/refresh",
        "v1/../oauth/token",
        "v1/./me",
        "v1//me",
        "v1/files/%2e%2e",
        "v1/files/a%2fb",
        "v1/files/a\\b",
        "v1/files/a@b",
        "v1/files/é",
        "v1/files/a b",
        "v1/" + "a" * 257,
        "v1/" + "a/" * 600,
        "/v1/me",  # an empty first segment
    ],
)
def test_only_plain_figma_api_paths_pass(path: str) -> None:
    if path == "v1":
        assert proxy_path(path) == "/v1"
        return
    with pytest.raises(InvalidPath):
        proxy_path(path)


def test_the_refusals_say_what_is_allowed() -> None:
    with pytest.raises(InvalidPath) as other:
        proxy_path("v3/me")
    assert other.value.message == "Only Figma API paths are allowed: /figma/v1/… or /figma/v2/…"
    with pytest.raises(InvalidPath) as oauth:
        proxy_path("v1/oauth/token")
    assert oauth.value.message == "Figma's OAuth endpoints cannot be called through the proxy."
    assert proxy_path("v1/" + "a" * 256) == "/v1/" + "a" * 256
    assert proxy_path("v1/files/A-b_c.d~e:f,g") == "/v1/files/A-b_c.d~e:f,g"


@pytest.mark.parametrize("query", ["a=\x00", "a=é", "a b", "a=\x7f", "q" * 2049, "tab\t"])
def test_a_query_a_url_cannot_carry_is_invalid_request(query: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        proxy_query(query)
    assert "percent-encode" in refused.value.message


def test_the_longest_printable_query_passes() -> None:
    assert proxy_query("q" * 2048) == "q" * 2048 and proxy_query("a=%20&b=~!") == "a=%20&b=~!"


def test_proxy_paths_up_to_1024_characters_pass_and_v1_oauth_itself_is_refused() -> None:
    exactly = "v1/" + "/".join(["a" * 203] * 5)  # 3 + 5 × 203 + 4 = 1022
    exactly += "/b"  # 1024
    assert len(exactly) == 1024 and proxy_path(exactly) == "/" + exactly
    with pytest.raises(InvalidPath):
        proxy_path(exactly + "c")
    with pytest.raises(InvalidPath) as oauth_root:
        proxy_path("v1/oauth")
    assert oauth_root.value.message == "Figma's OAuth endpoints cannot be called through the proxy."


def test_the_query_refusal_in_words() -> None:
    with pytest.raises(InvalidRequest) as refused:
        proxy_query("a b")
    assert refused.value.message == "the query string has characters a URL cannot carry; percent-encode them"


def test_a_one_character_proxy_path_is_refused_as_no_figma_api_path_in_words() -> None:
    with pytest.raises(InvalidPath) as refused:
        proxy_path("v")
    assert refused.value.message == "Only Figma API paths are allowed: /figma/v1/… or /figma/v2/…"


def test_an_empty_proxy_path_is_the_plain_invalid_path() -> None:
    with pytest.raises(InvalidPath) as refused:
        proxy_path("")
    assert refused.value.message == InvalidPath.default_message


# -- the call ---------------------------------------------------------------------------------------------


def test_a_session_call_goes_to_figma_with_a_token_fresh_within_the_leeway() -> None:
    world = World()
    answer = world.proxy().as_session(SESSION, call("/figma/v1/files/K", "POST", "x=1", b'{"a": 1}'))
    assert answer.status == 200
    assert world.figma.calls == [
        {
            "target": "/v1/files/K?x=1",
            "method": "POST",
            "token": "token-1",
            "body": b'{"a": 1}',
            "type": "application/json",
        }
    ]
    assert world.engine.calls == [(300, False)]


def test_a_backend_call_names_its_user_in_the_path() -> None:
    world = World(store=Connections({USER: connection()}))
    world.proxy().as_user(USER, call(f"/connections/{USER}/figma/v1/me"))
    assert world.figma.calls[0]["target"] == "/v1/me"
    with pytest.raises(NotFound):
        world.proxy().as_user("nobody", call("/connections/nobody/figma/v1/me"))


def test_a_dead_grant_is_reauth_required_before_anything() -> None:
    world = World(current=connection(status=REAUTH_REQUIRED))
    with pytest.raises(ReauthRequired):
        world.proxy().as_session(SESSION, call())
    assert world.engine.calls == [] and world.figma.calls == []


def test_a_remembered_limit_is_answered_before_a_refresh_or_figma() -> None:
    world = World(current=connection(rate_limits=(RateLimit(3, "user", NOW + timedelta(seconds=30)),)))
    with pytest.raises(RateLimited) as refused:
        world.proxy().as_session(SESSION, call())
    assert refused.value.retry_after == 30 and world.engine.calls == [] and world.figma.calls == []


def test_figmas_429_is_passed_back_as_it_came_and_recorded() -> None:
    world = World()
    world.figma.answers = [reply(429, b'{"status": 429}', {"Retry-After": "20"})]
    answer = world.proxy().as_session(SESSION, call("/figma/v1/files/KEY"))
    assert answer.status == 429 and answer.body == b'{"status": 429}'
    (limit,) = world.limits.recorded
    assert (limit.tier, limit.scope, limit.until) == (1, "file:KEY", NOW + timedelta(seconds=20))


@pytest.mark.parametrize("status", [500, 502, 504])
def test_figma_down_is_a_502_figma_unavailable(status: int) -> None:
    world = World()
    world.figma.answers = [reply(status)]
    with pytest.raises(FigmaUnavailable) as refused:
        world.proxy().as_session(SESSION, call())
    assert refused.value.status == 502 and refused.value.message == f"Figma answered HTTP {status}"


@pytest.mark.parametrize("status", [400, 403, 404, 499])
def test_figmas_own_refusals_are_passed_on(status: int) -> None:
    world = World()
    world.figma.answers = [reply(status, b'{"err": "Not found"}')]
    assert world.proxy().as_session(SESSION, call()).status == status
    assert len(world.figma.calls) == 1  # not an invalid token: no second call


@pytest.mark.parametrize("invalid", [reply(401), reply(403, b'{"err": "Invalid token"}')])
def test_an_invalid_token_is_renewed_once_and_the_call_tried_again(invalid: ProxyResponse) -> None:
    world = World()
    world.figma.answers = [invalid, reply(200)]
    assert world.proxy().as_session(SESSION, call()).status == 200
    assert [c["token"] for c in world.figma.calls] == ["token-1", "token-2"]
    assert world.engine.calls == [(300, False), (None, True)]


def test_a_second_invalid_answer_is_figmas_and_passed_on() -> None:
    world = World()
    world.figma.answers = [reply(401), reply(401)]
    assert world.proxy().as_session(SESSION, call()).status == 401 and len(world.figma.calls) == 2


@pytest.mark.parametrize(
    ("age", "renewed"),
    [
        (FORCED_REFRESH_SPACING - timedelta(seconds=1), False),
        (FORCED_REFRESH_SPACING, True),
        (timedelta(hours=1), True),
    ],
)
def test_the_forced_refresh_happens_at_most_every_30_seconds_per_connection(age: timedelta, renewed: bool) -> None:
    world = World(engine=Engine(obtained_at=NOW - age))
    world.figma.answers = [reply(401), reply(200)]
    world.proxy().as_session(SESSION, call())
    assert len(world.figma.calls) == (2 if renewed else 1)
    assert world.engine.calls == ([(300, False), (None, True)] if renewed else [(300, False)])


def test_a_dead_grant_found_by_the_forced_refresh_is_its_answer() -> None:
    world = World()
    world.figma.answers = [reply(401)]

    class DiesOnForce(Engine):
        def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh:
            if force:
                raise ReauthRequired()
            return super().fresh(conn, min_validity, force=force)

    world.engine = DiesOnForce()
    with pytest.raises(ReauthRequired):
        world.proxy().as_session(SESSION, call())


def test_an_unauthenticated_proxy_call_reaches_nothing() -> None:
    world = World()
    with pytest.raises(Unauthorized):
        world.proxy().as_session(Credentials("nope", "cookie"), call())
    assert world.figma.calls == []


def test_a_bad_path_is_refused_before_the_session_is_read() -> None:
    world = World()
    with pytest.raises(InvalidPath):
        world.proxy().as_session(Credentials("nope", "cookie"), call("/figma/v1/oauth/token"))


# -- who a token is -----------------------------------------------------------------------------------------


def signed_in(store: MemoryStore, **session: Any) -> str:
    token = store.sign_in(USER)
    sid = hash_secret(token)
    store.sessions[sid] = replace(store.sessions[sid], **session)
    return token


def test_a_token_names_its_session_and_connection() -> None:
    store = MemoryStore()
    token = signed_in(store)
    current = Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "cookie"))
    assert current.session.id == hash_secret(token) and current.connection.user_id == USER


@pytest.mark.parametrize(
    "token", [None, "", "not-a-session-token", new_session_token(USER)], ids=["none", "empty", "malformed", "unknown"]
)
def test_no_token_a_malformed_one_or_an_unknown_one_is_unauthorized(token: str | None) -> None:
    store = MemoryStore()
    signed_in(store)
    with pytest.raises(Unauthorized) as refused:
        Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "cookie"))
    assert refused.value.message == Unauthorized.default_message


def test_an_unactivated_token_mode_session_is_unauthorized() -> None:
    store = MemoryStore()
    token = signed_in(store, activated=False)
    with pytest.raises(Unauthorized):
        Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "bearer"))


def test_a_session_of_another_user_is_unauthorized() -> None:
    store = MemoryStore()
    token = signed_in(store, user_id="someone-else")
    with pytest.raises(Unauthorized):
        Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "cookie"))


def test_an_expired_session_is_deleted_on_sight_and_says_so() -> None:
    store = MemoryStore()
    token = signed_in(store, expires_at=NOW)
    with pytest.raises(Unauthorized) as refused:
        Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "cookie"))
    assert refused.value.message == "Your session expired. Sign in with Figma again."
    assert store.sessions == {}
    token = signed_in(store, expires_at=NOW + timedelta(seconds=1))
    Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "cookie"))


def test_a_session_whose_connection_is_gone_says_it_was_disconnected() -> None:
    store = MemoryStore()
    token = signed_in(store)
    store.connections.clear()
    with pytest.raises(Unauthorized) as refused:
        Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "cookie"))
    assert refused.value.message == "This Figma connection was disconnected. Sign in with Figma again."
    assert len(store.sessions) == 1  # not deleted: a new sign-in brings the connection back


# -- the session view, refresh and list ------------------------------------------------------------------------


def sessions(store: MemoryStore, engine: Engine, *, expose: bool = True) -> Sessions:
    end = EndUser(store=store, publish=Published(), offline_access=False, clock=lambda: NOW)
    return Sessions(
        store=store,
        authenticate=Authenticate(store=store, clock=lambda: NOW),
        engine=engine,
        end_user=end,
        clock=lambda: NOW,
        leeway_seconds=300,
        expose_token=expose,
    )


def test_the_session_view_has_the_token_fresh_within_the_leeway() -> None:
    store, engine = MemoryStore(), Engine()
    token = signed_in(store)
    shown = sessions(store, engine).view(Credentials(token, "cookie"))
    assert shown.session.id == hash_secret(token) and shown.user.id == USER
    assert shown.provider.access_token == "token-1" and engine.calls == [(300, False)]
    hidden = sessions(store, Engine(), expose=False).view(Credentials(token, "cookie"))
    assert hidden.provider.access_token is None


def test_the_session_view_of_a_dead_grant_says_reauth_required() -> None:
    store = MemoryStore()
    token = signed_in(store)
    shown = sessions(store, Engine(refuses=ReauthRequired())).view(Credentials(token, "cookie"))
    assert shown.provider.status == "reauth_required" and shown.provider.access_token is None


def test_a_refresh_without_min_validity_always_gets_a_new_token_and_with_it_asks_for_that() -> None:
    store, engine = MemoryStore(), Engine()
    token = signed_in(store)
    creds = Credentials(token, "cookie")
    assert sessions(store, engine).refresh(creds, None).provider.access_token == "token-1"
    sessions(store, engine).refresh(creds, 600)
    assert engine.calls == [(None, True), (600, False)]


def test_a_refresh_of_a_dead_grant_is_reauth_required_without_the_engine() -> None:
    store, engine = MemoryStore(), Engine()
    token = signed_in(store)
    conn, touched = store.connections[USER]
    store.connections[USER] = (replace(conn, status=REAUTH_REQUIRED), touched)
    with pytest.raises(ReauthRequired):
        sessions(store, engine).refresh(Credentials(token, "cookie"), None)
    assert engine.calls == []


def test_the_list_shows_the_users_live_activated_sessions_oldest_first_marking_this_one() -> None:
    store = MemoryStore()
    token = signed_in(store)
    mine = hash_secret(token)
    older = Session("older", USER, NOW - timedelta(days=5), NOW + timedelta(days=1), client="device")  # mine: 11-28
    expired = Session("expired", USER, NOW - timedelta(days=3), NOW)
    pending = Session(
        "pending", USER, NOW - timedelta(days=1), NOW + timedelta(days=1), client="token", activated=False
    )
    theirs = Session("theirs", "someone-else", NOW, NOW + timedelta(days=1))
    for s in (older, expired, pending, theirs):
        store.sessions[s.id] = s
    listed = sessions(store, Engine()).list(Credentials(token, "cookie")).sessions
    assert [(s.id, s.current, s.client) for s in listed] == [("older", False, "device"), (mine, True, "web")]
    assert listed[0].created_at == "2026-11-26T12:00:00Z" and listed[0].expires_at == "2026-12-02T12:00:00Z"


def test_proxy_calls_are_counted_by_answer_class_and_forced_refreshes_apart(emitted: list[str]) -> None:
    world = World()
    world.figma.answers = [reply(200), reply(404), reply(401), reply(200), reply(302)]
    for _ in range(4):
        world.proxy().as_session(SESSION, call())
    assert emitted == ["ProxyCalls2xx", "ProxyCalls4xx", "ProxyRefreshOnInvalidToken", "ProxyCalls2xx", "ProxyCalls3xx"]


def test_a_deleted_connection_is_counted_and_announced_once(emitted: list[str]) -> None:
    store = MemoryStore()
    signed_in(store)
    published = Published()
    EndUser(store=store, publish=published, offline_access=False, clock=lambda: NOW)(USER, disconnect=True)
    assert emitted == ["ConnectionDeleted"]
    assert [kind for kind, _ in published.events] == ["SessionEnded", "ConnectionDeleted"]
    assert published.events[-1] == ("ConnectionDeleted", {"user_id": USER, "reason": "disconnect"})


# -- the exact rules of sessions -------------------------------------------------------------------------------


@dataclass
class CountingStore(MemoryStore):
    reads: int = 0

    def session_with_connection(self, session_id: str, user_id: str) -> tuple[Session | None, Connection | None]:
        self.reads += 1
        return super().session_with_connection(session_id, user_id)


@pytest.mark.parametrize("token", ["", "no-user-in-it", "!!!." + "a" * 43])
def test_a_token_naming_nobody_is_refused_without_reading_the_table(token: str) -> None:
    store = CountingStore()
    with pytest.raises(Unauthorized):
        Authenticate(store=store, clock=lambda: NOW)(Credentials(token, "cookie"))
    assert store.reads == 0


def test_the_view_and_a_refresh_show_the_connection_the_refresh_returned_at_the_clocks_time() -> None:
    store = MemoryStore()
    token = signed_in(store)
    conn, touched = store.connections[USER]
    store.connections[USER] = (replace(conn, scopes=("current_user:read", "file_content:read")), touched)
    creds = Credentials(token, "cookie")
    for shown in (sessions(store, Narrowing()).view(creds), sessions(store, Narrowing()).refresh(creds, None)):
        assert shown.provider.scopes == ["current_user:read"]  # the refreshed connection, not the one read
        # the limit lasts until 13:00 of the clock's day: shown by the clock's time, not the wall's
        assert [limit.tier for limit in shown.provider.rate_limits] == [1]


def test_a_logout_answers_whether_the_callers_own_session_is_gone() -> None:
    store = MemoryStore()
    mine = signed_in(store)
    other = store.sign_in(USER)
    s = sessions(store, Engine())
    assert s.logout(Credentials("nobody", "cookie"), LogoutRequest()) is True  # idempotent
    assert s.logout(Credentials(mine, "cookie"), LogoutRequest(session_id=hash_secret(other))) is False
    assert hash_secret(other) not in store.sessions and hash_secret(mine) in store.sessions
    assert s.logout(Credentials(mine, "cookie"), LogoutRequest(all=True)) is True
    with pytest.raises(InvalidRequest) as refused:
        s.logout(Credentials(mine, "cookie"), LogoutRequest(disconnect=True))
    assert refused.value.message == 'disconnect ends every session: send {"all": true, "disconnect": true}'


def test_logout_all_says_logout_and_a_disconnect_says_disconnect_and_both_drop_the_users_webhooks() -> None:
    store = MemoryStore()
    signed_in(store)
    published, dropped = Published(), list[tuple[str, bool]]()

    def drop(user_id: str, keep_undeleted: bool) -> int:
        dropped.append((user_id, keep_undeleted))
        return 0

    end = EndUser(store=store, publish=published, offline_access=False, clock=lambda: NOW, drop_webhooks=drop)
    end(USER, disconnect=False)
    assert {d["reason"] for _, d in published.events} == {"logout"} and dropped == [(USER, True)]
    assert published.events[-1] == ("ConnectionDeleted", {"user_id": USER, "reason": "logout"})
    signed_in(store)
    published.events.clear()
    end(USER, disconnect=True)
    assert {d["reason"] for _, d in published.events} == {"disconnect"} and dropped[-1] == (USER, False)


@pytest.mark.parametrize("last_session", ["logout_all", "logout"])
def test_a_connection_whose_webhooks_figma_kept_stays_for_the_reconciliation(last_session: str) -> None:
    store = MemoryStore()
    token = signed_in(store)
    published = Published()
    end = EndUser(
        store=store, publish=published, offline_access=False, clock=lambda: NOW, drop_webhooks=lambda u, keep: 1
    )
    if last_session == "logout_all":
        end(USER, disconnect=False)
    else:
        store.sessions.pop(hash_secret(token))
        assert end.forget_unused_connection(USER) is False
    assert USER in store.connections and "ConnectionDeleted" not in [t for t, _ in published.events]


def test_offline_access_keeps_the_connection_and_its_webhooks_at_logout() -> None:
    store = MemoryStore()
    signed_in(store)
    dropped = list[str]()

    def drop(user_id: str, keep_undeleted: bool) -> int:
        dropped.append(user_id)
        return 0

    end = EndUser(store=store, publish=Published(), offline_access=True, clock=lambda: NOW, drop_webhooks=drop)
    end(USER, disconnect=False)
    assert USER in store.connections and dropped == []


def test_a_disconnect_deletes_the_connection_even_if_a_sign_in_joined_while_sessions_were_listed() -> None:
    store = MemoryStore(joins_while_listing=True)
    signed_in(store)
    EndUser(store=store, publish=Published(), offline_access=False, clock=lambda: NOW)(USER, disconnect=True)
    assert USER not in store.connections


@pytest.mark.parametrize(
    ("remaining", "kept"),
    [
        ({"activated": True, "expires_at": NOW + timedelta(seconds=1)}, True),
        ({"activated": True, "expires_at": NOW}, False),  # expired at this instant: nobody uses it
        ({"activated": False, "expires_at": NOW + timedelta(days=1)}, False),  # a ticket never redeemed
    ],
)
def test_the_last_live_activated_session_keeps_the_connection(remaining: dict[str, Any], kept: bool) -> None:
    store = MemoryStore()
    signed_in(store)
    store.sessions = {"other": Session("other", USER, NOW, **remaining)}
    published = Published()
    EndUser(store=store, publish=published, offline_access=False, clock=lambda: NOW).forget_unused_connection(USER)
    assert (USER in store.connections) is kept
    assert published.events == ([] if kept else [("ConnectionDeleted", {"user_id": USER, "reason": "logout"})])


def test_a_sign_in_that_joined_meanwhile_keeps_the_connection_after_the_last_logout() -> None:
    store = MemoryStore()
    signed_in(store)
    store.sessions.clear()
    conn, _ = store.connections[USER]

    real_sessions = store.user_sessions

    def joined(user_id: str) -> list[Session]:
        store.connections[USER] = (conn, "a-new-session")  # the sign-in's transaction
        return real_sessions(user_id)

    store.user_sessions = joined  # type: ignore[method-assign]
    EndUser(store=store, publish=Published(), offline_access=False, clock=lambda: NOW).forget_unused_connection(USER)
    assert USER in store.connections
