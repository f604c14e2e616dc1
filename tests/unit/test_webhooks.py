"""A connection's webhooks, the reconciliation pass and backend access, without a stack: what
a create sends Figma and keeps (a passcode's hash only), how each of Figma's refusals maps to
a code an app can act on, what a delete and a disconnect remove, what the reconciliation
relays, and which user ids name a connection (integration/test_webhooks.py and
test_backend_access.py run them end to end)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.engine import Fresh
from figma_auth.errors import (
    FigmaAuthError,
    FigmaError,
    FigmaUnavailable,
    InsufficientScope,
    NotFound,
    RateLimited,
    ReauthRequired,
    Unauthorized,
    WebhookForbidden,
    WebhookQuota,
)
from figma_auth.figma import ProxyResponse
from figma_auth.models.webhooks import WebhookCreate
from figma_auth.oauth import FigmaGrant
from figma_auth.records import ACTIVE, REAUTH_REQUIRED, Connection, Profile, RateLimit, Session
from figma_auth.records.webhooks import Webhook
from figma_auth.tokens import hash_secret
from figma_auth.usecases.connections import NO_CONNECTION, BackendConnections, checked_user_id, connection_of
from figma_auth.usecases.rate_limits import RateLimitLedger
from figma_auth.usecases.sessions import EndUser
from figma_auth.usecases.webhook_reconcile import Reconcile, checks_due
from figma_auth.usecases.webhooks import PENDING_PASSCODE_TTL, ManageWebhooks, view
from tests.support.engines import Narrowing
from tests.support.fakes import WebhookStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ISSUER = "https://api.example.com"
USER = "1143925780461227139"


def connection(*scopes: str, status: str = ACTIVE, **fields: Any) -> Connection:
    return Connection(
        USER,
        Profile("Ada", "ada@example.com", ""),
        scopes or ("current_user:read", "webhooks:write"),
        status=status,
        grant_expires_at=NOW + timedelta(hours=2),
        **fields,
    )


@dataclass
class Engine:
    """The refresh engine: a fresh grant per call (its token names the call), or a refusal."""

    refuses: FigmaAuthError | None = None
    calls: list[tuple[str, int | None, bool]] = field(default_factory=list)

    def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh:
        self.calls.append((conn.user_id, min_validity, force))
        if self.refuses is not None:
            raise self.refuses
        grant = FigmaGrant(f"token-{len(self.calls)}", "r", NOW + timedelta(hours=1), conn.scopes)
        return Fresh(replace(conn, version=conn.version + 1), grant)


@dataclass
class Figma:
    """Figma's REST API as forward() reaches it: answers queued per (method, path prefix)."""

    answers: list[ProxyResponse] = field(default_factory=list)
    raises: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)

    def forward(
        self, target: str, *, method: str, token: str, body: bytes | None, content_type: str | None
    ) -> ProxyResponse:
        self.calls.append(
            {"target": target, "method": method, "token": token, "body": body, "content_type": content_type}
        )
        if self.raises is not None:
            raise self.raises
        return self.answers.pop(0) if self.answers else answer(200, {})


def answer(
    status: int, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
) -> ProxyResponse:
    data = raw if raw is not None else json.dumps(body).encode()
    return ProxyResponse(status, data, "application/json", headers or {})


@dataclass
class Store(WebhookStore):
    now: datetime = NOW  # the default user's session is live on the tests' clock


@dataclass
class World:
    store: Store = field(default_factory=Store)
    engine: Engine = field(default_factory=Engine)
    figma: Figma = field(default_factory=Figma)
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def ledger(self) -> RateLimitLedger:
        return RateLimitLedger(store=self.store, publish=lambda t, d: self.published.append((t, d)), clock=lambda: NOW)

    def webhooks(self) -> ManageWebhooks:
        return ManageWebhooks(
            store=self.store,
            engine=self.engine,
            figma=self.figma,
            ledger=self.ledger,
            clock=lambda: NOW,
            leeway_seconds=300,
        )


def request(**fields: Any) -> WebhookCreate:
    return WebhookCreate(**{"event_type": "FILE_UPDATE", "context": "file", "context_id": "FILEKEY", **fields})


def hook(webhook_id: str = "wh1", user_id: str = USER, **fields: Any) -> Webhook:
    made = {"event_type": "FILE_UPDATE", "context": "file", "context_id": "FILEKEY", **fields}
    return Webhook(webhook_id, user_id, created_at=NOW - timedelta(days=1), **made)


# -- create ------------------------------------------------------------------------------------------


def test_a_create_sends_figma_a_fresh_passcode_and_keeps_only_its_hash() -> None:
    world = World()
    world.figma.answers = [answer(200, {"id": 77, "status": "ACTIVE"})]
    created = world.webhooks().create(connection(), request(description="Watch it"), issuer=ISSUER)
    assert created.new

    (call,) = world.figma.calls
    assert (call["target"], call["method"], call["token"]) == ("/v2/webhooks", "POST", "token-1")
    assert call["content_type"] == "application/json"
    sent = json.loads(call["body"])
    passcode = sent.pop("passcode")
    assert sent == {
        "event_type": "FILE_UPDATE",
        "context": "file",
        "context_id": "FILEKEY",
        "endpoint": f"{ISSUER}/webhooks/figma",
        "description": "Watch it",
    }
    assert len(passcode) == 43
    assert world.store.passcodes == [(hash_secret(passcode), USER, NOW + PENDING_PASSCODE_TTL)]
    ((saved, saved_hash),) = world.store.saved
    assert saved_hash == hash_secret(passcode) and passcode not in repr(world.store)
    assert saved == Webhook(
        "77", USER, "FILE_UPDATE", "file", "FILEKEY", NOW, "Watch it", "active", f"{ISSUER}/webhooks/figma"
    )
    assert created.view.model_dump() == {
        "id": "77",
        "event_type": "FILE_UPDATE",
        "context": "file",
        "context_id": "FILEKEY",
        "status": "active",
        "created_at": "2026-12-01T12:00:00Z",
        "description": "Watch it",
    }
    assert world.engine.calls == [(USER, 300, False)]


def test_a_create_without_description_sends_none_and_two_creates_two_passcodes() -> None:
    world = World()
    world.figma.answers = [answer(200, {"id": "a"}), answer(200, {"id": "b"})]
    world.webhooks().create(connection(), request(), issuer=ISSUER)
    world.webhooks().create(connection(), request(context_id="OTHERKEY"), issuer=ISSUER)
    first, second = (json.loads(c["body"]) for c in world.figma.calls)
    assert "description" not in first and first["passcode"] != second["passcode"]
    assert [w.status for w, _ in world.store.saved] == ["active", "active"]


def test_figmas_paused_webhook_is_kept_paused() -> None:
    world = World()
    world.figma.answers = [answer(200, {"id": "p", "status": "paused"})]
    assert world.webhooks().create(connection(), request(), issuer=ISSUER).view.status == "paused"


def test_a_create_needs_a_live_grant_and_the_webhooks_write_scope_before_figma_is_called() -> None:
    world = World()
    with pytest.raises(ReauthRequired):
        world.webhooks().create(connection(status=REAUTH_REQUIRED), request(), issuer=ISSUER)
    with pytest.raises(InsufficientScope) as refused:
        world.webhooks().create(connection("current_user:read"), request(), issuer=ISSUER)
    assert "webhooks:write" in refused.value.message and "sign in again" in refused.value.message
    assert world.figma.calls == [] and world.store.passcodes == []


def test_a_remembered_limit_refuses_the_create_without_figma() -> None:
    world = World()
    limited = connection(rate_limits=(RateLimit(2, "user", NOW + timedelta(minutes=1)),))
    with pytest.raises(RateLimited):
        world.webhooks().create(limited, request(), issuer=ISSUER)
    assert world.figma.calls == [] and world.store.passcodes == []


def test_figmas_429_on_a_create_is_recorded_and_refused_in_words() -> None:
    world = World()
    world.figma.answers = [answer(429, {}, {"Retry-After": "60", "X-Figma-Rate-Limit-Type": "low"})]
    with pytest.raises(RateLimited) as refused:
        world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert refused.value.retry_after == 60 and refused.value.tier == 2
    (limit,) = world.store.limits
    assert (limit.tier, limit.scope, limit.type) == (2, "user", "low")
    assert world.store.saved == []


@pytest.mark.parametrize(
    ("status", "body", "error", "said"),
    [
        (400, {"message": "Maximum number of webhooks reached"}, WebhookQuota, "Maximum number"),
        (400, {"err": "Webhook limit exceeded"}, WebhookQuota, "limit exceeded"),
        (403, {"message": "Invalid scope(s): webhooks:write"}, InsufficientScope, "Invalid scope"),
        (403, {"message": "You need edit access"}, WebhookForbidden, "edit access"),
        (400, {"message": "context_id is invalid"}, FigmaError, "HTTP 400"),
        (404, {"err": "Not found"}, FigmaError, "HTTP 404"),
        (200, {"no": "id"}, FigmaError, "HTTP 200"),
        (200, {"id": None}, FigmaError, "HTTP 200"),
        (200, ["not", "an", "object"], FigmaError, "HTTP 200"),
    ],
)
def test_figmas_refusals_map_to_codes_an_app_can_act_on(
    status: int, body: Any, error: type[FigmaAuthError], said: str
) -> None:
    world = World()
    world.figma.answers = [answer(status, body)]
    with pytest.raises(error) as refused:
        world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert type(refused.value) is error and said in refused.value.message
    assert world.store.saved == []


def test_a_refusal_quotes_at_most_300_characters_of_figma() -> None:
    world = World()
    world.figma.answers = [answer(403, {"message": "y" * 400})]
    with pytest.raises(WebhookForbidden) as refused:
        world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert refused.value.message.endswith("Figma said: " + "y" * 300)
    assert refused.value.message.startswith(WebhookForbidden.default_message)


def test_a_body_that_is_not_json_is_figmas_error() -> None:
    world = World()
    world.figma.answers = [answer(200, raw=b"<html>")]
    with pytest.raises(FigmaError) as refused:
        world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert refused.value.message == "Figma refused the webhook (HTTP 200): "


@pytest.mark.parametrize("status", [500, 502, 503])
def test_figma_down_is_figma_unavailable_with_502(status: int) -> None:
    world = World()
    world.figma.answers = [answer(status, {})]
    with pytest.raises(FigmaUnavailable) as refused:
        world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert refused.value.status == 502 and f"HTTP {status}" in refused.value.message


def test_a_499_is_not_figma_down() -> None:
    world = World()
    world.figma.answers = [answer(499, {})]
    with pytest.raises(FigmaError) as refused:
        world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert type(refused.value) is FigmaError


# -- list, view, delete --------------------------------------------------------------------------------


def test_a_dead_grant_shows_its_webhooks_paused() -> None:
    world = World()
    world.store.webhooks[USER] = [hook("a"), hook("b", status="paused")]
    assert [w.status for w in world.webhooks().list(connection()).webhooks] == ["active", "paused"]
    assert [w.status for w in world.webhooks().list(connection(status=REAUTH_REQUIRED)).webhooks] == ["paused"] * 2
    assert view(hook("c", description="d"), connection()).description == "d"


def test_a_delete_goes_to_figma_first_with_the_users_token_then_here() -> None:
    world = World()
    world.store.webhooks[USER] = [hook("a"), hook("b")]
    world.webhooks().delete(connection(), "a")
    (call,) = world.figma.calls
    assert (call["target"], call["method"], call["body"], call["content_type"]) == (
        "/v2/webhooks/a",
        "DELETE",
        None,
        None,
    )
    assert world.store.deleted == [(USER, "a")] and [w.id for w in world.store.webhooks[USER]] == ["b"]


def test_a_delete_of_a_webhook_already_gone_at_figma_is_fine() -> None:
    world = World()
    world.store.webhooks[USER] = [hook("a")]
    world.figma.answers = [answer(404, {})]
    world.webhooks().delete(connection(), "a")
    assert world.store.deleted == [(USER, "a")]


@pytest.mark.parametrize("status", [400, 403, 429])
def test_a_delete_figma_refuses_is_kept(status: int) -> None:
    world = World()
    world.store.webhooks[USER] = [hook("a")]
    world.figma.answers = [answer(status, {})]
    with pytest.raises(FigmaError) as refused:
        world.webhooks().delete(connection(), "a")
    assert refused.value.message == f"Figma refused to delete the webhook (HTTP {status}); it is kept"
    assert world.store.deleted == []


def test_a_delete_of_anothers_or_no_webhook_is_not_found_and_a_dead_grant_deletes_only_here() -> None:
    world = World()
    world.store.webhooks["someone-else"] = [hook("x", user_id="someone-else")]
    with pytest.raises(NotFound) as missing:
        world.webhooks().delete(connection(), "x")
    assert missing.value.message == "This user has no webhook with that id."
    world.store.webhooks[USER] = [hook("a")]
    world.webhooks().delete(connection(status=REAUTH_REQUIRED), "a")
    assert world.figma.calls == [] and world.store.deleted == [(USER, "a")]


# -- drop_all (a disconnect) ----------------------------------------------------------------------------


def test_a_disconnect_drops_every_webhook_at_figma_and_here() -> None:
    world = World()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a"), hook("b")]
    world.webhooks().drop_all(USER)
    assert [(c["method"], c["target"]) for c in world.figma.calls] == [
        ("DELETE", "/v2/webhooks/a"),
        ("DELETE", "/v2/webhooks/b"),
    ]
    assert world.store.deleted == [(USER, "a"), (USER, "b")]


def test_a_disconnect_without_webhooks_reads_nothing_more() -> None:
    world = World()
    world.store.connections[USER] = connection()
    world.webhooks().drop_all(USER)
    assert world.store.reads == 0 and world.figma.calls == [] and world.store.deleted == []


def test_a_disconnect_whose_figma_calls_fail_still_drops_ours() -> None:
    world = World()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a"), hook("b")]
    world.figma.raises = ConnectionError("Figma is down")
    world.webhooks().drop_all(USER)
    assert len(world.figma.calls) == 2 and world.store.deleted == [(USER, "a"), (USER, "b")]


def test_a_disconnect_with_a_dead_or_missing_grant_drops_ours_without_figma() -> None:
    world = World()
    world.store.connections[USER] = connection(status=REAUTH_REQUIRED)
    world.store.webhooks[USER] = [hook("a")]
    world.webhooks().drop_all(USER)
    world.store.webhooks["gone"] = [hook("z", user_id="gone")]
    world.webhooks().drop_all("gone")
    assert world.figma.calls == [] and world.store.deleted == [(USER, "a"), ("gone", "z")]


# -- the reconciliation --------------------------------------------------------------------------------


def logged(
    *payloads: Any, endpoint: str = f"{ISSUER}/webhooks/figma", sent_at: str = "2026-12-01T11:00:00Z"
) -> ProxyResponse:
    """Figma's requests log of a webhook: each delivery's payload, where it was sent and when."""
    info = [{"payload": p, "endpoint": endpoint, "sent_at": sent_at} for p in payloads]
    return answer(200, {"requests": [{"request_info": i} for i in info]})


def delivery(webhook_id: str = "wh1", event: str = "FILE_UPDATE", **extra: Any) -> dict[str, Any]:
    return {"webhook_id": webhook_id, "event_type": event, "file_key": "FILEKEY", **extra}


@dataclass
class Relay:
    outcomes: list[str] = field(default_factory=list)
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, user_id: str, payload: dict[str, Any]) -> Any:
        self.seen.append((user_id, payload))
        return self.outcomes.pop(0) if self.outcomes else "published"


RECEIVER = f"{ISSUER}/webhooks/figma"


def reconcile(world: World, relay: Relay, *, ended: EndsConnections | None = None, offline: bool = False) -> Reconcile:
    return Reconcile(
        store=world.store,
        engine=world.engine,
        figma=world.figma,
        ledger=world.ledger,
        relay=relay,
        leeway_seconds=300,
        clock=lambda: NOW,
        publish=lambda t, d: world.published.append((t, d)),
        end_user=ended or EndsConnections(),
        offline_access=offline,
        issuer=ISSUER,
    )


@dataclass
class EndsConnections:
    """EndUser.forget_unused_connection (test_proxy_and_sessions.py tests it), recording whom it ended."""

    ended: list[tuple[str, str]] = field(default_factory=list)

    def forget_unused_connection(self, user_id: str, reason: str = "logout") -> bool:
        self.ended.append((user_id, reason))
        return True


def at_figma(endpoint: str = RECEIVER, status: str = "ACTIVE") -> ProxyResponse:
    """Figma's GET /v2/webhooks/{id}: the passcode redacted, as Figma does."""
    return answer(200, {"id": "wh1", "endpoint": endpoint, "status": status, "passcode": ""})


def counts(**some: int) -> dict[str, int]:
    names = (
        *("webhooks", "published", "duplicate", "skipped", "failed", "tampered", "removed"),
        *("connections_ended", "live_moved", "watchers_forbidden"),
    )
    return {name: some.get(name, 0) for name in names}


def test_the_reconciliation_relays_each_logged_delivery_and_counts_what_happened() -> None:
    world, relay = World(), Relay(outcomes=["published", "duplicate", "ignored"])
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1")]
    world.figma.answers = [at_figma(), logged(delivery(n=1), delivery(n=2), delivery(n=3))]
    report = reconcile(world, relay).run()
    assert report == counts(webhooks=1, published=1, duplicate=1)
    assert [p["n"] for _, p in relay.seen] == [1, 2, 3] and {u for u, _ in relay.seen} == {USER}
    shown, requests = world.figma.calls
    assert (shown["target"], shown["method"], shown["token"]) == ("/v2/webhooks/wh1", "GET", "token-1")
    assert (requests["target"], requests["method"], requests["token"]) == (
        "/v2/webhooks/wh1/requests",
        "GET",
        "token-2",
    )


def test_the_reconciliation_relays_only_this_webhooks_well_formed_payloads() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1")]
    world.figma.answers = [
        at_figma(),
        answer(
            200,
            {
                "requests": [
                    {"request_info": {"payload": delivery()}},
                    {"request_info": {"payload": delivery("other")}},  # another webhook's
                    {"request_info": {"payload": {"webhook_id": "wh1", "event_type": 7}}},
                    {"request_info": {"payload": "a string"}},
                    {"request_info": {}},
                    "not a request",
                ]
            },
        ),
    ]
    assert reconcile(world, relay).run()["published"] == 1 and len(relay.seen) == 1


@pytest.mark.parametrize("raw", [b"<html>", b"[1, 2]", b'{"requests": []}'])
def test_a_log_figma_cannot_give_relays_nothing(raw: bytes) -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1")]
    world.figma.answers = [at_figma(), answer(200, raw=raw)]
    assert reconcile(world, relay).run() == counts(webhooks=1)


def test_the_reconciliation_skips_dead_grants_forgets_gone_connections_and_reads_each_connection_once() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection(status=REAUTH_REQUIRED)
    world.store.webhooks[USER] = [hook("a"), hook("b")]
    world.store.webhooks["gone"] = [hook("z", user_id="gone")]
    report = reconcile(world, relay).run()
    assert report == counts(webhooks=3, skipped=2, removed=1)  # a connection gone can reach Figma no more
    assert world.store.reads == 2 and world.figma.calls == [] and world.store.deleted == [("gone", "z")]


def test_a_failure_counts_and_the_pass_goes_on() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a"), hook("b"), hook("c")]
    world.store.webhooks[USER] = [hook("a"), hook("b", event_type="FILE_DELETE"), hook("c", event_type="FILE_COMMENT")]
    world.figma.answers = [answer(500, {}), at_figma(), answer(429, {}, {"Retry-After": "5"}), at_figma()]
    world.figma.answers.append(logged(delivery("c")))
    report = reconcile(world, relay).run()
    assert report == counts(webhooks=3, published=1, failed=2)
    assert len(world.store.limits) == 1 and world.store.limits[0].tier == 2


def test_a_dead_grant_met_while_reconciling_counts_as_failed() -> None:
    world, relay = World(engine=Engine(refuses=ReauthRequired())), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a")]
    assert reconcile(world, relay).run()["failed"] == 1 and world.figma.calls == []


def test_a_remembered_limit_skips_the_call_and_counts_as_failed() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection(rate_limits=(RateLimit(2, "user", NOW + timedelta(minutes=5)),))
    world.store.webhooks[USER] = [hook("a")]
    assert reconcile(world, relay).run()["failed"] == 1 and world.figma.calls == []


def test_the_pass_leaves_the_rest_to_the_next_run_with_under_30_seconds_left() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a"), hook("b", event_type="FILE_DELETE"), hook("c", event_type="FILE_COMMENT")]
    world.store.webhooks["u2"] = [hook("d", user_id="u2")]
    world.store.connections["u2"] = replace(connection(), user_id="u2")
    world.figma.answers = [at_figma(), logged(), at_figma(), logged()]
    left = iter([31.0, 31.0, 30.0, 29.9, 29.9])
    report = reconcile(world, relay).run(time_left=lambda: next(left))
    assert report["webhooks"] == 3 and [c["target"] for c in world.figma.calls] == [
        "/v2/webhooks/a",
        "/v2/webhooks/a/requests",
        "/v2/webhooks/b",
        "/v2/webhooks/b/requests",
    ]  # c waits for the next run, and so does u2


# -- backend access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["", "x" * 129, "tab\there", "new\nline"])
def test_anything_that_is_no_figma_user_id_names_no_connection(user_id: str) -> None:
    store = Store()
    with pytest.raises(NotFound) as missing:
        connection_of(store, user_id)
    assert missing.value.message == NO_CONNECTION and store.reads == 0


@pytest.mark.parametrize("user_id", ["1", "x" * 128, USER])
def test_a_figma_user_id_is_looked_up(user_id: str) -> None:
    assert checked_user_id(user_id) == user_id
    store = Store(connections={user_id: replace(connection(), user_id=user_id)})
    assert connection_of(store, user_id).user_id == user_id


@dataclass
class Backend(Store):
    touched: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, list[Session]] = field(default_factory=dict)

    def connection_touched(self, user_id: str) -> str | None:
        return self.touched.get(user_id)

    def user_sessions(self, user_id: str) -> list[Session]:
        return self.sessions.get(user_id, [])


class Ended(EndUser):
    """EndUser (test_sessions.py tests what it ends), recording whom it was asked to end."""

    def __init__(self) -> None:
        self.ended: list[tuple[str, bool]] = []

    def __call__(self, user_id: str, *, disconnect: bool) -> None:
        self.ended.append((user_id, disconnect))


def backend(store: Backend, engine: Engine | None = None, ended: Ended | None = None) -> BackendConnections:
    return BackendConnections(store=store, engine=engine or Engine(), end_user=ended or Ended(), leeway_seconds=300)


def test_the_backend_view_has_a_fresh_token() -> None:
    store, engine = Backend(connections={USER: connection()}), Engine()
    shown = backend(store, engine).view(USER)
    assert shown.provider.access_token == "token-1" and engine.calls == [(USER, 300, False)]
    with pytest.raises(NotFound):
        backend(store).view("nobody")


def test_the_backend_view_of_a_dead_grant_says_reauth_required() -> None:
    store = Backend(connections={USER: connection()})
    shown = backend(store, Engine(refuses=ReauthRequired())).view(USER)
    assert shown.provider.status == "reauth_required" and shown.provider.access_token is None


def test_a_disconnect_ends_the_user_when_a_connection_or_a_session_exists() -> None:
    store, ended = Backend(touched={USER: "2026-12-01T11:00:00Z"}), Ended()
    backend(store, ended=ended).disconnect(USER)
    session = Session("s", "sessions-only", NOW, NOW + timedelta(days=1))
    store.sessions["sessions-only"] = [session]
    backend(store, ended=ended).disconnect("sessions-only")
    assert ended.ended == [(USER, True), ("sessions-only", True)]


def test_a_disconnect_of_nobody_is_not_found_and_ends_nothing() -> None:
    store, ended = Backend(), Ended()
    for user_id in ("nobody", "", "x" * 129):
        with pytest.raises(NotFound):
            backend(store, ended=ended).disconnect(user_id)
    assert ended.ended == []


def test_unauthorized_is_not_swallowed_by_the_backend_view() -> None:
    store = Backend(connections={USER: connection()})
    with pytest.raises(Unauthorized):
        backend(store, Engine(refuses=Unauthorized())).view(USER)


def test_no_connection_and_no_jwts_say_so() -> None:
    with pytest.raises(NotFound) as missing:
        backend(Backend()).disconnect("nobody")
    assert missing.value.message == NO_CONNECTION == "No Figma connection for this user."
    with pytest.raises(NotFound) as bad:
        checked_user_id("")
    assert bad.value.message == NO_CONNECTION


def test_a_missing_connection_is_not_found_in_words() -> None:
    with pytest.raises(NotFound) as missing:
        connection_of(WebhookStore(), "nobody")
    assert missing.value.message == NO_CONNECTION


def test_the_backend_view_shows_the_connection_the_refresh_returned() -> None:
    store = Backend(
        connections={USER: replace(connection(), grant_expires_at=datetime(2026, 12, 1, 12, 1, tzinfo=UTC))}
    )
    shown = backend(store, Narrowing()).view(USER)  # type: ignore[arg-type]
    assert shown.provider.scopes == ["current_user:read"]


def test_a_create_and_a_webhook_left_at_figma_are_counted(emitted: list[str]) -> None:
    world = World()
    world.figma.answers = [answer(200, {"id": "a"})]
    world.webhooks().create(connection(), request(), issuer=ISSUER)
    world.store.connections[USER] = connection()
    world.figma.raises = ConnectionError("Figma is down")
    world.webhooks().drop_all(USER)
    assert emitted == ["WebhookCreated", "WebhookNotDeletedAtFigma"]


def test_the_scope_refusal_names_the_scope_and_what_to_send() -> None:
    with pytest.raises(InsufficientScope) as refused:
        World().webhooks().create(connection("current_user:read"), request(), issuer=ISSUER)
    assert refused.value.message == (
        "Creating a webhook needs the webhooks:write scope, which this user's Figma connection lacks: "
        "sign in again asking for it (scopes=…,webhooks:write)."
    )


def test_a_refusal_without_figmas_words_says_only_the_status() -> None:
    world = World()
    world.figma.answers = [answer(404, {"other": "field"})]
    with pytest.raises(FigmaError) as refused:
        world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert refused.value.message == "Figma refused the webhook (HTTP 404): "


def test_a_disconnect_without_a_connection_drops_every_webhook_here() -> None:
    world = World()
    world.store.webhooks["gone"] = [hook("y", user_id="gone"), hook("z", user_id="gone")]
    world.webhooks().drop_all("gone")
    assert world.store.deleted == [("gone", "y"), ("gone", "z")] and world.figma.calls == []


def test_the_reconciliation_asks_for_a_token_fresh_within_the_leeway_and_counts_every_outcome() -> None:
    world, relay = World(), Relay(outcomes=["published", "published", "duplicate", "duplicate"])
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1")]
    world.figma.answers = [
        at_figma(),
        answer(200, {"requests": [{}, *({"request_info": {"payload": delivery(n=i)}} for i in range(4))]}),
    ]
    report = reconcile(world, relay).run()
    assert (report["published"], report["duplicate"]) == (2, 2) and world.engine.calls == [(USER, 300, False)] * 2


def test_a_log_figma_refuses_is_named_by_its_status() -> None:
    world = World()
    world.figma.answers = [answer(403, {})]
    with pytest.raises(FigmaAuthError) as refused:
        reconcile(world, Relay())._requests(connection(), "wh1")
    assert refused.value.message == "Figma answered HTTP 403"


# -- one webhook per event and context; what a connection's end leaves ---------------------------------


def test_creating_a_webhook_the_user_holds_answers_that_one_without_figma() -> None:
    world = World()
    world.store.webhooks[USER] = [hook("held")]
    again = world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert (again.new, again.view.id) == (False, "held")
    assert world.figma.calls == [] and world.store.passcodes == []
    world.figma.answers = [answer(200, {"id": "other"})]
    other = world.webhooks().create(connection(), request(event_type="FILE_DELETE"), issuer=ISSUER)
    assert other.new and len(world.figma.calls) == 1  # another event type is another webhook


def test_a_create_that_loses_the_race_to_the_same_webhook_deletes_its_own_at_figma() -> None:
    world = World()
    world.store.slot_taken_by = hook("first")  # a second click's create was saved while ours was at Figma
    world.figma.answers = [answer(200, {"id": "second"}), answer(200, {})]
    created = world.webhooks().create(connection(), request(), issuer=ISSUER)
    assert (created.new, created.view.id) == (False, "first")
    assert [(c["method"], c["target"]) for c in world.figma.calls] == [
        ("POST", "/v2/webhooks"),
        ("DELETE", "/v2/webhooks/second"),
    ]
    assert world.store.saved == []


def test_a_connections_end_keeps_what_figma_could_not_delete_when_asked() -> None:
    world = World()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a"), hook("b", event_type="FILE_DELETE")]
    world.figma.answers = [answer(200, {}), answer(503, {})]
    assert world.webhooks().drop_all(USER, keep_undeleted=True) == 1
    assert world.store.deleted == [(USER, "a")] and [w.id for w in world.store.webhooks[USER]] == ["b"]
    world.figma.answers = [answer(500, {})]
    assert world.webhooks().drop_all(USER) == 1  # a disconnect: ours go all the same
    assert world.store.webhooks[USER] == []


def test_the_reconciliation_takes_back_a_webhook_pointed_elsewhere_with_a_new_passcode() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1", endpoint=RECEIVER)]
    world.store.passcode_hashes["wh1"] = hash_secret("the-old-passcode")
    world.figma.answers = [at_figma("https://attacker.example/hook"), logged(), answer(200, {})]
    report = reconcile(world, relay).run()
    assert report == counts(webhooks=1, tampered=1)
    shown, _, repaired = world.figma.calls
    assert (repaired["method"], repaired["target"]) == ("PUT", "/v2/webhooks/wh1")
    sent = json.loads(repaired["body"])
    assert sent["endpoint"] == RECEIVER and len(sent["passcode"]) == 43
    assert world.store.passcode_hashes["wh1"] == hash_secret(sent["passcode"]) != hash_secret("the-old-passcode")
    assert world.published == [("WebhookTampered", {"user_id": USER, "webhook_id": "wh1"})]
    assert sent["passcode"] not in repr(world.published)


def test_an_unchanged_endpoint_is_left_alone_and_a_webhook_made_before_endpoints_were_kept_is_checked_too() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1", endpoint=None)]  # compared with ISSUER's receiver
    world.figma.answers = [at_figma(), logged()]
    assert reconcile(world, relay).run() == counts(webhooks=1)
    assert [c["method"] for c in world.figma.calls] == ["GET", "GET"] and world.published == []


def test_a_failed_repair_counts_as_failed_and_keeps_the_passcode() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1")]
    world.store.passcode_hashes["wh1"] = "old"
    world.figma.answers = [at_figma("https://elsewhere.example"), logged(), answer(403, {})]
    assert reconcile(world, relay).run() == counts(webhooks=1, failed=1)
    assert world.store.passcode_hashes["wh1"] == "old" and world.published == []


def test_a_webhook_gone_at_figma_goes_here_and_one_figma_paused_shows_paused() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("gone"), hook("paused", event_type="FILE_DELETE")]
    world.figma.answers = [answer(404, {}), at_figma(status="PAUSED"), logged()]
    assert reconcile(world, relay).run() == counts(webhooks=2, removed=1)
    assert world.store.deleted == [(USER, "gone")]
    assert [(w.id, w.status) for w in world.store.webhooks[USER]] == [("paused", "paused")]


def test_a_second_webhook_for_the_same_event_and_context_goes_at_figma_and_here() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    older, newer = hook("older"), replace(hook("newer"), created_at=NOW)
    world.store.webhooks[USER] = [newer, older]
    world.figma.answers = [answer(200, {}), at_figma(), logged()]
    assert reconcile(world, relay).run() == counts(webhooks=2, removed=1)
    assert [(c["method"], c["target"]) for c in world.figma.calls][0] == ("DELETE", "/v2/webhooks/newer")
    assert [w.id for w in world.store.webhooks[USER]] == ["older"]


def test_a_connection_whose_sessions_all_ended_is_ended_with_its_webhooks() -> None:
    world, relay, ended = World(), Relay(), EndsConnections()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a")]
    world.store.sessions[USER] = [Session("s", USER, NOW - timedelta(days=31), NOW)]  # expired now
    assert reconcile(world, relay, ended=ended).run() == counts(webhooks=1, removed=1, connections_ended=1)
    assert ended.ended == [(USER, "expired")] and world.figma.calls == []


def test_with_offline_access_a_connection_without_sessions_keeps_its_webhooks() -> None:
    world, relay, ended = World(), Relay(), EndsConnections()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("a")]
    world.store.sessions[USER] = []
    world.figma.answers = [at_figma(), logged()]
    assert reconcile(world, relay, ended=ended, offline=True).run() == counts(webhooks=1)
    assert ended.ended == []


def test_a_delivery_sent_elsewhere_since_the_passcode_was_set_gives_a_new_one_though_the_endpoint_is_back() -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1", endpoint=RECEIVER)]  # created a day ago
    away = logged(delivery(), endpoint="https://attacker.example/hook", sent_at="2026-12-01T11:59:00Z")
    world.figma.answers = [at_figma(), away, answer(200, {})]
    assert reconcile(world, relay).run() == counts(webhooks=1, tampered=1, published=1)
    assert world.figma.calls[-1]["method"] == "PUT" and world.store.webhooks[USER][0].passcode_set_at == NOW
    # The next run sees the same log entry, older than the new passcode: nothing to repair.
    world.figma.answers = [at_figma(), away]
    assert reconcile(world, relay).run() == counts(webhooks=1, published=1)


@pytest.mark.parametrize("sent_at", ["2026-11-30T11:00:00Z", "not a time", None])
def test_a_delivery_sent_elsewhere_before_the_passcode_was_set_or_at_no_known_time_is_no_evidence(sent_at: Any) -> None:
    world, relay = World(), Relay()
    world.store.connections[USER] = connection()
    world.store.webhooks[USER] = [hook("wh1", endpoint=RECEIVER)]  # created 2026-11-30T12:00
    world.figma.answers = [at_figma(), logged(delivery(), endpoint="https://old.example", sent_at=sent_at)]
    assert reconcile(world, relay).run()["tampered"] == 0


# -- the reconciliation's watcher checks: a user's files in turn, within their Tier-2 budget --------


def test_a_user_watching_few_files_has_every_one_checked_in_every_run() -> None:
    watching = {"F1": ["ada", "ada", "grace"], "F2": ["ada"], "F3": ["grace"]}

    for run in range(3):
        assert checks_due(watching, 2, run) == {("ada", "F1"), ("ada", "F2"), ("grace", "F1"), ("grace", "F3")}


@pytest.mark.parametrize("files", [3, 5, 8])
def test_a_user_watching_many_files_is_asked_two_a_run_and_each_file_within_ceil_n_over_2_runs(files: int) -> None:
    watching = {f"F{i}": ["ada"] for i in range(files)}
    window = -(-files // 2)

    runs = [checks_due(watching, 2, run) for run in range(100, 100 + 3 * window)]

    assert all(len(due) == 2 for due in runs)
    for start in range(len(runs) - window + 1):
        assert set().union(*runs[start : start + window]) == {("ada", f) for f in watching}
