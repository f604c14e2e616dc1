"""The read-once cache (usecases/file_cache.py): each file version read from Figma once, and
never a stored byte for a caller whose own /meta call Figma refused."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from figma_auth.errors import RateLimited
from figma_auth.figma import HOLD_BYTES, Overflow, ProxyResponse
from figma_auth.records import Connection, Profile
from figma_auth.records.file_cache import CachedRead
from figma_auth.usecases.file_cache import ReadOnce, file_read

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FILE = "/v1/files/KEY"
META = "/v1/files/KEY/meta"
DOC = json.dumps({"name": "Design", "document": {"children": []}}).encode()


def connection(user: str = "ada", scopes: tuple[str, ...] = ("file_content:read", "file_metadata:read")) -> Connection:
    return Connection(user, Profile(user, f"{user}@example.com", ""), scopes)


def meta(version: str = "101", status: int = 200) -> ProxyResponse:
    body = {"file": {"name": "Design", "version": version}} if status == 200 else {"status": status, "err": "Forbidden"}
    return ProxyResponse(status, json.dumps(body).encode(), "application/json", {})


def packed(body: bytes = DOC, status: int = 200, headers: dict[str, str] | None = None) -> ProxyResponse:
    return ProxyResponse(status, gzip.compress(body), "application/json", headers or {}, "gzip")


@dataclass
class Figma:
    """Figma as one user: answers by target, each call recorded."""

    connection: Connection = field(default_factory=connection)
    answers: dict[str, list[ProxyResponse | Exception]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def send(self, target: str, *, gzip: bool = False, overflow: Overflow | None = None) -> ProxyResponse:
        self.calls.append(target.partition("?")[0])
        found = self.answers[target.partition("?")[0]].pop(0)
        if isinstance(found, Exception):
            raise found
        if overflow is not None and len(found.body) > HOLD_BYTES:
            overflow(iter([found.body]), found.content_type, found.encoding)
            return replace(found, body=b"", overflowed=True)
        return found

    def tier1_calls(self) -> int:
        return sum(1 for c in self.calls if not c.endswith("/meta"))


@dataclass
class Index:
    """The store's index: entries, and fill claims as the table keeps them (one holder per request
    and version until its claim runs out)."""

    entries: dict[tuple[str, str], CachedRead] = field(default_factory=dict)
    claims: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    lands_after_looks: int | None = None  # another reader's entry appears after this many looks
    landing: CachedRead | None = None
    looks: int = 0

    def claim_fill(self, file_key: str, request: str, version: str, *, now: datetime, until: datetime) -> bool:
        held = self.claims.get((file_key, request))
        if held is not None and held[0] == version and held[1] >= now:
            return False
        self.claims[(file_key, request)] = (version, until)
        return True

    def cached_read(self, file_key: str, request: str, *, now: datetime) -> CachedRead | None:
        self.looks += 1
        if self.landing is not None and self.lands_after_looks is not None and self.looks > self.lands_after_looks:
            self.entries[(file_key, request)] = self.landing
            self.landing = None
        return self.entries.get((file_key, request))

    def save_cached_read(self, read: CachedRead, *, ttl: datetime) -> bool:
        self.entries[(read.file_key, read.request)] = read
        return True

    def forget_file(self, file_key: str) -> list[str]:
        gone = [k for k in self.entries if k[0] == file_key]
        return [self.entries.pop(k).object_key for k in gone]


@dataclass
class Bodies:
    objects: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    answers: int = 0

    def answer_key(self) -> str:
        self.answers += 1
        return f"answers/{self.answers}"

    def stream(self, key: str, chunks: Iterator[bytes], content_type: str, encoding: str | None) -> int:
        self.objects[key] = b"".join(chunks)
        return len(self.objects[key])

    def put(self, key: str, body: bytes, content_type: str, encoding: str | None) -> None:
        self.objects[key] = body

    def read(self, key: str) -> bytes:
        return self.objects[key]

    def chunks(self, key: str) -> Iterator[bytes]:
        yield self.objects[key]

    def url(self, key: str) -> str:
        return f"https://bucket.example/{key}?X-Amz-Signature=x"

    def delete(self, keys: list[str]) -> None:
        self.deleted.extend(keys)
        for key in keys:
            self.objects.pop(key, None)


@dataclass
class World:
    index: Index = field(default_factory=Index)
    bodies: Bodies = field(default_factory=Bodies)
    clock: list[datetime] = field(default_factory=lambda: [NOW])

    slept: list[float] = field(default_factory=list)

    @property
    def cache(self) -> ReadOnce:
        return ReadOnce(
            index=self.index, bodies=self.bodies, clock=lambda: self.clock[0], days=7, sleep=self.slept.append
        )

    def read(self, figma: Figma, target: str = FILE, *, gzip: bool = True, max_stale: bool = False) -> ProxyResponse:
        found = file_read("GET", target)
        assert found is not None
        return self.cache.answer(found, figma, gzip=gzip, max_stale=max_stale)


def limited() -> RateLimited:
    return RateLimited(
        retry_after=86400, tier=1, scope="file:KEY", limit_type="low", plan_tier="pro", upgrade_link=None
    )


# -- what is cacheable -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "key"),
    [("/v1/files/KEY", "KEY"), ("/v1/files/KEY/nodes?ids=1:2", "KEY"), ("/v1/images/KEY?ids=1:2&format=png", "KEY")],
)
def test_tier_1_file_reads_are_cacheable_by_their_file(target: str, key: str) -> None:
    found = file_read("GET", target)
    assert found is not None and found.file_key == key and found.target == target


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("GET", "/v1/files/KEY/meta"),
        ("GET", "/v1/files/KEY/comments"),
        ("POST", "/v1/files/KEY/comments"),
        ("GET", "/v1/me"),
        ("GET", "/v1/files/KEY/variables/local"),
        ("POST", "/v1/files/KEY"),
    ],
)
def test_anything_else_is_not(method: str, target: str) -> None:
    assert file_read(method, target) is None


def test_the_query_is_canonical_its_order_does_not_matter_its_values_do() -> None:
    a, b = file_read("GET", "/v1/files/K/nodes?ids=1&depth=2"), file_read("GET", "/v1/files/K/nodes?depth=2&ids=1")
    c = file_read("GET", "/v1/files/K/nodes?depth=3&ids=1")
    assert a is not None and b is not None and c is not None
    assert a.request == b.request != c.request


# -- read once -----------------------------------------------------------------------------------------


def test_ten_readers_of_one_version_cost_figma_one_tier_1_call() -> None:
    world = World()
    readers = [Figma(connection(f"user{i}"), {META: [meta()], FILE: [packed()]}) for i in range(10)]

    answers = [world.read(figma) for figma in readers]

    assert sum(f.tier1_calls() for f in readers) == 1
    assert [a.headers["X-Figma-Auth-Cache"] for a in answers] == ["miss"] + ["hit"] * 9
    assert {gzip.decompress(a.body) for a in answers} == {DOC}
    assert {a.headers["X-Figma-Version"] for a in answers} == {"101"}
    assert all(f.calls[0] == META for f in readers)  # each with its own token, first


def test_a_new_version_is_read_from_figma_again() -> None:
    world, edited = World(), json.dumps({"name": "Edited"}).encode()
    figma = Figma(answers={META: [meta("101"), meta("102"), meta("102")], FILE: [packed(), packed(edited)]})

    world.read(figma)
    second, third = world.read(figma), world.read(figma)

    assert figma.tier1_calls() == 2
    assert second.headers["X-Figma-Auth-Cache"] == "miss" and gzip.decompress(second.body) == edited
    assert third.headers["X-Figma-Auth-Cache"] == "hit" and third.headers["X-Figma-Version"] == "102"


@pytest.mark.parametrize("status", [403, 404])
def test_a_reader_figma_refuses_at_meta_gets_figmas_answer_and_no_stored_byte(status: int) -> None:
    world = World()
    world.read(Figma(answers={META: [meta()], FILE: [packed()]}))
    stranger = Figma(connection("mallory"), {META: [meta(status=status)], FILE: [packed()]})

    answer = world.read(stranger)

    assert answer.status == status and b"Design" not in answer.body and b"document" not in answer.body
    assert stranger.calls == [META]


def test_a_connection_without_file_metadata_read_bypasses_the_cache() -> None:
    world = World()
    world.read(Figma(answers={META: [meta()], FILE: [packed()]}))
    figma = Figma(connection(scopes=("file_content:read",)), {FILE: [packed()]})

    answer = world.read(figma)

    assert figma.calls == [FILE] and answer.headers["X-Figma-Auth-Cache"] == "bypass"


@pytest.mark.parametrize("refusal", ["ledger", "figma"])
def test_a_meta_call_refused_for_its_own_tier_2_limit_does_not_block_the_tier_1_read(refusal: str) -> None:
    world = World()
    world.read(Figma(answers={META: [meta("101")], FILE: [packed()]}))  # a version stored by someone
    tier2: ProxyResponse | Exception = (
        RateLimited(retry_after=60, tier=2, scope="user", limit_type="low", plan_tier="pro", upgrade_link=None)
        if refusal == "ledger"
        else ProxyResponse(429, b'{"status": 429}', "application/json", {"Retry-After": "60"})
    )
    figma = Figma(answers={META: [tier2], FILE: [packed()]})

    answer = world.read(figma)

    assert answer.status == 200 and answer.headers["X-Figma-Auth-Cache"] == "bypass"  # nothing stored shown
    assert figma.calls == [META, FILE]


def test_only_a_200_is_stored() -> None:
    world = World()
    figma = Figma(answers={META: [meta(), meta()], FILE: [packed(b'{"err": "no"}', status=400), packed()]})

    first, second = world.read(figma), world.read(figma)

    assert first.status == 400 and second.status == 200
    assert figma.tier1_calls() == 2 and second.headers["X-Figma-Auth-Cache"] == "miss"


def test_a_caller_that_does_not_take_gzip_gets_the_decoded_body() -> None:
    world = World()
    figma = Figma(answers={META: [meta(), meta()], FILE: [packed()]})

    miss, hit = world.read(figma, gzip=False), world.read(figma, gzip=False)

    assert miss.body == hit.body == DOC and miss.encoding is None and hit.encoding is None


def test_a_stored_read_too_large_to_hold_is_answered_by_its_url() -> None:
    world, big = World(), b"x" * (HOLD_BYTES + 1)
    figma = Figma(answers={META: [meta(), meta()], FILE: [ProxyResponse(200, big, "application/json", {})]})

    miss, hit = world.read(figma), world.read(figma)

    assert miss.location is not None and miss.location == hit.location
    assert world.bodies.objects[miss.location.split("/", 3)[3].split("?")[0]] == big


def test_a_large_gzip_body_for_a_caller_without_gzip_is_stored_decoded_as_an_answer_of_its_own() -> None:
    world = World()
    body = json.dumps({"blob": "ab" * HOLD_BYTES}).encode()
    squeezed = packed(body)
    figma = Figma(answers={META: [meta()], FILE: [squeezed]})

    answer = world.read(figma, gzip=False)

    assert answer.location is not None and "answers/" in answer.location
    assert world.bodies.objects["answers/1"] == body


# -- stale when limited --------------------------------------------------------------------------------


def test_a_read_refused_for_tier_1_answers_the_last_version_when_the_caller_allows_stale() -> None:
    world = World()
    world.read(Figma(answers={META: [meta("101")], FILE: [packed()]}))
    world.clock[0] = NOW + timedelta(hours=2)
    figma = Figma(answers={META: [meta("102")], FILE: [limited()]})

    answer = world.read(figma, max_stale=True)

    assert answer.status == 200 and gzip.decompress(answer.body) == DOC
    assert answer.headers["X-Figma-Auth-Cache"] == "stale" and answer.headers["X-Figma-Version"] == "101"
    assert answer.headers["Age"] == "7200" and answer.headers["Retry-After"] == "86400"
    assert answer.headers["X-Figma-Rate-Limit-Type"] == "low"


def test_without_max_stale_the_429_names_the_version_it_could_have() -> None:
    world = World()
    world.read(Figma(answers={META: [meta("101")], FILE: [packed()]}))

    with pytest.raises(RateLimited) as refused:
        world.read(Figma(answers={META: [meta("102")], FILE: [limited()]}))

    assert refused.value.fields()["stale_version"] == "101"


def test_figmas_own_429_answers_stale_too_or_names_the_version() -> None:
    world = World()
    world.read(Figma(answers={META: [meta("101")], FILE: [packed()]}))
    figmas = ProxyResponse(
        429, b'{"status": 429, "err": "Rate limit exceeded"}', "application/json", {"Retry-After": "60"}
    )

    stale = world.read(Figma(answers={META: [meta("102")], FILE: [figmas]}), max_stale=True)
    named = world.read(Figma(answers={META: [meta("102")], FILE: [figmas]}))

    assert stale.headers["X-Figma-Auth-Cache"] == "stale" and stale.headers["Retry-After"] == "60"
    assert named.status == 429 and json.loads(named.body)["stale_version"] == "101"


def test_stale_is_never_served_to_a_reader_whose_meta_figma_refused() -> None:
    world = World()
    world.read(Figma(answers={META: [meta("101")], FILE: [packed()]}))
    stranger = Figma(connection("mallory"), {META: [meta(status=403)], FILE: [limited()]})

    answer = world.read(stranger, max_stale=True)

    assert answer.status == 403 and stranger.calls == [META]


def test_a_read_refused_with_nothing_stored_is_the_plain_429() -> None:
    with pytest.raises(RateLimited) as refused:
        World().read(Figma(answers={META: [meta()], FILE: [limited()]}), max_stale=True)
    assert "stale_version" not in refused.value.fields()


# -- a deleted file --------------------------------------------------------------------------------------


def test_forgetting_a_file_deletes_its_entries_and_bodies() -> None:
    world = World()
    figma = Figma(answers={META: [meta(), meta()], FILE: [packed()], "/v1/files/KEY/nodes": [packed()]})
    world.read(figma)
    world.read(figma, "/v1/files/KEY/nodes?ids=1:2")

    assert world.cache.forget("KEY") == 2
    assert world.index.entries == {} and world.bodies.objects == {}


def test_figmas_request_too_large_says_what_to_ask_instead() -> None:
    from figma_auth.usecases.proxy import explained

    figmas = b'{"status": 400, "err": "Request too large. If applicable, filter by query params."}'
    answer = explained(ProxyResponse(400, figmas, "application/json", {}))

    body = json.loads(answer.body)
    assert answer.status == 400 and body["err"].startswith("Request too large")
    assert "ids=" in body["message"] and "depth=" in body["message"]
    other = ProxyResponse(400, b'{"status": 400, "err": "Invalid parameter"}', "application/json", {})
    assert explained(other) is other


def test_figmas_request_too_large_is_explained_even_when_it_came_gzip() -> None:
    from figma_auth.usecases.proxy import explained

    figmas = gzip.compress(b'{"status": 400, "err": "Request too large. If applicable, filter by query params."}')
    answer = explained(ProxyResponse(400, figmas, "application/json", {}, "gzip"))

    assert answer.encoding is None and "ids=" in json.loads(answer.body)["message"]


# -- one read from Figma however many ask at once ----------------------------------------------------------


def test_a_reader_arriving_while_another_reads_the_version_waits_for_its_entry_instead_of_calling_figma() -> None:
    world = World()
    world.read(Figma(answers={META: [meta("101")], FILE: [packed()]}))  # what the other reader will store
    (key,) = world.index.entries
    stored = world.index.entries.pop(key)
    world.index.claims[key] = ("101", NOW + timedelta(seconds=10))  # the other reader is at Figma now
    world.index.landing, world.index.lands_after_looks = stored, 3
    figma = Figma(answers={META: [meta("101")], FILE: [packed()]})

    answer = world.read(figma)

    assert figma.tier1_calls() == 0 and answer.headers["X-Figma-Auth-Cache"] == "hit"
    assert len(world.slept) == 2  # two looks in vain, the third found it


def test_a_reader_whose_wait_runs_out_reads_figma_itself() -> None:
    world = World()
    world.index.claims[("KEY", file_read("GET", FILE).request)] = ("101", NOW + timedelta(seconds=10))  # type: ignore[union-attr]
    figma = Figma(answers={META: [meta("101")], FILE: [packed()]})

    answer = world.read(figma)

    assert figma.tier1_calls() == 1 and answer.headers["X-Figma-Auth-Cache"] == "miss"
    assert 0 < sum(world.slept) <= 10


def test_a_claim_for_another_version_does_not_hold_a_reader_back() -> None:
    world = World()
    world.index.claims[("KEY", file_read("GET", FILE).request)] = ("100", NOW + timedelta(seconds=10))  # type: ignore[union-attr]
    figma = Figma(answers={META: [meta("101")], FILE: [packed()]})

    world.read(figma)

    assert figma.tier1_calls() == 1 and world.slept == []
