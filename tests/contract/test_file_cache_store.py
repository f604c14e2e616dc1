"""The read-once cache's index on DynamoDB Local (the DynamoDB store alone: the unit tests'
stand-in lives in test_file_cache.py): a request's entry until its TTL, a newer version never
overwritten by an older, one reader filling a version while its claim holds, and a file's items
forgotten together."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from figma_auth.records.file_cache import CachedRead
from figma_auth.store.codec import key
from figma_auth.store.file_cache import FILE, FILL, rank
from tests.support.contract import NOW, Table

READ = CachedRead("FILEKEY", "request-hash", "1200", NOW, "application/json", "gzip", 1234, "objects/a")
TTL = NOW + timedelta(days=7)


def test_a_read_is_found_until_its_ttl(table: Table) -> None:
    assert table.store.save_cached_read(READ, ttl=TTL) is True
    assert table.store.cached_read("FILEKEY", "request-hash", now=NOW) == READ
    assert table.store.cached_read("FILEKEY", "request-hash", now=TTL - timedelta(seconds=1)) == READ
    assert table.store.cached_read("FILEKEY", "request-hash", now=TTL) is None
    assert table.store.cached_read("FILEKEY", "another-request", now=NOW) is None
    assert table.store.cached_read("ANOTHER", "request-hash", now=NOW) is None


def test_a_read_without_an_encoding_reads_back_without_one(table: Table) -> None:
    plain = replace(READ, encoding=None, size=0)
    table.store.save_cached_read(plain, ttl=TTL)
    assert table.store.cached_read("FILEKEY", "request-hash", now=NOW) == plain


def test_a_newer_version_replaces_an_older_and_never_the_reverse(table: Table) -> None:
    newer = replace(READ, version="1300", object_key="objects/b", stored_at=NOW + timedelta(seconds=5))
    assert table.store.save_cached_read(READ, ttl=TTL) is True
    assert table.store.save_cached_read(newer, ttl=TTL) is True
    assert table.store.save_cached_read(READ, ttl=TTL) is False
    assert table.store.cached_read("FILEKEY", "request-hash", now=NOW) == newer
    again = replace(newer, object_key="objects/c")
    assert table.store.save_cached_read(again, ttl=TTL) is True  # the same version: the last write stays
    assert table.store.cached_read("FILEKEY", "request-hash", now=NOW) == again


def test_versions_rank_by_number_and_any_other_spelling_ranks_lowest() -> None:
    assert rank("1300") == 1300
    assert rank("9" * 29) == int("9" * 29)
    assert rank("9" * 30) == 0
    assert rank("v12") == 0
    assert rank("") == 0


def test_one_reader_fills_a_version_while_its_claim_holds(table: Table) -> None:
    until = NOW + timedelta(seconds=10)
    assert table.store.claim_fill("FILEKEY", "request-hash", "1200", now=NOW, until=until) is True
    assert table.store.claim_fill("FILEKEY", "request-hash", "1200", now=NOW, until=until) is False
    assert table.store.claim_fill("FILEKEY", "request-hash", "1200", now=until, until=until) is False  # to its ms
    later = until + timedelta(milliseconds=1)
    assert table.store.claim_fill("FILEKEY", "request-hash", "1200", now=later, until=later + timedelta(seconds=10))
    assert table.store.claim_fill("FILEKEY", "another-request", "1200", now=NOW, until=until) is True
    assert table.store.claim_fill("FILEKEY", "request-hash", "1300", now=NOW, until=until) is True  # another version
    assert table.store.claim_fill("FILEKEY", "request-hash", "1300", now=NOW, until=until) is False


def test_a_fill_claim_expires_from_the_table_a_minute_after_it_ends(table: Table) -> None:
    until = NOW + timedelta(seconds=10)
    table.store.claim_fill("FILEKEY", "request-hash", "1200", now=NOW, until=until)
    found = table.item(key(FILE.pk("FILEKEY"), FILL + "request-hash"))
    assert found is not None
    assert (found["ttl"], found["until_ms"]) == (int(until.timestamp()) + 60, int(until.timestamp() * 1000))


def test_a_forgotten_file_loses_every_entry_and_claim_and_names_its_objects(table: Table) -> None:
    table.store.save_cached_read(READ, ttl=TTL)
    table.store.save_cached_read(replace(READ, request="second", object_key="objects/b"), ttl=TTL)
    table.store.claim_fill("FILEKEY", "request-hash", "1300", now=NOW, until=NOW + timedelta(seconds=10))
    table.store.save_cached_read(replace(READ, file_key="ANOTHER", object_key="objects/z"), ttl=TTL)

    assert sorted(table.store.forget_file("FILEKEY")) == ["objects/a", "objects/b"]
    assert table.store.cached_read("FILEKEY", "request-hash", now=NOW) is None
    assert table.store.claim_fill("FILEKEY", "request-hash", "1300", now=NOW, until=NOW + timedelta(seconds=10))
    assert table.store.cached_read("ANOTHER", "request-hash", now=NOW) is not None
    assert table.store.forget_file("NOTHING") == []
