"""The read-once cache's index: for each file and canonical request, the last version read
(``FILE#<file key>`` / ``READ#<request hash>``), its body's object in S3 and when it was stored.
One item per request, overwritten by a newer version; a file's items are deleted together when
Figma says the file is gone. Items expire after FILE_CACHE_DAYS (checked on read)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from figma_auth.store.codec import key, unmarshal, values
from figma_auth.store.table import Kind, Table
from figma_auth.times import iso, parse_iso

if TYPE_CHECKING:  # built in the functions below, which import them: see figma_auth.store
    from figma_auth.records.file_cache import CachedRead

FILE = Kind("FILE")  # by file key: its partition holds one READ# item per canonical request
READ = "READ#"
FILL = "FILL#"  # a reader reading this request's version from Figma now: the others wait for it


def rank(version: str) -> int:
    """Figma's versions are growing numbers: a later one ranks higher (any other spelling: 0)."""
    return int(version) if version.isdigit() and len(version) < 30 else 0


def cached_read_values(read: CachedRead, ttl: datetime) -> dict[str, Any]:
    return {
        "version": read.version,
        "rank": rank(read.version),
        "stored_at": iso(read.stored_at),
        "content_type": read.content_type,
        "encoding": read.encoding or "",
        "size": read.size,
        "object_key": read.object_key,
        "ttl": int(ttl.timestamp()),
    }


def cached_read_from(item: dict[str, Any]) -> CachedRead:
    from figma_auth.records.file_cache import CachedRead

    return CachedRead(
        file_key=FILE.ident(item["pk"]),
        request=item["sk"].removeprefix(READ),
        version=item["version"],
        stored_at=parse_iso(item["stored_at"]),
        content_type=item["content_type"],
        encoding=item["encoding"] or None,
        size=int(item["size"]),
        object_key=item["object_key"],
    )


class FileCacheTable(Table):
    def cached_read(self, file_key: str, request: str, *, now: datetime) -> CachedRead | None:
        """The last version read for this request, unless it has expired."""
        item = self.db.get_item(TableName=self.table, Key=key(FILE.pk(file_key), READ + request)).get("Item")
        if item is None:
            return None
        found = unmarshal(item)
        return cached_read_from(found) if int(found["ttl"]) > now.timestamp() else None

    def save_cached_read(self, read: CachedRead, *, ttl: datetime) -> bool:
        """The read as the request's entry, unless a later version's is there already (two readers
        racing across an edit: the newer stays). False when it was not saved."""
        named = cached_read_values(read, ttl)
        return self._update(
            key(FILE.pk(read.file_key), READ + read.request),
            "SET version = :version, #rank = :rank, stored_at = :stored_at, content_type = :content_type, "
            "encoding = :encoding, #size = :size, object_key = :object_key, #ttl = :ttl",
            "attribute_not_exists(pk) OR #rank <= :rank",
            names={"#rank": "rank", "#size": "size", "#ttl": "ttl"},
            **named,
        )

    def claim_fill(self, file_key: str, request: str, version: str, *, now: datetime, until: datetime) -> bool:
        """Whether this reader is the one to read ``version`` of the request from Figma: true unless
        another reader claimed that version and its claim still holds (a claim for another version,
        or one past ``until``, is taken over)."""
        return self._update(
            key(FILE.pk(file_key), FILL + request),
            "SET version = :version, until_ms = :until, #ttl = :ttl",
            "attribute_not_exists(pk) OR version <> :version OR until_ms < :now",
            names={"#ttl": "ttl"},
            version=version,
            until=int(until.timestamp() * 1000),
            now=int(now.timestamp() * 1000),
            ttl=int(until.timestamp()) + 60,
        )

    def forget_file(self, file_key: str) -> list[str]:
        """Every item of the file deleted (its entries and fill claims); the objects its entries
        named (for the caller to delete)."""
        objects: list[str] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values({"pk": FILE.pk(file_key)}),
            ConsistentRead=True,
        ):
            for item in page:
                self.db.delete_item(TableName=self.table, Key=key(item["pk"], item["sk"]))
                if item["sk"].startswith(READ):
                    objects.append(item["object_key"])
        return objects
