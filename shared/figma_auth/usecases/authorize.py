"""Start a sign-in: check the return URLs and scopes, store the login transaction, and send the
browser to Figma with the transaction cookie that binds the callback to this browser. Device
sign-in starts its Figma leg here too (``begin``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from figma_auth.credentials import Credentials, tx_cookie_name
from figma_auth.errors import InvalidRequest, InvalidScope, Unauthorized
from figma_auth.models.sign_in import AuthorizeQuery
from figma_auth.oauth import authorize_url, parse_scopes, pkce_challenge
from figma_auth.records import Current
from figma_auth.records.signin import LoginStart, LoginTransaction
from figma_auth.settings import Settings
from figma_auth.tokens import b64url, derive, hash_secret, random_token
from figma_auth.urls import validate_return_url

TRANSACTION_TTL = timedelta(minutes=10)
IDENTITY_SCOPE = "current_user:read"  # /v1/me's scope: every sign-in reads who signed in


class TransactionStore(Protocol):
    def put_transaction(self, tx: LoginTransaction) -> None: ...


class StartSignIn:
    """GET /auth/figma/authorize."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: TransactionStore,
        authenticate: Callable[[Credentials], Current],
        clock: Callable[[], datetime],
    ) -> None:
        self.settings, self.store, self.authenticate, self.clock = settings, store, authenticate, clock

    def start(self, params: AuthorizeQuery, *, callback_url: str, creds: Credentials | None = None) -> LoginStart:
        allowed, exact = self.settings.allowed_origins, self.settings.allowed_redirect_urls
        success = validate_return_url(params.success, allowed, exact)
        failure = validate_return_url(params.failure, allowed, exact)
        scopes = self._with_connection_scopes(self.requested_scopes(params.scopes), creds)
        mode = params.mode
        app_challenge = params.code_challenge if mode == "token" else None
        if mode == "token" and app_challenge is None:
            raise InvalidRequest("token mode needs code_challenge: the S256 challenge (43 chars) of your verifier")
        return self.begin(
            success=success,
            failure=failure,
            scopes=scopes,
            mode=mode,
            app_challenge=app_challenge,
            callback_url=callback_url,
        )

    def begin(
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
    ) -> LoginStart:
        """Store the login transaction; the redirect to Figma and the browser's transaction cookie.

        The return URLs (up to 2 KB) travel in that cookie and the item keeps only their hash:
        an anonymous authorize stores well under 1 KB however long the URLs are."""
        state = random_token(32)
        browser_secret = random_token(32)
        carried = b64url(json.dumps([success, failure], separators=(",", ":")).encode())
        pkce = self.settings.figma_pkce
        tx = LoginTransaction(
            state_hash=hash_secret(state),
            binding=derive(browser_secret, "binding:" + state),
            success_url=success,
            failure_url=failure,
            urls_hash=hash_secret(carried),
            redirect_uri=callback_url,
            scopes=scopes,
            mode=mode,
            pkce=pkce,
            app_challenge=app_challenge,
            expires_at=self.clock() + TRANSACTION_TTL,
            device_hash=device_hash,
            widened=widened,
        )
        self.store.put_transaction(tx)
        verifier = derive(browser_secret, "pkce:" + state)  # never stored: the cookie holds its seed
        url = authorize_url(
            auth_url=self.settings.figma_auth_url,
            client_id=self.settings.figma_client_id,
            redirect_uri=callback_url,
            scopes=scopes,
            state=state,
            code_challenge=pkce_challenge(verifier) if pkce else None,
        )
        cookie = f"{browser_secret}.{carried}"
        return LoginStart(url, tx_cookie_name(state), cookie, int(TRANSACTION_TTL.total_seconds()))

    def requested_scopes(self, raw: str | None) -> tuple[str, ...]:
        """The scopes asked for (DEFAULT_SCOPES when none): Figma's, and ALLOWED_SCOPES' only;
        BASE_SCOPES always, and current_user:read, without which Figma's /v1/me (who signed
        in) refuses the token."""
        base = (IDENTITY_SCOPE, *self.settings.base_scopes)
        if raw is None:
            return tuple(dict.fromkeys((*base, *self.settings.default_scopes)))
        scopes = tuple(parse_scopes(raw))
        refused = [s for s in scopes if s not in self.settings.scopes_allowed]
        if refused:
            raise InvalidScope(f"{refused[0]!r} is not in this app's ALLOWED_SCOPES")
        return tuple(dict.fromkeys((*base, *scopes)))

    def _with_connection_scopes(self, requested: tuple[str, ...], creds: Credentials | None) -> tuple[str, ...]:
        """A signed-in user's new sign-in asks for what their connection holds too: one
        sign-in never narrows what another session or the backend relies on."""
        if creds is None or not creds.token:
            return requested
        try:
            held = self.authenticate(creds).connection.scopes
        except Unauthorized:
            return requested
        return tuple(dict.fromkeys((*held, *requested)))
