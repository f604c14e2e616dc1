"""Starting and completing a sign-in, and token mode's ticket, without a stack: what authorize
stores and sends to Figma, what the callback trusts, what one sign-in writes, when it goes
back to Figma for the union of scopes, and the ticket's one redemption
(integration/test_login.py, test_scopes.py and test_token_mode.py run them end to end)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from figma_auth.credentials import Credentials, tx_cookie_name
from figma_auth.errors import (
    AccessDenied,
    FigmaAuthError,
    FigmaError,
    InvalidGrant,
    InvalidRedirect,
    InvalidRequest,
    InvalidScope,
    InvalidState,
    Unauthorized,
)
from figma_auth.figma import CodeExchange, FigmaUser, TokenRejected
from figma_auth.models.sign_in import AuthorizeQuery
from figma_auth.models.tokens import TokenRequest
from figma_auth.models.views import ProviderInfo, SessionInfo, SessionView, UserInfo
from figma_auth.oauth import FigmaGrant, pkce_challenge
from figma_auth.records import Connection, Current, Profile, Session
from figma_auth.records.completion import LoginDone, SignInWrite, Ticket
from figma_auth.records.signin import LoginStart
from figma_auth.settings import Settings
from figma_auth.tokens import derive, hash_secret, random_token, user_of_token
from figma_auth.usecases.authorize import StartSignIn
from figma_auth.usecases.signin import TICKET_PURPOSE, CompleteSignIn, RedeemTicket
from figma_auth.vault import SealedBox, grant_context, seal_with_secret
from tests.support.environment import GOOD
from tests.support.fakes import Tickets, Transactions

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CALLBACK = "https://api.example.com/auth/figma/callback"
APP = "https://app.example.com"
SCOPES = "current_user:read,file_content:read,file_comments:read"
SETTINGS = Settings.from_env({**GOOD, "ALLOWED_SCOPES": SCOPES})
ADA = FigmaUser("1143925780461227139", "Ada Lovelace", "ada@example.com", "https://img.example/ada.png")


# -- in-memory parts, with the table's rules -----------------------------------------------------


@dataclass
class CallbackStore(Transactions):
    connections: dict[str, Connection] = field(default_factory=dict)
    signed_in: list[tuple[SignInWrite, Connection]] = field(default_factory=list)
    joined: list[tuple[str, SignInWrite]] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    join_finds_connection: bool = True

    def deny_device(self, device_hash: str) -> bool:
        self.denied.append(device_hash)
        return True

    def connection_scopes(self, user_id: str) -> tuple[str, ...] | None:
        conn = self.connections.get(user_id)
        return conn.scopes if conn else None

    def sign_in(self, write: SignInWrite, connection: Connection) -> bool:
        self.signed_in.append((write, connection))
        self.connections[connection.user_id] = connection
        return True

    def join_connection(self, user_id: str, write: SignInWrite) -> bool:
        if not self.join_finds_connection:
            return False
        self.joined.append((user_id, write))
        return True


@dataclass
class Figma:
    """The token endpoint and /v1/me, as the callback calls them."""

    scopes_granted: tuple[str, ...] | None = None  # None: what was asked
    me_rejects: bool = False
    user_id_hint: str | None = None
    user: FigmaUser = ADA
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    me_calls: list[str] = field(default_factory=list)

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None, scopes: tuple[str, ...], now: datetime
    ) -> CodeExchange:
        self.exchanges.append({"code": code, "redirect_uri": redirect_uri, "verifier": code_verifier, "scopes": scopes})
        grant = FigmaGrant(
            access_token=f"figma-access-{len(self.exchanges)}",
            refresh_token=f"figma-refresh-{len(self.exchanges)}",
            expires_at=now + timedelta(days=90),
            scopes=self.scopes_granted if self.scopes_granted is not None else scopes,
        )
        return CodeExchange(grant, self.user_id_hint)

    def me(self, access_token: str) -> FigmaUser:
        self.me_calls.append(access_token)
        if self.me_rejects:
            raise TokenRejected("Figma refused the token")
        return self.user


@dataclass
class Vault:
    sealed: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def seal(self, plaintext: dict[str, Any], context: dict[str, str]) -> SealedBox:
        self.sealed.append((plaintext, context))
        return SealedBox(b"key", b"n" * 12, json.dumps(plaintext).encode())


@dataclass
class World:
    store: CallbackStore = field(default_factory=CallbackStore)
    figma: Figma = field(default_factory=Figma)
    vault: Vault = field(default_factory=Vault)
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    clock: list[datetime] = field(default_factory=lambda: [NOW])
    current: Current | None = None  # what authenticate() finds for a signed-in browser
    settings: Settings = SETTINGS
    offline: bool = False

    def authenticate(self, creds: Credentials) -> Current:
        if self.current is None or creds.token != "signed-in-token":
            raise Unauthorized()
        return self.current

    def login(self) -> StartSignIn:
        return StartSignIn(
            settings=self.settings, store=self.store, authenticate=self.authenticate, clock=lambda: self.clock[0]
        )

    def callback(self) -> CompleteSignIn:
        return CompleteSignIn(
            store=self.store,
            vault=self.vault,
            figma=self.figma,
            clock=lambda: self.clock[0],
            publish=lambda kind, detail: self.published.append((kind, detail)),
            restart=self.login().begin,
            session_ttl_days=30,
            offline_access=self.offline,
        )

    def device_login(self) -> LoginStart:
        """The Figma leg of a device sign-in, as the verify page's confirm begins it."""
        return self.login().begin(
            success=f"{APP}/ok",
            failure=f"{APP}/failed",
            scopes=("current_user:read",),
            mode="cookie",
            app_challenge=None,
            callback_url=CALLBACK,
            device_hash="device-1",
        )

    def start(self, creds: Credentials | None = None, **query: Any) -> LoginStart:
        params = AuthorizeQuery(**{"success": f"{APP}/ok", "failure": f"{APP}/failed", **query})
        return self.login().start(params, callback_url=CALLBACK, creds=creds)


def figma_query(started: LoginStart) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(started.redirect_url).query).items()}


def cookies_of(started: LoginStart) -> dict[str, str]:
    return {started.tx_cookie_name: started.tx_cookie_value}


def came_back(world: World, started: LoginStart, **figma_says: str) -> tuple[LoginDone | LoginStart, Any]:
    """Figma's redirect to the callback for ``started``: the callback's answer and the tx."""
    query = {"state": figma_query(started)["state"], "code": "figma-code", **figma_says}
    callback = world.callback()
    tx, verifier = callback.take_transaction(query, cookies_of(started))
    return callback.complete(tx, verifier, query), tx


def connection_of(user_id: str, scopes: tuple[str, ...]) -> Connection:
    return Connection(user_id, Profile("Ada", "", ""), scopes)


# -- authorize ------------------------------------------------------------------------------------


def test_authorize_stores_only_hashes_and_sends_figma_exactly_what_oauth_asks() -> None:
    world = World()
    started = world.start(scopes="file_content:read")
    (tx,) = world.store.put
    assert world.store.items[tx.state_hash].success_url == ""  # the item keeps only the URLs' hash
    sent = figma_query(started)
    browser_secret, _, carried = started.tx_cookie_value.partition(".")

    assert started.redirect_url.startswith("https://www.figma.com/oauth?")
    assert sent["client_id"] == "cid" and sent["redirect_uri"] == CALLBACK and sent["response_type"] == "code"
    assert sent["scope"] == "current_user:read,file_content:read"  # who signed in, always first
    assert len(sent["state"]) == 43 and tx.state_hash == hash_secret(sent["state"])
    assert tx.binding == derive(browser_secret, "binding:" + sent["state"])
    verifier = derive(browser_secret, "pkce:" + sent["state"])
    assert sent["code_challenge"] == pkce_challenge(verifier) and sent["code_challenge_method"] == "S256"
    assert verifier not in repr(tx) and browser_secret not in repr(tx)  # the verifier is never stored
    assert json.loads(base64.urlsafe_b64decode(carried + "=" * (-len(carried) % 4))) == [f"{APP}/ok", f"{APP}/failed"]
    assert tx.urls_hash == hash_secret(carried)
    assert (tx.success_url, tx.failure_url, tx.redirect_uri) == (f"{APP}/ok", f"{APP}/failed", CALLBACK)
    assert (tx.mode, tx.pkce, tx.app_challenge, tx.device_hash, tx.widened) == ("cookie", True, None, None, False)
    assert tx.scopes == ("current_user:read", "file_content:read")
    assert tx.expires_at == NOW + timedelta(minutes=10)
    assert started.tx_cookie_name == tx_cookie_name(sent["state"]) and started.tx_cookie_max_age == 600
    assert len(browser_secret) == 43


def test_two_starts_share_no_state_secret_or_cookie() -> None:
    world = World()
    a, b = world.start(), world.start()
    assert figma_query(a)["state"] != figma_query(b)["state"]
    assert a.tx_cookie_name != b.tx_cookie_name and a.tx_cookie_value != b.tx_cookie_value
    assert len(world.store.items) == 2


def test_without_pkce_figma_gets_no_challenge() -> None:
    world = World(settings=Settings.from_env({**GOOD, "FIGMA_PKCE": "false"}))
    started = world.start()
    assert "code_challenge" not in figma_query(started) and "code_challenge_method" not in figma_query(started)
    (tx,) = world.store.items.values()
    assert tx.pkce is False


def test_no_scopes_asks_for_the_default_and_base_ones_once_each() -> None:
    world = World(
        settings=Settings.from_env(
            {
                **GOOD,
                "ALLOWED_SCOPES": SCOPES,
                "DEFAULT_SCOPES": "file_content:read",
                "BASE_SCOPES": "file_comments:read",
            }
        )
    )
    assert world.login().requested_scopes(None) == ("current_user:read", "file_comments:read", "file_content:read")
    assert world.login().requested_scopes("file_content:read,current_user:read") == (
        "current_user:read",
        "file_comments:read",
        "file_content:read",
    )


def test_a_scope_outside_allowed_scopes_is_refused_by_name() -> None:
    with pytest.raises(InvalidScope) as refused:
        World().login().requested_scopes("file_content:read,webhooks:write")
    assert "'webhooks:write'" in refused.value.message and "ALLOWED_SCOPES" in refused.value.message


def test_token_mode_keeps_the_apps_challenge_and_needs_one() -> None:
    world = World()
    challenge = pkce_challenge("v" * 43)
    world.start(mode="token", code_challenge=challenge)
    (tx,) = world.store.items.values()
    assert (tx.mode, tx.app_challenge) == ("token", challenge)
    with pytest.raises(InvalidRequest) as refused:
        world.start(mode="token")
    assert "code_challenge" in refused.value.message
    assert len(world.store.items) == 1  # nothing stored for the refusal


def test_a_cookie_mode_challenge_is_ignored() -> None:
    world = World()
    world.start(code_challenge=pkce_challenge("v" * 43))
    (tx,) = world.store.items.values()
    assert tx.app_challenge is None


def test_a_return_url_outside_allowed_origins_stores_nothing() -> None:
    world = World()
    with pytest.raises(FigmaAuthError):
        world.start(success="https://evil.example.com/ok")
    with pytest.raises(FigmaAuthError):
        world.start(failure="https://evil.example.com/failed")
    assert world.store.items == {}


def test_a_signed_in_users_new_sign_in_asks_for_what_their_connection_holds_too() -> None:
    world = World()
    held = ("current_user:read", "file_comments:read")
    now = NOW
    world.current = Current(Session("s", ADA.id, now, now + timedelta(days=1)), connection_of(ADA.id, held))
    world.start(creds=Credentials("signed-in-token", "cookie"), scopes="file_content:read")
    world.start(creds=Credentials("someone-else", "cookie"), scopes="file_content:read")  # Unauthorized: as asked
    world.start(creds=Credentials(None, "cookie"), scopes="file_content:read")
    first, second, third = world.store.items.values()
    assert first.scopes == ("current_user:read", "file_comments:read", "file_content:read")
    assert second.scopes == third.scopes == ("current_user:read", "file_content:read")


def test_authorize_checks_both_return_urls_against_allowed_redirect_urls() -> None:
    settings = Settings.from_env({**GOOD, "ALLOWED_REDIRECT_URLS": "https://app.example.com/ok"})
    login = StartSignIn(settings=settings, store=None, authenticate=None, clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    for success, failure in (
        ("https://app.example.com/elsewhere", "https://app.example.com/ok"),
        ("https://app.example.com/ok", "https://app.example.com/elsewhere"),
    ):
        with pytest.raises(InvalidRedirect):
            login.start(AuthorizeQuery(success=success, failure=failure), callback_url="https://api.example.com/cb")
    with pytest.raises(InvalidRequest) as refused:
        login.start(
            AuthorizeQuery(success="https://app.example.com/ok", failure="https://app.example.com/ok", mode="token"),
            callback_url="https://api.example.com/cb",
        )
    assert refused.value.message == "token mode needs code_challenge: the S256 challenge (43 chars) of your verifier"


# -- the callback: what it trusts -------------------------------------------------------------------


def test_the_callback_takes_its_transaction_with_the_urls_and_verifier_the_cookie_carries() -> None:
    world = World()
    started = world.start()
    state = figma_query(started)["state"]
    tx, verifier = world.callback().take_transaction({"state": state}, cookies_of(started))
    browser_secret = started.tx_cookie_value.partition(".")[0]
    assert (tx.success_url, tx.failure_url) == (f"{APP}/ok", f"{APP}/failed")
    assert verifier == derive(browser_secret, "pkce:" + state)
    assert world.store.items == {}  # taken: a second callback finds nothing
    with pytest.raises(InvalidState):
        world.callback().take_transaction({"state": state}, cookies_of(started))


def tampered(value: str) -> str:
    secret, _, carried = value.partition(".")
    other = base64.urlsafe_b64encode(json.dumps(["https://evil.example.com", "x"]).encode()).decode().rstrip("=")
    return f"{secret}.{other}"


@pytest.mark.parametrize(
    "cookie",
    [
        lambda v: None,  # no cookie
        lambda v: "",  # empty
        lambda v: v.partition(".")[2],  # no browser secret
        lambda v: "." + v.partition(".")[2],
        lambda v: v.partition(".")[0] + ".",  # nothing carried
        lambda v: v.partition(".")[0],
        lambda v: "x" * 129 + "." + v.partition(".")[2],  # an oversized secret
        lambda v: v.partition(".")[0] + "." + "A" * 3001,  # oversized URLs
        lambda v: random_token(32) + "." + v.partition(".")[2],  # another browser's secret
        tampered,  # other URLs than the ones authorize was given
    ],
)
def test_the_callback_refuses_a_login_that_is_not_this_browsers(cookie: Any) -> None:
    world = World()
    started = world.start()
    value = cookie(started.tx_cookie_value)
    cookies = {} if value is None else {started.tx_cookie_name: value}
    with pytest.raises(InvalidState):
        world.callback().take_transaction({"state": figma_query(started)["state"]}, cookies)
    assert world.figma.exchanges == []


@pytest.mark.parametrize("state", [None, "", "a" * 42, "a" * 44, "!" * 43])
def test_a_missing_or_malformed_state_is_invalid_state(state: str | None) -> None:
    world = World()
    started = world.start()
    query = {} if state is None else {"state": state}
    with pytest.raises(InvalidState):
        world.callback().take_transaction(query, cookies_of(started))
    assert len(world.store.items) == 1  # the real transaction is still there


def test_an_expired_transaction_is_invalid_state() -> None:
    world = World()
    started = world.start()
    world.clock[0] = NOW + timedelta(minutes=10)
    with pytest.raises(InvalidState):
        world.callback().take_transaction({"state": figma_query(started)["state"]}, cookies_of(started))


def test_carried_urls_that_are_not_json_are_invalid_state() -> None:
    world = World()
    started = world.start()
    secret = started.tx_cookie_value.partition(".")[0]
    carried = base64.urlsafe_b64encode(b"not json").decode().rstrip("=")
    (tx,) = world.store.items.values()
    world.store.items[tx.state_hash] = replace(tx, urls_hash=hash_secret(carried))
    with pytest.raises(InvalidState):
        world.callback().take_transaction(
            {"state": figma_query(started)["state"]}, {started.tx_cookie_name: f"{secret}.{carried}"}
        )


# -- the callback: one sign-in ----------------------------------------------------------------------


def test_a_first_sign_in_writes_the_session_and_a_sealed_connection_and_says_so_once() -> None:
    world = World()
    started = world.start(scopes="file_content:read")
    done, tx = came_back(world, started)

    assert isinstance(done, LoginDone) and done.redirect_url == f"{APP}/ok" and done.session_token
    (exchange,) = world.figma.exchanges
    assert exchange == {
        "code": "figma-code",
        "redirect_uri": CALLBACK,
        "verifier": derive(started.tx_cookie_value.partition(".")[0], "pkce:" + figma_query(started)["state"]),
        "scopes": ("current_user:read", "file_content:read"),
    }
    assert world.figma.me_calls == ["figma-access-1"]
    ((write, conn),) = world.store.signed_in
    assert write.session is not None and write.ticket is None and write.device is None and write.offline is False
    session = write.session
    assert session.id == hash_secret(done.session_token) and user_of_token(done.session_token) == ADA.id
    assert (session.user_id, session.created_at, session.expires_at) == (ADA.id, NOW, NOW + timedelta(days=30))
    assert (session.client, session.activated) == ("web", True)
    assert (conn.user_id, conn.profile) == (ADA.id, Profile(ADA.handle, ADA.email, ADA.img_url))
    assert conn.scopes == ("current_user:read", "file_content:read")
    assert conn.grant_expires_at == NOW + timedelta(days=90)
    assert conn.signed_in_ms == int(NOW.timestamp() * 1000)
    assert world.vault.sealed == [
        ({"access_token": "figma-access-1", "refresh_token": "figma-refresh-1"}, grant_context(ADA.id))
    ]
    assert "figma-access-1" not in repr(conn) and "figma-refresh-1" not in repr(conn)
    assert world.published == [("ConnectionCreated", {"user_id": ADA.id, "scopes": list(conn.scopes)})]

    came_back(world, world.start(scopes="file_content:read"))  # the same user again: no second event
    assert len(world.published) == 1 and len(world.store.signed_in) == 2


def test_without_pkce_figma_gets_no_verifier() -> None:
    world = World(settings=Settings.from_env({**GOOD, "FIGMA_PKCE": "false"}))
    came_back(world, world.start())
    assert world.figma.exchanges[0]["verifier"] is None


def test_offline_access_marks_the_write() -> None:
    world = World(offline=True)
    came_back(world, world.start())
    assert world.store.signed_in[0][0].offline is True


def test_figmas_access_denied_is_access_denied_and_other_errors_figma_error() -> None:
    world = World()
    with pytest.raises(AccessDenied):
        came_back(world, world.start(), error="access_denied")
    with pytest.raises(FigmaError) as other:
        came_back(world, world.start(), error="server_error")
    assert other.value.message == "Figma returned an error"
    assert world.figma.exchanges == [] and world.store.signed_in == [] and world.store.denied == []


def test_a_device_logins_access_denied_denies_the_device() -> None:
    world = World()
    started = world.device_login()
    with pytest.raises(AccessDenied):
        came_back(world, started, error="access_denied")
    assert world.store.denied == ["device-1"]


@pytest.mark.parametrize("code", ["", "c" * 513, "café", "a\nb", "tab\there"])
def test_an_unusable_code_never_reaches_figma(code: str) -> None:
    world = World()
    with pytest.raises(FigmaError) as refused:
        came_back(world, world.start(), code=code)
    assert refused.value.message == "Figma returned no usable code" and world.figma.exchanges == []


def test_the_longest_code_is_accepted() -> None:
    world = World()
    came_back(world, world.start(), code="c" * 512)
    assert world.figma.exchanges[0]["code"] == "c" * 512


def test_a_user_id_longer_than_any_figma_id_is_refused() -> None:
    world = World(figma=Figma(user=replace(ADA, id="9" * 129)))
    with pytest.raises(FigmaError) as refused:
        came_back(world, world.start())
    assert "user id" in refused.value.message and world.store.signed_in == []
    world = World(figma=Figma(user=replace(ADA, id="9" * 128)))
    came_back(world, world.start())
    assert world.store.signed_in[0][1].user_id == "9" * 128


# -- a sign-in never narrows the connection -----------------------------------------------------------


def test_a_narrower_grant_goes_back_to_figma_once_for_the_union_and_writes_nothing() -> None:
    world = World()
    world.store.connections[ADA.id] = connection_of(ADA.id, ("current_user:read", "file_comments:read"))
    answer, tx = came_back(world, world.start(scopes="file_content:read"))

    assert isinstance(answer, LoginStart) and world.store.signed_in == [] and world.published == []
    widened = world.store.put[-1]
    assert len(world.store.items) == 1 and widened.widened is True
    assert widened.scopes == ("current_user:read", "file_content:read", "file_comments:read")
    assert figma_query(answer)["scope"] == "current_user:read,file_content:read,file_comments:read"
    assert (widened.success_url, widened.failure_url, widened.mode) == (tx.success_url, tx.failure_url, tx.mode)
    assert (widened.redirect_uri, widened.app_challenge, widened.device_hash) == (CALLBACK, None, None)

    # Figma's second answer is final, even if narrower still: the session is created on it.
    world.figma.scopes_granted = ("current_user:read",)
    done, _ = came_back(world, answer)
    assert isinstance(done, LoginDone) and len(world.store.signed_in) == 1


def test_a_grant_holding_what_the_connection_holds_signs_in_at_once() -> None:
    world = World()
    world.store.connections[ADA.id] = connection_of(ADA.id, ("current_user:read",))
    done, _ = came_back(world, world.start(scopes="file_content:read"))
    assert isinstance(done, LoginDone) and len(world.store.signed_in) == 1 and world.published == []


def test_a_widened_device_login_keeps_its_device() -> None:
    world = World()
    world.store.connections[ADA.id] = connection_of(ADA.id, ("current_user:read", "file_comments:read"))
    started = world.device_login()
    answer, _ = came_back(world, started)
    assert isinstance(answer, LoginStart)
    (widened,) = world.store.items.values()
    assert widened.device_hash == "device-1" and widened.widened


# -- Figma keeps one token per user: a race of two sign-ins -------------------------------------------


def test_a_token_replaced_by_a_newer_sign_in_joins_that_sign_ins_connection() -> None:
    world = World(figma=Figma(me_rejects=True, user_id_hint=ADA.id))
    done, _ = came_back(world, world.start())
    assert isinstance(done, LoginDone) and done.session_token
    ((user_id, write),) = world.store.joined
    assert user_id == ADA.id and write.session is not None and write.session.id == hash_secret(done.session_token)
    assert world.store.signed_in == [] and world.vault.sealed == []


def test_a_rejected_token_without_a_user_hint_is_figmas_error() -> None:
    world = World(figma=Figma(me_rejects=True))
    with pytest.raises(TokenRejected):
        came_back(world, world.start())
    assert world.store.joined == [] and world.store.signed_in == []


def test_nothing_to_join_is_figmas_error_in_words() -> None:
    world = World(figma=Figma(me_rejects=True, user_id_hint=ADA.id), store=CallbackStore(join_finds_connection=False))
    with pytest.raises(FigmaError) as refused:
        came_back(world, world.start())
    assert refused.value.message == "Figma refused the token it had just issued; sign in again"


# -- token mode and device sign-ins -----------------------------------------------------------------


def test_token_mode_writes_an_unactivated_session_and_a_60_second_ticket_in_the_fragment() -> None:
    world = World()
    challenge = pkce_challenge("v" * 43)
    done, _ = came_back(world, world.start(mode="token", code_challenge=challenge))

    assert isinstance(done, LoginDone)
    assert done.redirect_url.startswith(f"{APP}/ok#ticket=")  # in the fragment: never sent to a server
    ticket_value = done.redirect_url.split("#ticket=")[1]
    ((write, _),) = world.store.signed_in
    assert write.session is not None and write.ticket is not None
    assert (write.session.client, write.session.activated) == ("token", False)
    ticket = write.ticket
    assert ticket.ticket_hash == hash_secret(ticket_value) and len(ticket_value) == 32
    assert (ticket.session_id, ticket.app_challenge) == (write.session.id, challenge)
    assert ticket.expires_at == NOW + timedelta(seconds=60)
    assert ticket_value.encode() not in ticket.sealed_token


def test_a_token_mode_transaction_without_a_challenge_is_our_error() -> None:
    world = World()
    started = world.start(mode="token", code_challenge=pkce_challenge("v" * 43))
    (tx,) = world.store.items.values()
    world.store.items[tx.state_hash] = replace(tx, app_challenge=None)
    with pytest.raises(FigmaAuthError) as failed:
        came_back(world, started)
    assert type(failed.value) is FigmaAuthError and world.store.signed_in == []


def test_a_device_login_writes_an_approval_not_a_session() -> None:
    world = World(offline=True)
    started = world.device_login()
    done, _ = came_back(world, started)
    assert isinstance(done, LoginDone) and done.session_token is None and done.redirect_url == f"{APP}/ok"
    ((write, _),) = world.store.signed_in
    assert write.session is None and write.offline is True and write.device is not None
    approval = write.device
    assert (approval.device_hash, approval.user_id, approval.now) == ("device-1", ADA.id, NOW)
    assert approval.lives_until == NOW + timedelta(days=30)


# -- token mode's ticket ----------------------------------------------------------------------------


def view(creds: Credentials) -> SessionView:
    return SessionView(
        session=SessionInfo(
            id=hash_secret(creds.token or ""), created_at="2026-12-01T12:00:00Z", expires_at="2026-12-31T12:00:00Z"
        ),
        user=UserInfo(id=ADA.id, handle=ADA.handle, email="", img_url=""),
        provider=ProviderInfo(
            expires_at=None,
            scopes=["current_user:read", "file_content:read"],
            revoked_scopes=[],
            rate_limits=[],
            status="active",
        ),
    )


def ticketed(verifier: str = "v" * 43, **overrides: Any) -> tuple[Tickets, str, str]:
    token, ticket_value = "the-session-token", random_token(24)
    ticket = Ticket(
        ticket_hash=hash_secret(ticket_value),
        session_id=hash_secret(token),
        app_challenge=pkce_challenge(verifier),
        sealed_token=seal_with_secret(ticket_value, token.encode(), purpose=TICKET_PURPOSE),
        expires_at=NOW + timedelta(seconds=60),
    )
    store = Tickets({ticket.ticket_hash: replace(ticket, **overrides)})
    return store, ticket_value, token


def redeem(store: Tickets, ticket: str, verifier: str, now: datetime = NOW) -> Any:
    return RedeemTicket(store=store, view=view, clock=lambda: now)(TokenRequest(ticket=ticket, code_verifier=verifier))


def test_a_ticket_and_its_verifier_trade_once_for_the_session_token() -> None:
    store, ticket, token = ticketed()
    answer = redeem(store, ticket, "v" * 43)
    assert answer.access_token == answer.session_token == token and answer.token_type == "Bearer"
    assert answer.expires_in == int((datetime(2026, 12, 31, 12, 0, tzinfo=UTC) - NOW).total_seconds())
    assert answer.scope == "current_user:read file_content:read" and answer.session.id == hash_secret(token)
    assert store.activated == [hash_secret(token)] and store.deleted == []
    with pytest.raises(InvalidGrant):  # burnt
        redeem(store, ticket, "v" * 43)


def test_a_wrong_verifier_burns_the_ticket_and_ends_its_session() -> None:
    store, ticket, token = ticketed()
    with pytest.raises(InvalidGrant):
        redeem(store, ticket, "w" * 43)
    assert store.deleted == [hash_secret(token)] and store.activated == [] and store.tickets == {}


def test_a_ticket_at_its_60_seconds_is_spent() -> None:
    store, ticket, _ = ticketed()
    with pytest.raises(InvalidGrant):
        redeem(store, ticket, "v" * 43, now=NOW + timedelta(seconds=60))
    store, ticket, _ = ticketed()
    redeem(store, ticket, "v" * 43, now=NOW + timedelta(seconds=59))


def test_an_unknown_ticket_a_tampered_seal_or_a_failed_activation_is_invalid_grant() -> None:
    store, _, _ = ticketed()
    with pytest.raises(InvalidGrant):
        redeem(store, random_token(24), "v" * 43)
    store, ticket, _ = ticketed(sealed_token=b"\x00" * 40)
    with pytest.raises(InvalidGrant):
        redeem(store, ticket, "v" * 43)
    assert store.activated == []
    store, ticket, _ = ticketed()
    store.activation_fails = True
    with pytest.raises(InvalidGrant):
        redeem(store, ticket, "v" * 43)


def test_a_widening_and_a_joined_sign_in_are_counted(emitted: list[str]) -> None:
    world = World()
    world.store.connections[ADA.id] = connection_of(ADA.id, ("current_user:read", "file_comments:read"))
    came_back(world, world.start(scopes="file_content:read"))
    joined = World(figma=Figma(me_rejects=True, user_id_hint=ADA.id))
    came_back(joined, joined.start())
    plain = World()
    came_back(plain, plain.start())
    assert emitted == ["SignInWidened", "SignInJoinedNewerGrant"]


# -- what the callback checks before it reads the table ------------------------------------------------


@pytest.mark.parametrize(
    ("secret_len", "carried_len", "consulted"),
    [(128, None, True), (129, None, False), (43, 3000, True), (43, 3001, False), (43, 0, False), (0, None, False)],
)
def test_the_cookies_sizes_are_checked_before_the_transaction_is_spent(
    secret_len: int, carried_len: int | None, consulted: bool
) -> None:
    world = World()
    started = world.start()
    _, _, carried = started.tx_cookie_value.partition(".")
    cookie = "s" * secret_len + "." + ("A" * carried_len if carried_len is not None else carried)
    with pytest.raises(InvalidState):
        world.callback().take_transaction({"state": figma_query(started)["state"]}, {started.tx_cookie_name: cookie})
    assert world.store.taken == (1 if consulted else 0)
    assert len(world.store.items) == 1  # a bogus cookie spends nobody's sign-in, consulted or not


@pytest.mark.parametrize("path", ["/a", "/ab", "/abc", "/abcd"])
def test_carried_urls_of_every_length_come_back_exactly(path: str) -> None:
    world = World()
    started = world.start(success=f"{APP}{path}", failure=f"{APP}/f{path}")
    tx, _ = world.callback().take_transaction({"state": figma_query(started)["state"]}, cookies_of(started))
    assert (tx.success_url, tx.failure_url) == (f"{APP}{path}", f"{APP}/f{path}")


def test_carried_urls_come_back_whatever_the_length_of_their_encoding() -> None:
    """The carried URLs' base64 length takes every value (mod 20) its padding arithmetic must
    handle: 10, 14 and 15 characters more than a multiple of 20 need "=" a wrong count omits."""
    encoded: set[int] = set()
    for n in range(1, 41):
        world = World()
        started = world.start(success=f"{APP}/{'a' * n}")
        encoded.add(len(started.tx_cookie_value.partition(".")[2]) % 20)
        tx, _ = world.callback().take_transaction({"state": figma_query(started)["state"]}, cookies_of(started))
        assert tx.success_url == f"{APP}/{'a' * n}", n
    assert encoded >= {10, 14, 15}


def test_carried_urls_at_the_cookies_3000_character_limit_come_back() -> None:
    """Quotes count twice in the carried JSON ("\\""): URLs with many of them reach the limit. The
    JSON is written without spaces, so these exactly reach it (with ", " they would pass it)."""
    success, failure = f"{APP}/{'"' * 548}aaa", f"{APP}/{'"' * 548}"
    world = World()
    started = world.start(success=success, failure=failure)
    assert len(started.tx_cookie_value.partition(".")[2]) == 3000

    tx, _ = world.callback().take_transaction({"state": figma_query(started)["state"]}, cookies_of(started))

    assert (tx.success_url, tx.failure_url) == (success, failure)


def test_no_code_and_a_one_character_code() -> None:
    world = World()
    started = world.start()
    callback = world.callback()
    query = {"state": figma_query(started)["state"]}
    tx, verifier = callback.take_transaction(query, cookies_of(started))
    with pytest.raises(FigmaError) as refused:
        callback.complete(tx, verifier, query)
    assert refused.value.message == "Figma returned no usable code"
    came_back(world, world.start(), code="c")
    assert world.figma.exchanges[-1]["code"] == "c"


def test_the_long_user_id_refusal_in_words() -> None:
    world = World(figma=Figma(user=replace(ADA, id="9" * 129)))
    with pytest.raises(FigmaError) as refused:
        came_back(world, world.start())
    assert refused.value.message == "Figma's user id is longer than expected"


def test_a_widened_token_mode_login_keeps_the_apps_challenge_and_offline_marks_its_write() -> None:
    world = World(offline=True)
    world.store.connections[ADA.id] = connection_of(ADA.id, ("current_user:read", "file_comments:read"))
    challenge = pkce_challenge("v" * 43)
    answer, _ = came_back(world, world.start(mode="token", code_challenge=challenge))
    assert isinstance(answer, LoginStart)
    widened = world.store.put[-1]
    assert (widened.mode, widened.app_challenge, widened.widened) == ("token", challenge, True)
    done, _ = came_back(world, answer)
    assert isinstance(done, LoginDone) and "#ticket=" in done.redirect_url
    ((write, _),) = world.store.signed_in
    assert write.offline is True and write.ticket is not None and write.ticket.app_challenge == challenge
