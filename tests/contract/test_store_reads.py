"""The DynamoDB store's reads and writes that no in-memory fake stands in for, on DynamoDB Local:
the scheduler's pause, the connections due for a refresh, the operator's one-off listing of
older connections, a connection's scopes, a device sign-in denied only while pending, a
webhook's slot and status and an older webhook's registration, sessions' clients, batches, ttl and
activation."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import islice

import pytest

from figma_auth.records import REAUTH_REQUIRED, Connection, Profile, Session
from figma_auth.records.completion import SignInWrite
from figma_auth.records.devices import DeviceCode
from figma_auth.records.webhooks import Webhook, WebhookRegistration
from figma_auth.store.codec import key, values
from figma_auth.store.connections import CONNECTION, connection_item
from figma_auth.store.devices import DEVICE, USER_CODE
from figma_auth.store.sessions import SESSION, session_item
from figma_auth.store.webhooks import WEBHOOK, view_key
from figma_auth.tokens import hash_secret
from figma_auth.vault import SealedBox
from tests.support.contract import ADA, NOW, Table

GRANT = SealedBox(b"key", b"nonce-twelve", b"ciphertext")


def connection(user_id: str, expires_in: timedelta, scopes: tuple[str, ...] = ("current_user:read",)) -> Connection:
    return Connection(user_id, ADA, scopes, grant_box=GRANT, grant_expires_at=NOW + expires_in, created_at=NOW)


def due(table: Table, start: datetime, end: datetime) -> list[Connection]:
    """The connections due in [start, end], a page a day: the walk ends within ten pages."""
    pages = list(islice(table.store.due_pages(start=start, end=end), 10))
    assert len(pages) < 10, "the walk over the due index never ended"
    return [c for page in pages for c in page]


def test_the_scheduler_is_paused_until_the_last_pause_and_the_pause_is_kept_a_day_past_it(table: Table) -> None:
    assert table.store.scheduler_paused_until() is None
    until = NOW + timedelta(minutes=5)
    table.store.pause_scheduler(until)
    assert table.store.scheduler_paused_until() == until
    stored = table.item(key("SCHEDULER", "PAUSE"))
    assert stored is not None and stored["ttl"] == int(until.timestamp()) + 86400
    table.store.pause_scheduler(until + timedelta(minutes=1))
    assert table.store.scheduler_paused_until() == until + timedelta(minutes=1)


def test_connections_due_are_those_whose_grant_expires_in_the_window_both_ends_and_across_days(table: Table) -> None:
    for user_id, expires_in in {
        "before": timedelta(minutes=-1),
        "at-start": timedelta(0),
        "inside": timedelta(hours=1),
        "next-day": timedelta(days=1),
        "at-end": timedelta(days=1, hours=1),
        "after": timedelta(days=1, hours=1, seconds=1),
    }.items():
        table.put_connection(connection(user_id, expires_in))
    assert sorted(c.user_id for c in due(table, NOW, NOW + timedelta(days=1, hours=1))) == [
        "at-end", "at-start", "inside", "next-day",
    ]  # fmt: skip
    found = {c.user_id: c for c in due(table, NOW, NOW + timedelta(hours=1))}
    assert sorted(found) == ["at-start", "inside"]
    assert found["inside"].grant_box == GRANT and found["inside"].grant_expires_at == NOW + timedelta(hours=1)
    assert due(table, NOW + timedelta(days=3), NOW + timedelta(days=4)) == []


def test_connections_written_before_the_listing_are_listed_once_keeping_a_known_creation_time(table: Table) -> None:
    earlier = NOW - timedelta(days=3)
    table.put_connection(replace(connection("old", timedelta(hours=1)), created_at=earlier))
    table.put_connection(connection("older", timedelta(hours=1)))
    table.put_connection(connection("listed", timedelta(hours=1)))
    table.client.update_item(TableName=table.name, Key=CONNECTION.key("old"), UpdateExpression="REMOVE listing")
    table.client.update_item(
        TableName=table.name, Key=CONNECTION.key("older"), UpdateExpression="REMOVE listing, created_at"
    )

    assert table.store.list_unlisted_connections(now=NOW + timedelta(hours=2)) == 2
    assert table.store.list_unlisted_connections(now=NOW + timedelta(hours=3)) == 0
    page = table.store.connection_page(limit=10, after=None, status=None)
    assert {c.user_id: c.created_at for c in page.connections} == {
        "listed": NOW, "older": NOW + timedelta(hours=2), "old": earlier,
    }  # fmt: skip


def test_a_connections_scopes_and_its_sign_ins_marker_are_read_and_none_without_a_connection(table: Table) -> None:
    table.put_connection(connection("42", timedelta(hours=1), scopes=("current_user:read", "file_content:read")))
    assert table.store.connection_scopes("42") == ("current_user:read", "file_content:read")
    assert table.store.connection_scopes("43") is None
    assert table.store.connection_touched("43") is None


def test_a_connection_without_its_marker_or_scopes_is_still_a_connection_and_goes_only_while_unmarked(
    table: Table,
) -> None:
    """DynamoDB answers ``"Item": {}`` for an item holding none of the projected attributes: a
    connection without them, not "no connection"; read without a marker, it is deleted only
    while no sign-in has left one since."""
    table.put_connection(connection("42", timedelta(hours=1)))
    at, mark = CONNECTION.key("42"), {"TableName": table.name, "Key": CONNECTION.key("42")}
    table.client.update_item(**mark, UpdateExpression="REMOVE touched, scopes")
    assert table.store.connection_touched("42") == "" and table.store.connection_scopes("42") == ()
    table.client.update_item(
        **mark, UpdateExpression="SET touched = :t", ExpressionAttributeValues=values({"t": "joined"})
    )
    assert table.store.delete_connection("42", touched="") is False and table.item(at) is not None  # a sign-in joined
    table.client.update_item(**mark, UpdateExpression="REMOVE touched")
    assert table.store.delete_connection("42", touched="") is True and table.item(at) is None


def test_a_device_sign_in_is_denied_only_while_it_is_pending(table: Table) -> None:
    device = DeviceCode(
        device_hash=hash_secret("device"), user_code_hash=hash_secret("user-code"), scopes=("current_user:read",),
        expires_at=NOW + timedelta(minutes=15), interval_ms=5000,
    )  # fmt: skip
    assert table.store.deny_device(device.device_hash) is False  # unknown
    assert table.store.put_device(device)
    assert table.store.deny_device(device.device_hash) is True
    denied = table.store.device(device.device_hash)
    assert denied is not None and denied.status == "denied"
    assert table.store.deny_device(device.device_hash) is False  # no longer pending


def test_a_webhooks_slot_names_it_and_its_status_follows_figma_while_it_exists(table: Table) -> None:
    ada = Webhook("1001", "ada", "FILE_UPDATE", "file", "file-key", NOW, description="the demo file")
    assert table.store.save_webhook(ada, hash_secret("passcode"))
    assert table.store.webhook_for("ada", "FILE_UPDATE", "file", "file-key") == "1001"
    assert table.store.webhook_for("ada", "FILE_UPDATE", "file", "another-file") is None
    assert table.store.webhook_for("ada", "FILE_COMMENT", "file", "file-key") is None
    assert table.store.webhook_for("bob", "FILE_UPDATE", "file", "file-key") is None

    table.store.set_webhook_status("ada", "1001", "paused")
    assert [w.status for w in table.store.user_webhooks("ada")] == ["paused"]
    table.store.set_webhook_status("ada", "1001", "active")
    assert [w.status for w in table.store.user_webhooks("ada")] == ["active"]
    table.store.delete_webhook("ada", ada)
    table.store.set_webhook_status("ada", "1001", "paused")  # gone: nothing is made again
    assert table.store.user_webhooks("ada") == []
    assert table.store.webhook_for("ada", "FILE_UPDATE", "file", "file-key") is None


def test_a_session_reads_back_with_its_client_and_an_agents_name(table: Table) -> None:
    agent = Session(hash_secret("agent"), "42", NOW, NOW + timedelta(days=30), client="agent", client_name="Claude")
    nameless = Session(hash_secret("nameless"), "42", NOW, NOW + timedelta(days=30), client="agent")
    token = Session(hash_secret("token"), "42", NOW, NOW + timedelta(days=30), client="token", activated=False)
    odd = Session(hash_secret("odd"), "42", NOW, NOW + timedelta(days=30), client="robot")  # type: ignore[arg-type]
    for s in (agent, nameless, token, odd):
        table.client.put_item(TableName=table.name, Item=session_item(s))
    table.client.update_item(TableName=table.name, Key=SESSION.key(odd.id), UpdateExpression="REMOVE activated")
    read = {s.id: s for s in table.store.user_sessions("42")}
    assert read == {agent.id: agent, nameless.id: nameless, token.id: token, odd.id: replace(odd, client="web")}


def test_many_sessions_are_deleted_25_a_batch_and_nobody_elses(table: Table) -> None:
    mine = [Session(hash_secret(f"s{n}"), "42", NOW, NOW + timedelta(days=30)) for n in range(60)]
    theirs = Session(hash_secret("theirs"), "43", NOW, NOW + timedelta(days=30))
    for s in (*mine, theirs):
        table.client.put_item(TableName=table.name, Item=session_item(s))
    table.store.delete_sessions([s.id for s in mine])
    assert table.store.user_sessions("42") == []
    assert table.store.user_sessions("43") == [theirs]


def test_a_signed_in_session_is_stored_with_its_expiry_as_the_tables_ttl(table: Table) -> None:
    session = Session(hash_secret("s"), "42", NOW, NOW + timedelta(days=30))
    assert table.store.sign_in(SignInWrite(session), connection("42", timedelta(hours=1)))
    stored = table.item(SESSION.key(session.id))
    assert stored is not None and stored["ttl"] == int(session.expires_at.timestamp())  # DynamoDB deletes it then


def test_a_token_sessions_activation_is_read_back_with_it(table: Table) -> None:
    session = Session(hash_secret("token"), "42", NOW, NOW + timedelta(days=30), client="token", activated=False)
    assert table.store.sign_in(SignInWrite(session), connection("42", timedelta(hours=1)))
    assert table.store.session_with_connection(session.id, "42")[0] == session

    assert table.store.activate_session(session.id)

    assert table.store.session_with_connection(session.id, "42")[0] == replace(session, activated=True)
    assert table.store.user_sessions("42") == [replace(session, activated=True)]


def test_a_webhook_saved_before_its_receiver_item_named_its_context_is_read_with_its_views(table: Table) -> None:
    ada = Webhook("1001", "ada", "FILE_UPDATE", "file", "file-key", NOW)
    table.store.save_webhook(ada, hash_secret("passcode"))
    table.client.update_item(
        TableName=table.name, Key=WEBHOOK.key("1001"), UpdateExpression="REMOVE context, context_id, event_type"
    )
    found = table.store.webhook_registration("1001")
    assert found == WebhookRegistration("ada", hash_secret("passcode"), "FILE_UPDATE", "file", "file-key")
    table.client.delete_item(TableName=table.name, Key=view_key("ada", "1001"))
    assert table.store.webhook_registration("1001") == WebhookRegistration("ada", hash_secret("passcode"), "", "", "")
    assert table.store.webhook_registration("") is None
    assert table.store.webhook_registration("1" * 129) is None


def test_a_device_sign_in_reads_back_with_what_it_was_started_with_and_expires_with_its_user_code(
    table: Table,
) -> None:
    started = DeviceCode(
        device_hash=hash_secret("device"), user_code_hash=hash_secret("user-code"), scopes=("current_user:read",),
        expires_at=NOW + timedelta(minutes=15), interval_ms=5000, client_id="Figma plugin",
        network=hash_secret("192.0.2.0/24"), started_at=NOW,
    )  # fmt: skip
    assert table.store.put_device(started)
    assert table.store.device(started.device_hash) == started
    expires = int(started.expires_at.timestamp())
    assert (table.item(DEVICE.key(started.device_hash)) or {}).get("ttl") == expires
    assert (table.item(USER_CODE.key(started.user_code_hash)) or {}).get("ttl") == expires
    bare = DeviceCode(hash_secret("bare"), hash_secret("bare-code"), (), NOW + timedelta(minutes=15), 5000)
    assert table.store.put_device(bare)
    assert table.store.device(bare.device_hash) == bare


def test_a_connection_as_the_seed_writes_it_reads_back_whole(table: Table) -> None:
    signed_in_ms = int((NOW - timedelta(hours=1)).timestamp() * 1000)
    seeded = replace(connection("42", timedelta(hours=1)), created_at=None, signed_in_ms=signed_in_ms, version=3)
    table.client.put_item(TableName=table.name, Item=connection_item(seeded, ttl=NOW + timedelta(days=3)))
    found = table.store.get_connection("42")
    assert found == replace(seeded, created_at=NOW - timedelta(hours=1))
    stored = table.item(CONNECTION.key("42"))
    assert stored is not None and stored["ttl"] == int((NOW + timedelta(days=3)).timestamp())
    assert [c.user_id for c in due(table, NOW, NOW + timedelta(hours=1))] == ["42"]
    marker = table.store.connection_touched("42")  # what the last logout reads, then deletes with
    assert marker and table.store.delete_connection("42", touched=marker)
    assert table.store.get_connection("42") is None


def test_a_connection_without_its_grant_is_no_item_to_seed() -> None:
    with pytest.raises(ValueError):
        connection_item(replace(connection("42", timedelta(hours=1)), grant_box=None), ttl=None)
    with pytest.raises(ValueError):
        connection_item(replace(connection("42", timedelta(hours=1)), grant_expires_at=None), ttl=None)


def test_a_connection_item_holding_nothing_but_its_key_reads_as_one_to_sign_in_again(table: Table) -> None:
    table.client.put_item(TableName=table.name, Item=CONNECTION.item("42"))
    assert table.store.get_connection("42") == Connection("42", Profile("", "", ""), (), status=REAUTH_REQUIRED)


def test_a_webhook_reads_back_with_its_status_endpoint_and_when_its_passcode_was_set(table: Table) -> None:
    paused = Webhook(
        "1001", "ada", "FILE_UPDATE", "file", "file-key", NOW, description="the demo file", status="paused",
        endpoint="https://api.example/webhooks/figma", passcode_set_at=NOW.replace(microsecond=250_000),
    )  # fmt: skip
    plain = Webhook("1002", "ada", "FILE_COMMENT", "team", "team-id", NOW)
    assert table.store.save_webhook(paused, hash_secret("passcode"))
    assert table.store.save_webhook(plain, hash_secret("another"))
    assert sorted(table.store.user_webhooks("ada"), key=lambda w: w.id) == [paused, plain]
    assert table.store.webhook_for("ada", "FILE_COMMENT", "team", "team-id") == "1002"
