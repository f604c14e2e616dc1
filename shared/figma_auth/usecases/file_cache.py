"""Read each file version from Figma once (``FILE_CACHE=shared``).

Figma's Tier-1 reads (``GET /v1/files/{key}``, ``/v1/files/{key}/nodes``, ``/v1/images/{key}``)
are its scarcest budget: six a month for a View or Collab seat. Each is first checked with
``GET /v1/files/{key}/meta`` **with the caller's own token**: its 200 proves the user may read
the file now and names the file's ``version``. A stored answer for that version and request
answers (``hit``) without a Tier-1 call; otherwise Figma is asked and its 200 stored (``miss``).
A 403/404 from ``/meta`` is passed back and nothing stored is shown. When the Tier-1 call is
refused for its rate limit, the last stored version answers if the caller allows it with
``Cache-Control: max-stale`` (``stale``); otherwise the 429 names it (``stale_version``). A
connection without ``file_metadata:read`` cannot ask ``/meta``: its reads go straight to Figma
(``bypass``).

Bodies live in S3 (gzip, as Figma sent them), indexed per file and request in the table
(store/file_cache.py); a FILE_DELETE webhook event forgets the file.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

from figma_auth import deadline
from figma_auth.errors import RateLimited
from figma_auth.figma import HOLD_BYTES, Overflow, ProxyResponse
from figma_auth.observability import metrics_count
from figma_auth.records import Connection
from figma_auth.records.file_cache import CachedRead

META_SCOPES = ("file_metadata:read", "files:read")  # either lets a token read /meta
CACHE_HEADER = "X-Figma-Auth-Cache"
VERSION_HEADER = "X-Figma-Version"
FILL_WAIT = timedelta(seconds=10)  # how long readers wait for the one reading a version from Figma
FILL_POLL = 0.2  # seconds between their looks at the index
_STORED = "x-figma-auth-stored-bytes"  # internal: the size of a body streamed to S3 (never sent)
_LIMIT_HEADERS = ("retry-after", "x-figma-rate-limit-type", "x-figma-plan-tier", "x-figma-upgrade-link")


@dataclass(frozen=True)
class FileRead:
    """A cacheable read: the file it reads, the hash of its canonical request, and the target."""

    file_key: str
    request: str
    target: str

    @property
    def meta(self) -> str:
        return f"/v1/files/{self.file_key}/meta"


def _meta(read: FileRead, figma: Figma) -> ProxyResponse | None:
    """/meta's answer, or None: the connection cannot ask it (no ``file_metadata:read``), or
    /meta's own rate limit (Tier 2) holds, which is not the read's (Tier 1) to suffer."""
    if not any(s in figma.connection.scopes for s in META_SCOPES):
        return None
    try:
        meta = figma.send(read.meta)
    except RateLimited:
        return None
    return None if meta.status == 429 else meta


def file_read(method: str, target: str) -> FileRead | None:
    """The Tier-1 read ``target`` is (a checked API path and query), or None: path and sorted
    query are the canonical request (``?b=1&a=2`` and ``?a=2&b=1`` are one read)."""
    if method != "GET":
        return None
    path, _, query = target.partition("?")
    parts = path.strip("/").split("/")
    if parts[:2] == ["v1", "files"] and len(parts) in (3, 4) and parts[3:] in ([], ["nodes"]):
        key = parts[2]
    elif parts[:2] == ["v1", "images"] and len(parts) == 3:
        key = parts[2]
    else:
        return None
    canonical = path + "?" + urlencode(sorted(parse_qsl(query, keep_blank_values=True)))
    return FileRead(key, hashlib.sha256(canonical.encode()).hexdigest(), target)


class Figma(Protocol):
    """Figma as the caller's user (usecases/proxy.py's FigmaAsUser)."""

    connection: Connection

    def send(self, target: str, *, gzip: bool = False, overflow: Overflow | None = None) -> ProxyResponse: ...


class CacheIndex(Protocol):
    def cached_read(self, file_key: str, request: str, *, now: datetime) -> CachedRead | None: ...
    def claim_fill(self, file_key: str, request: str, version: str, *, now: datetime, until: datetime) -> bool: ...
    def save_cached_read(self, read: CachedRead, *, ttl: datetime) -> bool: ...
    def forget_file(self, file_key: str) -> list[str]: ...


class CacheBodies(Protocol):
    def answer_key(self) -> str: ...
    def stream(self, key: str, chunks: Iterator[bytes], content_type: str, encoding: str | None) -> int: ...
    def put(self, key: str, body: bytes, content_type: str, encoding: str | None) -> None: ...
    def read(self, key: str) -> bytes: ...
    def chunks(self, key: str) -> Iterator[bytes]: ...
    def url(self, key: str) -> str: ...
    def delete(self, keys: list[str]) -> None: ...


class ReadOnce:
    def __init__(
        self,
        *,
        index: CacheIndex,
        bodies: CacheBodies,
        clock: Callable[[], datetime],
        days: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.index, self.bodies, self.clock, self.days, self.sleep = index, bodies, clock, days, sleep

    def read_of(self, method: str, target: str) -> FileRead | None:
        return file_read(method, target)

    def answer(self, read: FileRead, figma: Figma, *, gzip: bool, max_stale: bool) -> ProxyResponse:
        """The read's answer for the caller (``gzip``: it takes Content-Encoding: gzip;
        ``max_stale``: it takes a stored version when the Tier-1 call is refused)."""
        meta = _meta(read, figma)
        if meta is not None and meta.status != 200:
            return meta  # Figma's own answer: no access (403/404); nothing stored shown
        version = _version(meta) if meta is not None else None
        if version is None:  # no file_metadata:read, /meta's own limit, or no version: straight to Figma
            metrics_count("FileCacheBypass")
            key = self.bodies.answer_key()
            return self._deliver(self._send(figma, read.target, key, gzip), key, gzip, "bypass", None)
        held = self.index.cached_read(read.file_key, read.request, now=self.clock())
        if held is not None and held.version == version:
            metrics_count("FileCacheHit")
            metrics_count("FileCacheTier1Saved")
            return self._serve(held, gzip, "hit")
        filled = self._filled_by_another(read, version)
        if filled is not None:
            metrics_count("FileCacheHit")
            metrics_count("FileCacheTier1Saved")
            return self._serve(filled, gzip, "hit")
        key = f"files/{read.file_key}/{version}/{read.request}"
        try:
            fetched = self._fetch(read, figma, key, version)
        except RateLimited as limited:
            if held is None:
                raise
            if max_stale:
                return self._stale(held, gzip, {**limited.headers(), "Retry-After": str(limited.retry_after)})
            limited.stale_version = held.version
            raise
        if fetched.status == 429 and held is not None:
            if max_stale:
                return self._stale(held, gzip, _limit_headers(fetched))
            return _with_stale_version(fetched, held.version)
        metrics_count("FileCacheMiss")
        return self._deliver(fetched, key, gzip, "miss", version)

    def _filled_by_another(self, read: FileRead, version: str) -> CachedRead | None:
        """When another reader is reading this version from Figma now, its entry once stored (read
        it once, however many ask at the same moment); None when this reader is to read it, or
        the other's read did not land within FILL_WAIT (then this one reads it too)."""
        now = self.clock()
        if self.index.claim_fill(read.file_key, read.request, version, now=now, until=now + FILL_WAIT):
            return None
        waited = 0.0
        while waited < deadline.bounded(FILL_WAIT.total_seconds()) - FILL_POLL:
            self.sleep(FILL_POLL)
            waited += FILL_POLL
            held = self.index.cached_read(read.file_key, read.request, now=self.clock())
            if held is not None and held.version == version:
                return held
        metrics_count("FileCacheFillWaitedOut")
        return None

    def forget(self, file_key: str) -> int:
        """The file is gone at Figma (FILE_DELETE): its entries and bodies deleted. How many."""
        objects = self.index.forget_file(file_key)
        self.bodies.delete(objects)
        return len(objects)

    # -- Figma --------------------------------------------------------------------------------

    def _fetch(self, read: FileRead, figma: Figma, key: str, version: str) -> ProxyResponse:
        """The read from Figma (gzip, stored as it came), its 200 stored at ``key`` and indexed
        under ``version``; anything else stored nowhere."""
        fetched = self._send(figma, read.target, key, gzip=True)
        if fetched.status != 200:
            if fetched.overflowed:
                self.bodies.delete([key])
            return fetched
        if not fetched.overflowed:
            self.bodies.put(key, fetched.body, fetched.content_type, fetched.encoding)
        now = self.clock()
        size = int(fetched.headers.get(_STORED, len(fetched.body)))
        entry = CachedRead(read.file_key, read.request, version, now, fetched.content_type, fetched.encoding, size, key)
        self.index.save_cached_read(entry, ttl=now + timedelta(days=self.days))
        return fetched

    def _send(self, figma: Figma, target: str, key: str, gzip: bool) -> ProxyResponse:
        """``target``'s answer; one too large to hold streamed to ``key`` (its size noted)."""
        stored: list[int] = []

        def overflow(chunks: Iterator[bytes], content_type: str, encoding: str | None) -> None:
            stored.append(self.bodies.stream(key, chunks, content_type, encoding))

        fetched = figma.send(target, gzip=gzip, overflow=overflow)
        return replace(fetched, headers={**fetched.headers, _STORED: str(stored[0])}) if stored else fetched

    # -- answering ----------------------------------------------------------------------------

    def _serve(self, held: CachedRead, gzip: bool, how: str, extra: dict[str, str] | None = None) -> ProxyResponse:
        """A stored read as the caller takes it: held in the response when it fits, else its URL."""
        headers = {CACHE_HEADER: how, VERSION_HEADER: held.version, **(extra or {})}
        if held.encoding is None or gzip:
            if held.size <= HOLD_BYTES:
                body = self.bodies.read(held.object_key)
                return ProxyResponse(200, body, held.content_type, headers, held.encoding)
            return ProxyResponse(
                200, b"", held.content_type, headers, held.encoding, location=self.bodies.url(held.object_key)
            )
        return self._decoded(self.bodies.chunks(held.object_key), held.content_type, headers)

    def _stale(self, held: CachedRead, gzip: bool, limit: dict[str, str]) -> ProxyResponse:
        metrics_count("FileCacheStale")
        metrics_count("FileCacheTier1Saved")
        age = max(0, int((self.clock() - held.stored_at).total_seconds()))
        return self._serve(held, gzip, "stale", {**limit, "Age": str(age)})

    def _deliver(self, fetched: ProxyResponse, key: str, gzip: bool, how: str, version: str | None) -> ProxyResponse:
        """Figma's answer to the caller, marked: held, or by the URL of ``key`` where it was
        stored; decoded first when it came compressed and the caller does not take gzip."""
        headers = {n: v for n, v in fetched.headers.items() if n != _STORED}
        headers.update({CACHE_HEADER: how, **({VERSION_HEADER: version} if version else {})})
        if fetched.encoding is None or gzip:
            location = self.bodies.url(key) if fetched.overflowed else None
            return replace(fetched, headers=headers, location=location)
        chunks = self.bodies.chunks(key) if fetched.overflowed else iter([fetched.body])
        return self._decoded(chunks, fetched.content_type, headers, status=fetched.status)

    def _decoded(
        self, chunks: Iterator[bytes], content_type: str, headers: dict[str, str], status: int = 200
    ) -> ProxyResponse:
        """gzip ``chunks`` decoded for a caller that does not take gzip: held when it fits, else
        streamed (decoded) to an answer of its own."""
        plain = _gunzip(chunks)
        held: list[bytes] = []
        size = 0
        for piece in plain:
            held.append(piece)
            size += len(piece)
            if size > HOLD_BYTES:
                key = self.bodies.answer_key()
                self.bodies.stream(key, _joined(held, plain), content_type, None)
                return ProxyResponse(status, b"", content_type, headers, location=self.bodies.url(key))
        return ProxyResponse(status, b"".join(held), content_type, headers)


def _gunzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    for chunk in chunks:
        data = chunk
        while data:
            yield inflate.decompress(data, 1024 * 1024)
            data = inflate.unconsumed_tail
    yield inflate.flush()


def _joined(first: list[bytes], rest: Iterator[bytes]) -> Iterator[bytes]:
    yield from first
    yield from rest


def _version(meta: ProxyResponse) -> str | None:
    """The file's version in /meta's answer (``{"file": {…, "version"}}``), or None."""
    try:
        body = json.loads(zlib.decompress(meta.body, 16 + zlib.MAX_WBITS) if meta.encoding == "gzip" else meta.body)
    except (ValueError, zlib.error):
        return None
    file = body.get("file") if isinstance(body, dict) else None
    version = file.get("version") if isinstance(file, dict) else None
    return str(version) if isinstance(version, (str, int)) and str(version) else None


def _limit_headers(answer: ProxyResponse) -> dict[str, str]:
    return {name: value for name, value in answer.headers.items() if name.lower() in _LIMIT_HEADERS}


def _with_stale_version(answer: ProxyResponse, version: str) -> ProxyResponse:
    """Figma's 429, its JSON body naming the version a ``max-stale`` read would get."""
    try:
        body = json.loads(answer.body) if answer.encoding is None else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return replace(answer, headers={**answer.headers, VERSION_HEADER: version})
    return replace(answer, body=json.dumps({**body, "stale_version": version}).encode())
