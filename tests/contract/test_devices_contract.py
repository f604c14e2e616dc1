"""Device sign-in's items, the fakes (Devices, Codes) against the DynamoDB store: a user code
names one sign-in, a poll within the interval is early, an approved sign-in is delivered once;
a user code looked at up to its limit, guessing budgets spent and refunded all or none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from figma_auth.records import Connection, Session
from figma_auth.records.completion import DeviceApproval, SignInWrite
from figma_auth.records.devices import DeviceCode
from figma_auth.tokens import hash_secret
from figma_auth.usecases.device import DeviceStore
from figma_auth.usecases.device_verify import VerifyStore
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, real
from tests.support.fakes import Codes, Devices

T = int(NOW.timestamp() * 1000)
INTERVAL = 5_000


def device(n: int, *, user_code: int | None = None) -> DeviceCode:
    return DeviceCode(
        device_hash=hash_secret(f"device-{n}"),
        user_code_hash=hash_secret(f"user-code-{user_code or n}"),
        scopes=("current_user:read",),
        expires_at=NOW + timedelta(minutes=15),
        interval_ms=INTERVAL,
    )


def session(user_id: str, n: int) -> Session:
    return Session(hash_secret(f"session-{n}"), user_id, NOW, NOW + timedelta(days=30), client="device")


@dataclass
class SignIns:
    store: DeviceStore
    approve: Callable[[DeviceCode, str], None]  # the person's sign-in at Figma approved it for this user


@pytest.fixture
def sign_ins(backend: str, request: pytest.FixtureRequest) -> SignIns:
    if backend == "fake":
        fake = Devices()

        def approved(d: DeviceCode, user_id: str) -> None:
            fake.devices[d.device_hash] = replace(fake.devices[d.device_hash], status="approved", user_id=user_id)

        return SignIns(fake, approved)
    store = real(request).store

    def approve(d: DeviceCode, user_id: str) -> None:
        grant = SealedBox(b"key", b"nonce-twelve", b"ciphertext")
        conn = Connection(user_id, ADA, d.scopes, grant_box=grant, grant_expires_at=NOW + timedelta(hours=1))
        approval = DeviceApproval(d.device_hash, user_id, NOW, NOW + timedelta(days=30))
        assert store.sign_in(SignInWrite(None, device=approval), conn)

    return SignIns(store, approve)


def test_a_user_code_names_one_device_sign_in(sign_ins: SignIns) -> None:
    assert sign_ins.store.put_device(device(1))
    assert not sign_ins.store.put_device(device(2, user_code=1))
    assert sign_ins.store.put_device(device(3))


def test_a_poll_within_the_interval_is_early_with_a_quarter_second_of_slack(sign_ins: SignIns) -> None:
    first = device(1)
    sign_ins.store.put_device(first)
    assert sign_ins.store.poll_device(first.device_hash, now_ms=T) == (first, False)
    assert sign_ins.store.poll_device(first.device_hash, now_ms=T + 1_000) == (first, True)
    assert sign_ins.store.poll_device(first.device_hash, now_ms=T + INTERVAL - 251) == (first, True)
    assert sign_ins.store.poll_device(first.device_hash, now_ms=T + INTERVAL - 250) == (first, False)


def test_slow_down_sets_the_interval_the_next_poll_must_wait(sign_ins: SignIns) -> None:
    first = device(1)
    sign_ins.store.put_device(first)
    sign_ins.store.slow_down(first.device_hash, now_ms=T, interval_ms=10_000)
    slower = replace(first, interval_ms=10_000)
    assert sign_ins.store.poll_device(first.device_hash, now_ms=T + 9_000) == (slower, True)
    assert sign_ins.store.poll_device(first.device_hash, now_ms=T + 9_750) == (slower, False)


def test_an_unknown_device_polls_as_nothing(sign_ins: SignIns) -> None:
    sign_ins.store.slow_down(hash_secret("unknown"), now_ms=T, interval_ms=10_000)
    assert sign_ins.store.poll_device(hash_secret("unknown"), now_ms=T) == (None, False)


def test_an_approved_sign_in_is_delivered_once_and_a_pending_one_never(sign_ins: SignIns) -> None:
    pending, approved = device(1), device(2)
    sign_ins.store.put_device(pending)
    sign_ins.store.put_device(approved)
    sign_ins.approve(approved, "ada")

    assert not sign_ins.store.deliver_device(pending, session("ada", 1))
    assert sign_ins.store.deliver_device(replace(approved, status="approved", user_id="ada"), session("ada", 2))
    assert not sign_ins.store.deliver_device(replace(approved, status="approved", user_id="ada"), session("ada", 3))


# -- the verify page: user codes and guessing budgets ---------------------------------------------------


@pytest.fixture
def codes(backend: str, request: pytest.FixtureRequest) -> VerifyStore:
    first = device(1)
    if backend == "fake":
        return Codes(devices={first.user_code_hash: first})
    store = real(request).store
    assert store.put_device(first)
    return store


def test_a_user_code_is_looked_at_up_to_its_limit(codes: VerifyStore) -> None:
    first = device(1)
    for _ in range(3):
        assert codes.device_by_user_code(first.user_code_hash, max_views=3) == (first, False)
    assert codes.device_by_user_code(first.user_code_hash, max_views=3) == (None, True)
    assert codes.device_by_user_code(hash_secret("another-code"), max_views=3) == (None, False)


def test_a_guess_spends_from_every_budget_or_from_none(codes: VerifyStore) -> None:
    until = NOW + timedelta(minutes=15)
    assert codes.spend_guess([("address", 1), ("browser", 2)], until=until)
    assert not codes.spend_guess([("address", 1), ("browser", 2)], until=until)  # the address is spent
    assert codes.spend_guess([("browser", 2)], until=until)  # so the browser's second is still there
    assert not codes.spend_guess([("browser", 2)], until=until)


def test_a_refund_gives_back_to_every_budget_or_to_none(codes: VerifyStore) -> None:
    until = NOW + timedelta(minutes=15)
    assert codes.spend_guess([("address", 1)], until=until)
    codes.refund_guess(["address", "never-spent"])
    assert not codes.spend_guess([("address", 1)], until=until)
    codes.refund_guess(["address"])
    assert codes.spend_guess([("address", 1)], until=until)
