"""The refresh engine in unit tests: the real one over in-memory stand-ins on the injected
clocks (``world``, ``engine_over``: the store in fakes.py, a vault that keeps grants in clear, a
Figma that counts its refreshes), and stand-ins for the engine that a use case takes (``Engine``,
``Narrowing``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from figma_auth.engine import Fresh, RefreshEngine
from figma_auth.errors import FigmaAuthError
from figma_auth.oauth import FigmaGrant
from figma_auth.records import Connection, Profile, RateLimit
from figma_auth.vault import SealedBox
from tests.support.fakes import START, Clock, FakeStore

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # the stand-ins' clock


# -- the real engine over stand-ins -------------------------------------------------------------------


class FakeVault:
    """Boxes hold ``access|refresh`` in clear: the engine's logic, not the crypto, is under test."""

    def open(self, box: SealedBox, context: dict[str, str]) -> dict[str, str]:
        access, refresh = box.ciphertext.decode().split("|")
        return {"access_token": access, "refresh_token": refresh}

    def reseal(self, previous: SealedBox, plaintext: dict[str, str], context: dict[str, str]) -> SealedBox:
        return SealedBox(
            previous.encrypted_key, b"n", f"{plaintext['access_token']}|{plaintext['refresh_token']}".encode()
        )


class FakeFigma:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls = 0
        self.fail: Exception | None = None

    def refresh(self, grant: FigmaGrant, *, now: Any) -> FigmaGrant:
        self.calls += 1
        if self.fail is not None:
            raise self.fail
        return FigmaGrant(f"access-{self.calls}", grant.refresh_token, now() + timedelta(hours=1), grant.scopes)


def world(
    expires_in: timedelta = timedelta(minutes=2),
) -> tuple[RefreshEngine, FakeStore, FakeFigma, Clock, list[tuple[str, dict[str, Any]]]]:
    clock = Clock()
    conn = Connection(
        user_id="42",
        profile=Profile("Ada", "ada@example.com", ""),
        scopes=("current_user:read",),
        grant_box=SealedBox(b"k", b"n", b"access-0|refresh-0"),
        grant_expires_at=START + expires_in,
    )
    store, figma = FakeStore(conn, clock), FakeFigma(clock)
    events: list[tuple[str, dict[str, Any]]] = []
    return engine_over(store, FakeVault(), figma, clock, events), store, figma, clock, events


def engine_over(
    store: FakeStore, vault: FakeVault, figma: FakeFigma, clock: Clock, events: list[tuple[str, dict[str, Any]]]
) -> RefreshEngine:
    """The engine over these fakes, on the injected clocks, publishing into ``events``."""
    return RefreshEngine(
        store=store,
        vault=vault,
        figma=figma,
        clock=clock.wall,
        publish=lambda kind, detail: events.append((kind, detail)),
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )


# -- stand-ins for the engine ------------------------------------------------------------------------------


@dataclass
class Engine:
    """The refresh engine: each call a new token ``token-N``; a refusal when told."""

    refuses: FigmaAuthError | None = None
    obtained_at: datetime | None = None  # what the fresh connection says of its last refresh
    calls: list[tuple[int | None, bool]] = field(default_factory=list)

    def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh:
        self.calls.append((min_validity, force))
        if self.refuses is not None:
            raise self.refuses
        n = len(self.calls)
        grant = FigmaGrant(f"token-{n}", f"refresh-{n}", NOW + timedelta(hours=1), conn.scopes)
        obtained = NOW if force else self.obtained_at
        return Fresh(replace(conn, version=conn.version + 1, grant_obtained_at=obtained), grant)


class Narrowing(Engine):
    """A refresh that comes back narrower, and a rate limit Figma set meanwhile."""

    def fresh(self, conn: Connection, min_validity: int | None, *, force: bool = False) -> Fresh:
        got = super().fresh(conn, min_validity, force=force)
        limit = RateLimit(1, "user", NOW + timedelta(hours=1))
        return Fresh(replace(got.connection, scopes=("current_user:read",), rate_limits=(limit,)), got.grant)
