"""Webhook items, the fakes (WebhookStore, Deliveries) against the DynamoDB store: a webhook
listed for its user and in the reconciliation's walk until it is deleted, one per user, event and
context; its owner, passcode hash and what it was made for, for the receiver; a pending create's passcode; a delivery claimed once, only
while its user's connection exists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

import pytest

from figma_auth.records import Connection
from figma_auth.records.webhooks import Webhook, WebhookRegistration
from figma_auth.tokens import hash_secret
from figma_auth.usecases.webhook_receiver import DeliveryStore
from figma_auth.usecases.webhook_reconcile import ReconcileStore
from figma_auth.usecases.webhooks import WebhookStore
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, real
from tests.support.fakes import Deliveries
from tests.support.fakes import WebhookStore as FakeWebhooks

ADAS = Webhook("1001", "ada", "FILE_UPDATE", "file", "file-key", NOW, description="the demo file")
BOBS = Webhook("2002", "bob", "FILE_COMMENT", "team", "team-id", NOW)
PASSCODE = hash_secret("the-passcode")
ADAS_REGISTRATION = WebhookRegistration("ada", PASSCODE, "FILE_UPDATE", "file", "file-key")


class Webhooks(WebhookStore, ReconcileStore, Protocol):
    pass


@pytest.fixture
def webhooks(backend: str, request: pytest.FixtureRequest) -> Webhooks:
    store: Webhooks = FakeWebhooks() if backend == "fake" else real(request).store
    store.save_webhook(ADAS, PASSCODE)
    store.save_webhook(BOBS, hash_secret("bobs-passcode"))
    return store


def test_a_webhook_is_listed_for_its_user_only_and_in_the_reconciliations_walk(webhooks: Webhooks) -> None:
    assert webhooks.user_webhooks("ada") == [ADAS]
    assert webhooks.user_webhooks("carol") == []
    assert sorted(webhooks.every_webhook()) == [("1001", "ada"), ("2002", "bob")]


def test_a_second_webhook_for_the_same_user_event_and_context_is_refused(webhooks: Webhooks) -> None:
    again = replace(ADAS, id="1002", description="the same, made twice")
    assert webhooks.save_webhook(again, hash_secret("another")) is False
    assert webhooks.user_webhooks("ada") == [ADAS]
    other_file = replace(ADAS, id="1003", context_id="another-file")
    assert webhooks.save_webhook(other_file, hash_secret("another")) is True
    assert sorted(w.id for w in webhooks.user_webhooks("ada")) == ["1001", "1003"]


def test_a_deleted_webhook_is_gone_from_its_users_list_and_the_walk(webhooks: Webhooks) -> None:
    webhooks.delete_webhook("ada", ADAS)
    assert webhooks.user_webhooks("ada") == []
    assert list(webhooks.every_webhook()) == [("2002", "bob")]


# -- the receiver's reads and the deliveries it has seen ------------------------------------------------


@dataclass
class World:
    store: DeliveryStore
    connect: Callable[[str], None]  # the user signs in: their connection exists
    disconnect: Callable[[str], object]


@pytest.fixture
def world(backend: str, request: pytest.FixtureRequest) -> World:
    if backend == "fake":
        pending = {hash_secret("pending"): ("ada", NOW + timedelta(minutes=5))}
        fake = Deliveries(owners={ADAS.id: ADAS_REGISTRATION}, pending=pending)
        return World(fake, fake.connected.add, fake.connected.discard)
    table = real(request)
    table.store.save_webhook(ADAS, PASSCODE)
    table.store.put_pending_passcode(hash_secret("pending"), "ada", NOW + timedelta(minutes=5))
    grant = SealedBox(b"key", b"nonce-twelve", b"ciphertext")

    def connect(user_id: str) -> None:
        table.put_connection(Connection(user_id, ADA, ("webhooks:write",), grant_box=grant, grant_expires_at=NOW))

    return World(table.store, connect, table.store.delete_connection)


def test_a_webhook_names_its_owner_its_passcodes_hash_and_what_it_was_made_for(world: World) -> None:
    assert world.store.webhook_registration(ADAS.id) == ADAS_REGISTRATION
    assert world.store.webhook_registration("unknown") is None


def test_a_pending_create_names_its_user_by_the_passcodes_hash_until_it_expires(world: World) -> None:
    assert world.store.pending_passcode(hash_secret("pending"), now=NOW) == "ada"
    assert world.store.pending_passcode(hash_secret("another"), now=NOW) is None
    assert world.store.pending_passcode(hash_secret("pending"), now=NOW + timedelta(minutes=6)) is None


def test_a_delivery_is_claimed_once_and_again_only_after_it_is_forgotten(world: World) -> None:
    world.connect("ada")
    later = NOW + timedelta(days=1)
    assert world.store.claim_delivery("delivery-1", "ada", later) == "new"
    assert world.store.claim_delivery("delivery-1", "ada", later) == "seen"
    assert world.store.claim_delivery("delivery-2", "ada", later) == "new"
    world.store.forget_delivery("delivery-1")
    assert world.store.claim_delivery("delivery-1", "ada", later) == "new"


def test_a_delivery_for_a_user_without_a_connection_is_not_claimed(world: World) -> None:
    assert world.store.claim_delivery("delivery-1", "ada", NOW) == "no_connection"
    world.connect("ada")
    world.disconnect("ada")
    assert world.store.claim_delivery("delivery-1", "ada", NOW) == "no_connection"


def test_when_a_passcode_was_replaced_is_kept_to_the_microsecond(webhooks: Webhooks) -> None:
    # The reconciliation compares it with Figma's log of deliveries sent elsewhere: a delivery
    # earlier in the same second is before the repair, not after it.
    moment = NOW.replace(microsecond=812_345)
    webhooks.replace_passcode("ada", ADAS.id, hash_secret("new"), "https://api.example/webhooks/figma", now=moment)
    (found,) = webhooks.user_webhooks("ada")
    assert found.passcode_set_at == moment
