"""Device sign-in, the person's side (GET and POST /auth/device/verify): the code they type (or
the app's link pre-fills) is looked up within a guessing budget, shown with who asks, when and
from where the sign-in started, and once they confirm it in this browser, the Figma sign-in
that approves the device starts.

Guessing: a look-up is paid for before it is made, from two budgets per 15-minute window, in
one transaction of conditional updates (parallel containers cannot overspend): 10 for this
client address and browser, 100 for the address alone (an office behind one NAT); a right code
gives its look-up back. The look-up is a POST from our own page's form, tied to this browser's
cookie, so another site cannot spend the budget (RFC 8628 §5.1).

Remote phishing (§5.4): a link someone else sent pre-fills their code. When the sign-in started
on another network than this browser's, or more than LINK_MAX_AGE ago, the person must type
the code themselves, and the confirm page says who asks, when and from where, with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from figma_auth.errors import ExpiredToken, InvalidState, NotFound, TooManyAttempts
from figma_auth.records.devices import DeviceCode
from figma_auth.records.signin import LoginStart
from figma_auth.tokens import constant_time_equal, derive, hash_secret, parse_user_code, show_user_code
from figma_auth.urls import append_query
from figma_auth.usecases.authorize import StartSignIn
from figma_auth.usecases.device import EXPIRED, network_of

MAX_CODE_VIEWS = 5  # a user code's verify page can be opened this often (then it is burned)
MAX_GUESSES_PER_BROWSER = 10  # code look-ups per client address and browser, per window
MAX_GUESSES_PER_ADDRESS = 100  # per client address alone (many people behind one NAT)
GUESS_WINDOW_SECONDS = 900
LINK_MAX_AGE = timedelta(minutes=2)  # a pre-filled code older than this must be typed


class VerifyStore(Protocol):
    def device_by_user_code(self, user_code_hash: str, *, max_views: int) -> tuple[DeviceCode | None, bool]: ...
    def spend_guess(self, budgets: list[tuple[str, int]], *, until: datetime) -> bool: ...
    def refund_guess(self, keys: list[str]) -> None: ...


@dataclass(frozen=True)
class Found:
    """A pending device sign-in a code names, as the confirm page shows it."""

    user_code: str  # XXXX-XXXX
    device: DeviceCode
    started_minutes_ago: int
    same_network: bool
    must_type: bool  # came through a link, from elsewhere or too late: the person types the code


class DeviceVerification:
    def __init__(self, *, store: VerifyStore, login: StartSignIn, clock: Callable[[], datetime]) -> None:
        self.store, self.login, self.clock = store, login, clock

    def look_up(self, typed: str, *, address: str, browser: str, from_link: bool) -> Found:
        """The pending sign-in ``typed`` names, paid for from this address's and browser's budgets."""
        now = self.clock()
        window = int(now.timestamp()) // GUESS_WINDOW_SECONDS
        keys = [f"{address}#{window}", f"{address}#{hash_secret(browser)[:16]}#{window}"]
        until = datetime.fromtimestamp((window + 1) * GUESS_WINDOW_SECONDS, now.tzinfo)
        if not self.store.spend_guess(
            [(keys[0], MAX_GUESSES_PER_ADDRESS), (keys[1], MAX_GUESSES_PER_BROWSER)], until=until
        ):
            raise TooManyAttempts()
        code = parse_user_code(typed)
        device, burned = (
            self.store.device_by_user_code(hash_secret(code), max_views=MAX_CODE_VIEWS) if code else (None, False)
        )
        if burned:
            raise ExpiredToken("This code was opened too many times. Start signing in again from your app.")
        if code is None or device is None:
            raise NotFound("That code is not right. Check it against the one your app shows and type it again.")
        self.store.refund_guess(keys)  # only wrong codes count
        if device.expires_at <= now or device.status != "pending":
            raise ExpiredToken(EXPIRED)
        started = device.started_at or now
        same_network = device.network == network_of(address)
        return Found(
            user_code=show_user_code(code),
            device=device,
            started_minutes_ago=max(0, int((now - started).total_seconds() // 60)),
            same_network=same_network,
            must_type=from_link and (not same_network or now - started > LINK_MAX_AGE),
        )

    def confirm(
        self,
        typed: str,
        confirmation: str,
        browser_secret: str | None,
        *,
        callback_url: str,
        verify_url: str,
        browser: str | None = None,
    ) -> LoginStart:
        """The person confirmed the code on our page (the page's value, bound to this browser's
        cookie): start the Figma sign-in that will approve the device. The page it ends on names
        the app that asked (with a mark only this browser's verify cookie can reproduce, so a
        link cannot make our page name someone else)."""
        code = parse_user_code(typed)
        expected = derive(browser_secret, "device:" + code) if code and browser_secret else None
        if code is None or expected is None or not constant_time_equal(expected, confirmation):
            raise InvalidState("Confirm the code on this page first (it was opened in another browser or expired).")
        found, burned = self.store.device_by_user_code(hash_secret(code), max_views=MAX_CODE_VIEWS + 1)
        if burned or found is None or found.expires_at <= self.clock() or found.status != "pending":
            raise ExpiredToken(EXPIRED)
        done = {"result": "done"}
        if found.client_id and browser:
            done |= {"client": found.client_id, "mark": done_mark(browser, found.client_id)}
        return self.login.begin(
            success=append_query(verify_url, done),
            failure=verify_url,
            scopes=found.scopes,
            mode="device",
            app_challenge=None,
            callback_url=callback_url,
            device_hash=found.device_hash,
        )


def done_mark(browser: str, client: str) -> str:
    """The value that lets the done page, in the browser holding ``browser``, name ``client``."""
    return derive(browser, "done:" + client)
