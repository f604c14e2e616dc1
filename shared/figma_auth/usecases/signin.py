"""Complete a sign-in at the callback (exchange the code, read the user, then in one write the
session and the connection's new grant), and token mode's ticket redemption."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from figma_auth.credentials import Credentials, tx_cookie_name
from figma_auth.engine import Publish, grant_plaintext
from figma_auth.errors import AccessDenied, FigmaAuthError, FigmaError, InvalidGrant, InvalidState
from figma_auth.figma import CodeExchange, FigmaUser, TokenRejected
from figma_auth.models.sign_in import CallbackQuery
from figma_auth.models.views import SessionView, TokenResponse
from figma_auth.oauth import pkce_challenge
from figma_auth.observability import metrics_count
from figma_auth.records import Connection, Profile, Session
from figma_auth.records.completion import DeviceApproval, LoginDone, SignInWrite, Ticket
from figma_auth.records.signin import LoginStart, LoginTransaction
from figma_auth.tokens import (
    MAX_USER_ID,
    constant_time_equal,
    derive,
    hash_secret,
    new_session_token,
    random_token,
)
from figma_auth.urls import append_fragment
from figma_auth.usecases.views import token_response
from figma_auth.vault import SealedBox, grant_context, open_with_secret, seal_with_secret

if TYPE_CHECKING:  # token mode's request, parsed by its handler: the callback loads no token models
    from figma_auth.models.tokens import TokenRequest

TICKET_TTL = timedelta(seconds=60)
TICKET_PURPOSE = b"ticket"  # what a ticket seals: the session token it trades for
MAX_CARRIED_URLS = 3000  # the return URLs in the transaction cookie (2 × 1,024 characters, base64url)


class CallbackStore(Protocol):
    def take_transaction(self, state_hash: str, binding: str, now: datetime) -> LoginTransaction | None: ...
    def deny_device(self, device_hash: str) -> bool: ...
    def connection_scopes(self, user_id: str) -> tuple[str, ...] | None: ...
    def sign_in(self, write: SignInWrite, connection: Connection) -> bool: ...
    def join_connection(self, user_id: str, write: SignInWrite) -> bool: ...


class CodeExchanger(Protocol):
    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None, scopes: tuple[str, ...], now: datetime
    ) -> CodeExchange: ...
    def me(self, access_token: str) -> FigmaUser: ...


class Restart(Protocol):
    """StartSignIn.begin: a new login transaction and the redirect to Figma."""

    def __call__(
        self,
        *,
        success: str,
        failure: str,
        scopes: tuple[str, ...],
        mode: str,
        app_challenge: str | None,
        callback_url: str,
        device_hash: str | None = None,
        widened: bool = False,
    ) -> LoginStart: ...


class Sealer(Protocol):
    def seal(self, plaintext: dict[str, Any], context: dict[str, str]) -> SealedBox: ...


@dataclass(frozen=True)
class NewSession:
    """What a sign-in creates: what it writes (a session, in token mode with the ticket that will
    carry it, or for a device sign-in the approval its poll will turn into a session), and the
    secrets the browser gets (never stored)."""

    write: SignInWrite
    token: str | None = None
    ticket_value: str | None = None

    def done(self, tx: LoginTransaction) -> LoginDone:
        if self.ticket_value is not None:
            return LoginDone(append_fragment(tx.success_url, {"ticket": self.ticket_value}), None)
        return LoginDone(tx.success_url, self.token)


class CompleteSignIn:
    """GET /auth/figma/callback."""

    def __init__(
        self,
        *,
        store: CallbackStore,
        vault: Sealer,
        figma: CodeExchanger,
        clock: Callable[[], datetime],
        publish: Publish,
        restart: Restart,
        session_ttl_days: int,
        offline_access: bool,
    ) -> None:
        self.store, self.vault, self.figma, self.clock, self.publish = store, vault, figma, clock, publish
        self.restart = restart
        self.lifetime, self.offline = timedelta(days=session_ttl_days), offline_access

    def take_transaction(self, query: Mapping[str, str], cookies: Mapping[str, str]) -> tuple[LoginTransaction, str]:
        """The login this callback completes, if it is trustworthy; else InvalidState (400)."""
        try:
            state = CallbackQuery.model_validate(dict(query)).state
        except ValidationError:
            raise InvalidState() from None
        browser_secret, _, carried = (cookies.get(tx_cookie_name(state)) or "").partition(".")
        if not browser_secret or len(browser_secret) > 128 or not 0 < len(carried) <= MAX_CARRIED_URLS:
            raise InvalidState()  # not this browser's login: Figma is never called
        tx = self.store.take_transaction(hash_secret(state), derive(browser_secret, "binding:" + state), self.clock())
        if tx is None or not constant_time_equal(hash_secret(carried), tx.urls_hash):
            raise InvalidState()
        try:
            success, failure = json.loads(base64.urlsafe_b64decode(carried + "=" * (-len(carried) % 4)))
        except (ValueError, TypeError):
            raise InvalidState() from None
        tx = replace(tx, success_url=str(success), failure_url=str(failure))
        return tx, derive(browser_secret, "pkce:" + state)

    def complete(self, tx: LoginTransaction, verifier: str, query: Mapping[str, str]) -> LoginDone | LoginStart:
        """Exchange the code, read the user, then in one write: the session, and the new grant
        on the user's connection (unless a sign-in that finished later put a newer one).

        A sign-in never narrows the connection: when Figma's grant holds fewer scopes than the
        connection did (a browser that could not be tied to the user beforehand asked for
        less), nothing is written and the browser goes back to Figma once, at once, for the
        union (a LoginStart); the session is created on that answer."""
        error = query.get("error")
        if error is not None:
            if error == "access_denied" and tx.device_hash is not None:
                self.store.deny_device(tx.device_hash)  # the plugin's poll answers access_denied
            raise AccessDenied() if error == "access_denied" else FigmaError("Figma returned an error")
        code = query.get("code", "")
        if not 0 < len(code) <= 512 or not code.isascii() or not code.isprintable():
            raise FigmaError("Figma returned no usable code")
        now = self.clock()
        exchange = self.figma.exchange_code(
            code=code,
            redirect_uri=tx.redirect_uri,
            code_verifier=verifier if tx.pkce else None,
            scopes=tx.scopes,
            now=now,
        )
        grant = exchange.grant
        exchanged_ms = int(self.clock().timestamp() * 1000)  # Figma issued the token before this
        try:
            user = self.figma.me(grant.access_token)
        except TokenRejected:
            if exchange.user_id_hint is None:
                raise
            # Another sign-in of this user was exchanged meanwhile, and Figma keeps one token per
            # user: that sign-in's grant is the one to keep. This session joins it.
            return self._join_newer_sign_in(tx, exchange.user_id_hint, now)
        if len(user.id) > MAX_USER_ID:
            raise FigmaError("Figma's user id is longer than expected")
        held = self.store.connection_scopes(user.id)
        if held is not None and not tx.widened and not set(held) <= set(grant.scopes):
            return self._widen(tx, (*grant.scopes, *held))
        new = self._new_session(tx, user.id, now)
        existed = held is not None
        connection = Connection(
            user_id=user.id,
            profile=Profile(user.handle, user.email, user.img_url),
            scopes=grant.scopes,
            grant_box=self.vault.seal(grant_plaintext(grant), grant_context(user.id)),
            grant_expires_at=grant.expires_at,
            signed_in_ms=exchanged_ms,
        )
        self.store.sign_in(new.write, connection)
        if not existed:
            self.publish("ConnectionCreated", {"user_id": user.id, "scopes": list(grant.scopes)})
        return new.done(tx)

    def _widen(self, tx: LoginTransaction, scopes: tuple[str, ...]) -> LoginStart:
        """Back to Figma, once, for the union of what was asked and what the connection holds."""
        metrics_count("SignInWidened")
        return self.restart(
            success=tx.success_url,
            failure=tx.failure_url,
            scopes=tuple(dict.fromkeys(scopes)),
            mode=tx.mode,
            app_challenge=tx.app_challenge,
            callback_url=tx.redirect_uri,
            device_hash=tx.device_hash,
            widened=True,
        )

    def _join_newer_sign_in(self, tx: LoginTransaction, user_id: str, now: datetime) -> LoginDone:
        new = self._new_session(tx, user_id, now)
        if not self.store.join_connection(user_id, new.write):
            # No connection to join: not a race we can resolve (or the other sign-in is still
            # writing). Figma refused the token it had just issued.
            raise FigmaError("Figma refused the token it had just issued; sign in again")
        metrics_count("SignInJoinedNewerGrant")
        return new.done(tx)

    def _new_session(self, tx: LoginTransaction, user_id: str, now: datetime) -> NewSession:
        if tx.device_hash is not None:
            approval = DeviceApproval(tx.device_hash, user_id, now, now + self.lifetime)
            return NewSession(SignInWrite(None, device=approval, offline=self.offline))
        token = new_session_token(user_id)
        token_mode = tx.mode == "token"
        session = Session(
            id=hash_secret(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + self.lifetime,
            client="token" if token_mode else "web",
            activated=not token_mode,
        )
        if not token_mode:
            return NewSession(SignInWrite(session, offline=self.offline), token)
        if tx.app_challenge is None:  # StartSignIn always stores one in token mode
            raise FigmaAuthError()
        ticket_value = random_token(24)
        ticket = Ticket(
            ticket_hash=hash_secret(ticket_value),
            session_id=session.id,
            app_challenge=tx.app_challenge,
            sealed_token=seal_with_secret(ticket_value, token.encode(), purpose=TICKET_PURPOSE),
            expires_at=now + TICKET_TTL,
        )
        return NewSession(SignInWrite(session, ticket=ticket, offline=self.offline), token, ticket_value)


class TicketStore(Protocol):
    def redeem_ticket(self, ticket_hash: str) -> Ticket | None: ...
    def delete_session(self, session_id: str, *, user_id: str | None = None) -> bool: ...
    def activate_session(self, session_id: str) -> bool: ...


class RedeemTicket:
    """POST /auth/token, token mode: a ticket + the SPA's verifier for a session token (once,
    within 60 s)."""

    def __init__(
        self, *, store: TicketStore, view: Callable[[Credentials], SessionView], clock: Callable[[], datetime]
    ) -> None:
        self.store, self.view, self.clock = store, view, clock

    def __call__(self, request: TokenRequest) -> TokenResponse:
        ticket, verifier = request.ticket, request.code_verifier
        record = self.store.redeem_ticket(hash_secret(ticket))  # burns it whatever follows
        if record is None or record.expires_at <= self.clock():
            raise InvalidGrant()
        if not constant_time_equal(pkce_challenge(verifier), record.app_challenge):
            self.store.delete_session(record.session_id)
            raise InvalidGrant()
        opened = open_with_secret(ticket, record.sealed_token, purpose=TICKET_PURPOSE)
        token = opened.decode() if opened is not None else None
        if token is None or not self.store.activate_session(record.session_id):
            raise InvalidGrant()
        return token_response(token, self.view(Credentials(token, "bearer")), self.clock())
