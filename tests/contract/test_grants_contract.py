"""The connection's grant, the fakes (FakeStore, Recorded) against the DynamoDB store: the
refresh lease taken at the grant's version while none is live and held until its millisecond,
what only its owner may store or release, a dead grant; a 429 recorded once while in force, the
ledger read with the connection, outliving it, and gone when the user clears it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import pytest

from figma_auth.engine import GrantStore
from figma_auth.records import ACTIVE, REAUTH_REQUIRED, Connection, RateLimit
from figma_auth.usecases.rate_limits import LedgerClearer, LedgerStore
from figma_auth.vault import SealedBox
from tests.support import fakes
from tests.support.contract import ADA, NOW, real

USER = "1143925780461227139"
CONN = Connection(
    USER,
    ADA,
    ("current_user:read", "file_content:read"),
    grant_box=SealedBox(b"key", b"nonce-twelve", b"ciphertext"),
    grant_expires_at=NOW + timedelta(minutes=2),
    version=3,
)
T = int(NOW.timestamp() * 1000)
LEASE = 20_000


class ConnectionAndLedger(GrantStore, LedgerStore, LedgerClearer, Protocol):
    def delete_connection(self, user_id: str, *, touched: str | None = None) -> bool: ...


@dataclass
class Grants:
    store: ConnectionAndLedger
    sign_in_again: Callable[[], None]  # the connection as a new sign-in leaves it

    def stored(self) -> Connection:
        found = self.store.get_connection(USER)
        assert found is not None
        return found

    def lease(self, owner: str, at_ms: int = T, *, version: int = 3) -> bool:
        return self.store.acquire_lease(USER, version=version, owner=owner, now_ms=at_ms, lease_ms=LEASE)

    def save(self, owner: str, narrowed_to: tuple[str, ...] | None = None) -> bool:
        box = SealedBox(b"key", b"nonce-twelve", b"refreshed")
        later = NOW + timedelta(hours=1)
        return self.store.save_refreshed_grant(
            self.stored(), owner=owner, box=box, expires_at=later, obtained_at=NOW, narrowed_to=narrowed_to
        )


@pytest.fixture
def grants(backend: str, request: pytest.FixtureRequest) -> Grants:
    if backend == "fake":
        fake = fakes.FakeStore(CONN, fakes.Clock(NOW))
        return Grants(fake, lambda: setattr(fake, "conn", CONN))
    table = real(request)
    table.put_connection(CONN)
    return Grants(table.store, lambda: table.put_connection(CONN))


def test_a_lease_is_taken_at_the_grants_version_and_held_until_its_millisecond(grants: Grants) -> None:
    assert grants.lease("a")
    assert grants.stored().lease_until_ms == T + LEASE
    assert not grants.lease("b", T + LEASE)  # held until this millisecond
    assert grants.lease("b", T + LEASE + 1)


def test_no_lease_at_another_version_for_another_user_or_on_a_dead_grant(grants: Grants) -> None:
    assert not grants.lease("a", version=2)
    assert not grants.store.acquire_lease("someone-else", version=3, owner="a", now_ms=T, lease_ms=LEASE)
    assert grants.store.get_connection("someone-else") is None
    assert grants.lease("a")
    assert grants.store.mark_reauth_required(USER, owner="a")
    dead = grants.stored()
    assert (dead.status, dead.grant_box, dead.lease_until_ms) == (REAUTH_REQUIRED, None, 0)
    assert not grants.lease("b", T + LEASE + 1)


def test_only_the_leases_owner_stores_the_refreshed_grant_and_storing_releases_it(grants: Grants) -> None:
    assert grants.lease("a")
    assert not grants.save("b")
    assert not grants.store.mark_reauth_required(USER, owner="b")
    assert (grants.stored().version, grants.stored().status) == (3, ACTIVE)

    assert grants.save("a")
    fresh = grants.stored()
    assert (fresh.version, fresh.lease_until_ms, fresh.grant_obtained_at) == (4, 0, NOW)
    assert fresh.grant_box == SealedBox(b"key", b"nonce-twelve", b"refreshed")
    assert fresh.grant_expires_at == NOW + timedelta(hours=1)
    assert not grants.save("a")  # the lease went with the save
    assert grants.lease("b", version=4)


def test_a_narrower_refresh_narrows_the_scopes_and_keeps_the_ones_gone(grants: Grants) -> None:
    assert grants.lease("a")
    assert grants.save("a", narrowed_to=("current_user:read",))
    narrowed = grants.stored()
    assert (narrowed.scopes, narrowed.revoked_scopes) == (("current_user:read",), ("file_content:read",))


def test_only_the_owner_releases_the_lease(grants: Grants) -> None:
    assert grants.lease("a")
    grants.store.release_lease(USER, owner="b")
    assert not grants.lease("c", T + 1)
    grants.store.release_lease(USER, owner="a")
    assert grants.stored().lease_until_ms == 0
    assert grants.lease("c", T + 1)


# -- the rate-limit ledger ------------------------------------------------------------------------------


class Ledger(LedgerStore, LedgerClearer, Protocol):
    pass


@pytest.fixture(params=["Recorded", "WebhookStore", "dynamodb"])
def ledger(request: pytest.FixtureRequest) -> Ledger:
    """Two fakes record 429s: the ledger's own, and the webhook use cases' store."""
    if request.param == "Recorded":
        return fakes.Recorded()
    if request.param == "WebhookStore":
        return fakes.WebhookStore()
    return real(request).store  # no connection: a user's ledger needs none


def test_a_limit_is_recorded_once_while_it_is_in_force_and_again_once_it_ended(ledger: Ledger) -> None:
    limit = RateLimit(1, "user", NOW + timedelta(seconds=60), type="low")
    assert ledger.record_rate_limit(CONN, limit, now=NOW)
    assert not ledger.record_rate_limit(CONN, limit, now=limit.until - timedelta(seconds=1))
    assert ledger.record_rate_limit(CONN, RateLimit(1, "file:abc", limit.until), now=NOW)  # another scope
    assert ledger.record_rate_limit(CONN, RateLimit(1, "user", NOW + timedelta(hours=1)), now=limit.until)


def test_a_cleared_ledger_records_the_same_limit_again(ledger: Ledger) -> None:
    limit = RateLimit(1, "user", NOW + timedelta(days=20), type="low")
    assert ledger.record_rate_limit(CONN, limit, now=NOW)
    ledger.delete_rate_limits(USER)
    ledger.delete_rate_limits(USER)  # clearing nothing is no error
    assert ledger.record_rate_limit(CONN, limit, now=NOW)
    assert not ledger.record_rate_limit(CONN, limit, now=NOW)


def test_the_connection_is_read_with_its_ledger_which_outlives_it_until_cleared(grants: Grants) -> None:
    seat = RateLimit(1, "user", NOW + timedelta(days=20), type="low", plan_tier="pro", upgrade_link="https://u")
    burst = RateLimit(3, "user", NOW + timedelta(seconds=30), type="high")
    assert grants.store.record_rate_limit(grants.stored(), seat, now=NOW)
    assert grants.store.record_rate_limit(grants.stored(), burst, now=NOW)
    assert sorted(grants.stored().rate_limits, key=lambda r: r.tier) == [seat, burst]

    assert grants.store.delete_connection(USER)  # the last logout, or a disconnect
    assert grants.store.get_connection(USER) is None
    grants.sign_in_again()
    assert sorted(grants.stored().rate_limits, key=lambda r: r.tier) == [seat, burst]  # Figma still counts

    grants.store.delete_rate_limits(USER)
    assert grants.stored().rate_limits == () and grants.stored().version == 3  # the connection as it was
