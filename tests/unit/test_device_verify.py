"""Device sign-in, the person's side, without a stack: the guessing budgets (per address and
per browser, per 15-minute window; only wrong codes count), a code's view limit, what the
confirm page is told, when a link's code must be typed, and confirm's binding to this browser
(integration/test_device.py runs it end to end)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.errors import ExpiredToken, InvalidState, NotFound, TooManyAttempts
from figma_auth.records.devices import DeviceCode
from figma_auth.tokens import derive, hash_secret
from figma_auth.usecases import device_verify as dv
from figma_auth.usecases.device import EXPIRED, network_of
from tests.support.fakes import Codes

NOW = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)  # 30 s into a 15-minute window
CODE = "BCDFGHJK"


@dataclass
class Login:
    begun: list[dict[str, Any]] = field(default_factory=list)

    def begin(self, **kwargs: Any) -> str:
        self.begun.append(kwargs)
        return str(kwargs["success"])


def world(
    *, status: str = "pending", started: datetime = NOW, network: str = "203.0.113.9"
) -> tuple[dv.DeviceVerification, Codes, Login]:
    store, login = Codes(), Login()
    store.devices[hash_secret(CODE)] = DeviceCode(
        device_hash="dh", user_code_hash=hash_secret(CODE), scopes=("current_user:read",), expires_at=NOW + timedelta(minutes=9),
        interval_ms=5000, status=status, client_id="my-cli", network=network_of(network), started_at=started,
    )  # fmt: skip
    return dv.DeviceVerification(store=store, login=login, clock=lambda: NOW), store, login  # type: ignore[arg-type]


def test_a_right_code_is_found_with_what_the_confirm_page_shows() -> None:
    verify, store, _ = world(started=NOW - timedelta(seconds=150))
    found = verify.look_up("bcdf-ghjk", address="203.0.113.50", browser="b1", from_link=False)
    assert (found.user_code, found.started_minutes_ago, found.same_network, found.must_type) == (
        "BCDF-GHJK",
        2,
        True,
        False,
    )
    assert found.device.client_id == "my-cli"
    assert set(store.spent.values()) == {0}  # a right code costs no guess
    assert store.untils == [datetime(2026, 12, 1, 12, 15, tzinfo=UTC)]  # the window's end


@pytest.mark.parametrize(
    ("started", "address", "must_type"),
    [
        (NOW - timedelta(seconds=119), "203.0.113.50", False),
        (NOW - timedelta(seconds=121), "203.0.113.50", True),  # a link more than 2 minutes old
        (NOW, "198.51.100.1", True),  # from another network
    ],
)
def test_a_links_code_must_be_typed_when_old_or_from_elsewhere(
    started: datetime, address: str, must_type: bool
) -> None:
    verify, _, _ = world(started=started)
    assert verify.look_up(CODE, address=address, browser="b1", from_link=True).must_type is must_type
    assert verify.look_up(CODE, address=address, browser="b2", from_link=False).must_type is False  # typed: fine


def test_wrong_codes_spend_the_browsers_budget_and_then_nothing_is_looked_up() -> None:
    verify, store, _ = world()
    for _ in range(dv.MAX_GUESSES_PER_BROWSER):
        with pytest.raises(NotFound):
            verify.look_up("BBBB-BBBB", address="203.0.113.50", browser="b1", from_link=False)
    with pytest.raises(TooManyAttempts):
        verify.look_up(CODE, address="203.0.113.50", browser="b1", from_link=False)  # even the right one
    assert verify.look_up(CODE, address="203.0.113.50", browser="b2", from_link=False).user_code == "BCDF-GHJK"
    with pytest.raises(NotFound):
        verify.look_up("not a code", address="203.0.113.50", browser="b3", from_link=False)  # unreadable: a guess too
    assert store.spent[f"203.0.113.50#{int(NOW.timestamp()) // 900}"] == 11


def test_a_code_opened_too_often_is_burned_and_a_used_one_expired() -> None:
    verify, _, _ = world()
    for _ in range(dv.MAX_CODE_VIEWS):
        verify.look_up(CODE, address="203.0.113.50", browser="b", from_link=False)
    with pytest.raises(ExpiredToken) as burned:
        verify.look_up(CODE, address="203.0.113.50", browser="b", from_link=False)
    assert "opened too many times" in burned.value.message
    done, _, _ = world(status="approved")
    with pytest.raises(ExpiredToken):
        done.look_up(CODE, address="203.0.113.50", browser="b", from_link=False)


def test_confirm_needs_this_browsers_value_and_starts_the_figma_sign_in() -> None:
    verify, _, login = world()
    mark = derive("browser-secret", "device:" + CODE)
    for typed, value, secret in (
        (CODE, mark, None),  # no cookie
        (CODE, mark, "another-browser"),
        (CODE, "x" * 43, "browser-secret"),
        ("BCDF", mark, "browser-secret"),  # not a code
    ):
        with pytest.raises(InvalidState):
            verify.confirm(typed, value, secret, callback_url="https://api/cb", verify_url="https://api/v")
    assert login.begun == []

    started = verify.confirm(
        "bcdf-ghjk", mark, "browser-secret", callback_url="https://api/cb", verify_url="https://api/v", browser="vb"
    )
    assert str(started).startswith("https://api/v?result=done")
    (begun,) = login.begun
    assert (begun["mode"], begun["device_hash"], begun["scopes"], begun["failure"]) == (
        "device",
        "dh",
        ("current_user:read",),
        "https://api/v",
    )
    assert begun["success"] == f"https://api/v?result=done&client=my-cli&mark={dv.done_mark('vb', 'my-cli')}"
    assert begun["callback_url"] == "https://api/cb" and begun["app_challenge"] is None
    verify.confirm(CODE, mark, "browser-secret", callback_url="https://api/cb", verify_url="https://api/v")
    assert login.begun[1]["success"] == "https://api/v?result=done"  # no verify cookie: the page names nobody


def test_confirm_refuses_a_code_that_is_no_longer_pending() -> None:
    verify, _, login = world(status="approved")
    with pytest.raises(ExpiredToken):
        verify.confirm(CODE, derive("s", "device:" + CODE), "s", callback_url="c", verify_url="v")
    assert login.begun == []


def test_confirming_a_code_that_no_longer_exists_is_expired_in_words_and_starts_nothing() -> None:
    verify, store, login = world()
    verify.look_up(CODE, address="203.0.113.90", browser="g1", from_link=False)  # the page was shown
    store.devices.clear()  # then the sign-in was gone (DynamoDB's TTL deleted it): not burned, not found

    with pytest.raises(ExpiredToken) as gone:
        verify.confirm(CODE, derive("s", "device:" + CODE), "s", callback_url="c", verify_url="v")

    assert gone.value.message == EXPIRED
    assert login.begun == []


def test_the_verify_pages_refusals_say_what_to_do_in_words() -> None:
    verify, _, _ = world()
    with pytest.raises(NotFound) as wrong:
        verify.look_up("BBBB-BBBB", address="203.0.113.60", browser="w1", from_link=False)
    assert wrong.value.message == "That code is not right. Check it against the one your app shows and type it again."
    for _ in range(dv.MAX_CODE_VIEWS):
        verify.look_up(CODE, address="203.0.113.61", browser="w2", from_link=False)
    with pytest.raises(ExpiredToken) as burned:
        verify.look_up(CODE, address="203.0.113.61", browser="w2", from_link=False)
    assert burned.value.message == "This code was opened too many times. Start signing in again from your app."
    with pytest.raises(InvalidState) as unconfirmed:
        verify.confirm(CODE, "x" * 43, "browser-secret", callback_url="https://api/cb", verify_url="https://api/v")
    assert unconfirmed.value.message == (
        "Confirm the code on this page first (it was opened in another browser or expired)."
    )


def test_the_look_up_spends_this_browsers_own_budget_key_and_reads_minutes_and_the_links_age_exactly() -> None:
    verify, store, _ = world(started=NOW - timedelta(seconds=120))
    with pytest.raises(NotFound):
        verify.look_up("BBBB-BBBB", address="203.0.113.70", browser="b9", from_link=False)
    window = int(NOW.timestamp()) // 900
    assert set(store.spent) >= {f"203.0.113.70#{window}", f"203.0.113.70#{hash_secret('b9')[:16]}#{window}"}
    assert verify.look_up(CODE, address="203.0.113.70", browser="b9", from_link=False).started_minutes_ago == 2
    ahead, _, _ = world(started=NOW + timedelta(seconds=30))  # a clock a little ahead: "0 minutes ago", not 1
    assert ahead.look_up(CODE, address="203.0.113.71", browser="b8", from_link=False).started_minutes_ago == 0
    at_limit, _, _ = world(started=NOW - dv.LINK_MAX_AGE)
    assert at_limit.look_up(CODE, address="203.0.113.9", browser="b7", from_link=True).must_type is False


def test_a_code_at_its_last_instant_is_expired_in_words() -> None:
    verify, store, _ = world()
    (key,) = store.devices
    store.devices[key] = replace(store.devices[key], expires_at=NOW)
    with pytest.raises(ExpiredToken) as expired:
        verify.look_up(CODE, address="203.0.113.72", browser="b6", from_link=False)
    assert expired.value.message == EXPIRED
    with pytest.raises(ExpiredToken) as also:
        verify.confirm(CODE, derive("s", "device:" + CODE), "s", callback_url="c", verify_url="v")
    assert also.value.message == EXPIRED


def test_the_confirm_is_one_view_more_than_the_look_ups_and_no_more() -> None:
    verify, _, login = world()
    for _ in range(dv.MAX_CODE_VIEWS):
        verify.look_up(CODE, address="203.0.113.80", browser="c1", from_link=False)
    mark = derive("browser-secret", "device:" + CODE)
    verify.confirm(CODE, mark, "browser-secret", callback_url="https://api/cb", verify_url="https://api/v")
    assert len(login.begun) == 1  # the page's own confirm after the allowed views
    with pytest.raises(ExpiredToken):
        verify.confirm(CODE, mark, "browser-secret", callback_url="https://api/cb", verify_url="https://api/v")
    assert len(login.begun) == 1
