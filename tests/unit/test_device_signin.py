"""Device sign-in (RFC 8628), the app's side, without a stack: what a start stores and
answers, and each answer of the poll — pending, slow_down (the interval grows by 5 s),
denied, expired, one session once (integration/test_device.py runs it end to end)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from figma_auth.credentials import Credentials
from figma_auth.errors import (
    AccessDenied,
    AuthorizationPending,
    ExpiredToken,
    InvalidGrant,
    InvalidRequest,
    SlowDown,
    TemporarilyUnavailable,
)
from figma_auth.models.sign_in import DeviceRequest
from figma_auth.models.tokens import DeviceTokenRequest
from figma_auth.models.views import ProviderInfo, SessionInfo, SessionView, UserInfo
from figma_auth.records import Session
from figma_auth.records.devices import DeviceCode
from figma_auth.settings import Settings
from figma_auth.tokens import hash_secret, user_of_token
from figma_auth.usecases.authorize import StartSignIn
from figma_auth.usecases.device import DeviceSignIn, network_of
from tests.support.environment import GOOD
from tests.support.fakes import Devices

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SETTINGS = Settings.from_env({**GOOD, "ALLOWED_SCOPES": "current_user:read,file_content:read,file_comments:read"})


def view(creds: Credentials) -> SessionView:
    user = user_of_token(creds.token or "") or "?"
    return SessionView(
        session=SessionInfo(
            id=hash_secret(creds.token or ""), created_at="2026-12-01T12:00:00Z", expires_at="2026-12-31T12:00:00Z"
        ),
        user=UserInfo(id=user, handle="Ada Lovelace", email="", img_url=""),
        provider=ProviderInfo(
            expires_at=None, scopes=["current_user:read"], revoked_scopes=[], rate_limits=[], status="active"
        ),
    )


def signin(store: Devices, clock: list[datetime], **overrides: Any) -> DeviceSignIn:
    login = StartSignIn(settings=SETTINGS, store=None, authenticate=None, clock=lambda: clock[0])  # type: ignore[arg-type]
    options = {
        "code_ttl_seconds": 600,
        "poll_interval_seconds": 5,
        "session_ttl_days": 30,
        "offline_access": False,
        **overrides,
    }
    return DeviceSignIn(store=store, login=login, view=view, clock=lambda: clock[0], **options)


def started(store: Devices, clock: list[datetime], **request: Any) -> tuple[DeviceSignIn, Any]:
    device = signin(store, clock)
    return device, device.start(
        DeviceRequest(**request), verify_url="https://api.example.com/auth/device/verify", client_address="203.0.113.7"
    )


def test_a_start_keeps_only_hashes_and_answers_as_rfc_8628_says() -> None:
    store, clock = Devices(), [NOW]
    _, answer = started(store, clock, client_id="my-cli", scope="file_content:read")
    (stored,) = store.devices.values()

    assert stored.device_hash == hash_secret(answer.device_code) and len(answer.device_code) == 43
    assert stored.user_code_hash == hash_secret(answer.user_code.replace("-", ""))
    assert stored.scopes == ("current_user:read", "file_content:read")  # who signed in, always
    assert (stored.expires_at, stored.interval_ms, stored.started_at) == (NOW + timedelta(seconds=600), 5000, NOW)
    assert (stored.client_id, stored.network) == ("my-cli", network_of("203.0.113.99"))  # the /24, not the address
    assert (answer.expires_in, answer.interval) == (600, 5)
    assert (
        answer.verification_uri_complete == f"https://api.example.com/auth/device/verify?user_code={answer.user_code}"
    )


def test_a_taken_user_code_is_drawn_again_five_times_at_most() -> None:
    store, clock = Devices(taken_user_codes=4), [NOW]
    started(store, clock)
    assert len(store.devices) == 1
    with pytest.raises(TemporarilyUnavailable):
        started(Devices(taken_user_codes=5), clock)


def test_scope_and_scopes_must_agree() -> None:
    store, clock = Devices(), [NOW]
    _, ok = started(
        store, clock, scope="file_content:read current_user:read", scopes="current_user:read,file_content:read"
    )
    assert ok.user_code
    with pytest.raises(InvalidRequest):
        started(store, clock, scope="file_content:read", scopes="file_comments:read")


def test_device_scope_or_scopes_alone_is_what_is_asked_for_and_a_mismatch_is_refused_in_words() -> None:
    store, clock = Devices(), [datetime(2026, 12, 1, 12, 0, tzinfo=UTC)]
    started(store, clock, scopes="file_content:read")
    started(store, clock, scope="file_comments:read")
    first, second = store.devices.values()
    assert first.scopes == ("current_user:read", "file_content:read")
    assert second.scopes == ("current_user:read", "file_comments:read")
    with pytest.raises(InvalidRequest) as refused:
        started(store, clock, scope="file_content:read", scopes="file_comments:read")
    assert refused.value.message == "scope and scopes name different scopes: send one of them"
    assert DeviceRequest(scopes="x").scope is None


def test_the_poll_answers_pending_then_slow_down_then_the_session_once() -> None:
    store, clock = Devices(), [NOW]
    device, answer = started(store, clock)
    poll = DeviceTokenRequest(grant_type="urn:ietf:params:oauth:grant-type:device_code", device_code=answer.device_code)

    with pytest.raises(AuthorizationPending):
        device.poll(poll)
    with pytest.raises(SlowDown) as early:
        device.poll(poll)  # at once: too fast
    assert "wait 10 s" in early.value.message and next(iter(store.devices.values())).interval_ms == 10_000

    (key,) = store.devices
    store.devices[key] = replace(store.devices[key], status="approved", user_id="u1")
    clock[0] = NOW + timedelta(seconds=11)
    token = device.poll(poll)
    assert user_of_token(token.access_token) == "u1" and token.session_token == token.access_token
    ((session, offline),) = store.delivered
    assert (session.user_id, session.client, session.created_at, session.expires_at) == (
        "u1",
        "device",
        clock[0],
        clock[0] + timedelta(days=30),
    )
    assert session.id == hash_secret(token.access_token) and offline is False

    clock[0] += timedelta(seconds=11)
    with pytest.raises(InvalidGrant) as again:
        device.poll(poll)
    assert "already used" in again.value.message


def test_denied_expired_and_unknown_codes() -> None:
    store, clock = Devices(), [NOW]
    device, answer = started(store, clock)
    poll = DeviceTokenRequest(grant_type="urn:ietf:params:oauth:grant-type:device_code", device_code=answer.device_code)
    (key,) = store.devices
    store.devices[key] = replace(store.devices[key], status="denied")
    with pytest.raises(AccessDenied):
        device.poll(poll)
    clock[0] = NOW + timedelta(seconds=600)  # the code's last instant has passed
    with pytest.raises(ExpiredToken):
        device.poll(poll)
    with pytest.raises(InvalidGrant) as unknown:
        device.poll(DeviceTokenRequest(grant_type=poll.grant_type, device_code="x" * 43))
    assert "Unknown device_code" in unknown.value.message


def test_an_offline_deployment_delivers_offline_sessions() -> None:
    store, clock = Devices(), [NOW]
    device = signin(store, clock, offline_access=True)
    answer = device.start(DeviceRequest(), verify_url="https://v", client_address="::1")
    (key,) = store.devices
    store.devices[key] = replace(store.devices[key], status="approved", user_id="u1")
    device.poll(
        DeviceTokenRequest(grant_type="urn:ietf:params:oauth:grant-type:device_code", device_code=answer.device_code)
    )
    assert store.delivered[0][1] is True


def test_the_network_is_the_24_or_the_64_never_the_address() -> None:
    assert network_of("203.0.113.7") == network_of("203.0.113.200") != network_of("203.0.114.7")
    assert network_of("2001:db8::1") == network_of("2001:db8::ffff") != network_of("2001:db9::1")
    assert network_of("not an address") == hash_secret("unknown:not an address")
    assert "203.0.113" not in network_of("203.0.113.7")


def test_the_ipv6_network_is_the_64() -> None:
    assert network_of("2001:db8::1") == network_of("2001:db8:0:0:ffff::1")  # the same /64
    assert network_of("2001:db8:0:1::1") != network_of("2001:db8::1")  # another /64
    assert network_of("2001:db8::8000:0:0:1") == network_of("2001:db8::1")  # bit 65 set: still the same /64


def poll_of(answer: Any) -> DeviceTokenRequest:
    return DeviceTokenRequest(grant_type="urn:ietf:params:oauth:grant-type:device_code", device_code=answer.device_code)


def test_each_refusal_of_the_device_flow_says_what_to_do_in_words() -> None:
    with pytest.raises(TemporarilyUnavailable) as busy:
        started(Devices(taken_user_codes=5), [NOW])
    assert busy.value.message == "Could not draw a free user code; try again."

    store, clock = Devices(), [NOW]
    device, answer = started(store, clock)
    (key,) = store.devices
    store.devices[key] = replace(store.devices[key], status="denied")
    with pytest.raises(AccessDenied) as denied:
        device.poll(poll_of(answer))
    assert denied.value.message == "The person declined at Figma."
    with pytest.raises(InvalidGrant) as unknown:
        device.poll(DeviceTokenRequest(grant_type=poll_of(answer).grant_type, device_code="x" * 43))
    assert unknown.value.message == "Unknown device_code (or it expired long ago). Start signing in again."
    store.devices[key] = replace(store.devices[key], status="delivered")
    clock[0] += timedelta(seconds=6)
    with pytest.raises(InvalidGrant) as used:
        device.poll(poll_of(answer))
    assert used.value.message == "This device code was already used: it gives one session, once."


def test_an_approval_that_lost_the_delivery_race_is_already_used() -> None:
    store, clock = Devices(), [NOW]
    device, answer = started(store, clock)
    (key,) = store.devices
    store.devices[key] = replace(store.devices[key], status="approved", user_id="u1")

    def lost(device: DeviceCode, session: Session, *, offline: bool = False) -> bool:
        return False  # another poll delivered it first

    store.deliver_device = lost  # type: ignore[method-assign]
    with pytest.raises(InvalidGrant) as used:
        device.poll(poll_of(answer))
    assert used.value.message == "This device code was already used: it gives one session, once."


def test_an_approved_code_without_its_user_is_still_pending_and_the_session_is_activated() -> None:
    store, clock = Devices(), [NOW]
    device, answer = started(store, clock)
    (key,) = store.devices
    store.devices[key] = replace(store.devices[key], status="approved", user_id=None)
    with pytest.raises(AuthorizationPending):
        device.poll(poll_of(answer))
    store.devices[key] = replace(store.devices[key], status="pending", user_id="u1")
    clock[0] += timedelta(seconds=6)
    with pytest.raises(AuthorizationPending):
        device.poll(poll_of(answer))
    store.devices[key] = replace(store.devices[key], status="approved", user_id="u1")
    clock[0] += timedelta(seconds=6)
    token = device.poll(poll_of(answer))
    ((session, _),) = store.delivered
    assert session.activated is True and token.session.id == hash_secret(token.access_token)


def test_the_poll_is_timed_in_milliseconds() -> None:
    store, clock = Devices(), [NOW]
    device, answer = started(store, clock)
    seen: list[int] = []
    real = store.poll_device

    def recording(device_hash: str, *, now_ms: int) -> tuple[DeviceCode | None, bool]:
        seen.append(now_ms)
        return real(device_hash, now_ms=now_ms)

    store.poll_device = recording  # type: ignore[method-assign]
    with pytest.raises(AuthorizationPending):
        device.poll(poll_of(answer))
    assert seen == [int(NOW.timestamp() * 1000)]
