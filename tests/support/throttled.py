"""DynamoDB as it answers a busy table, over AWS's DynamoDB Local: a thin wrapper around the real
boto3 client that answers in parts where DynamoDB is documented to, while the real engine does
all the work. DynamoDB Local never does this on the contract suite's small tables, so without
it the store's paging and retries would run in no test.

- BatchGetItem and BatchWriteItem: only the first ``per_batch`` keys (or write requests) reach
  the engine; the rest come back as ``UnprocessedKeys`` (``UnprocessedItems``) in the request's
  own shape, as DynamoDB returns what it could not process under throttling.
- Query and Scan: a page ends after at most ``page`` items (DynamoDB ends one at 1 MB of reads),
  so the engine answers a ``LastEvaluatedKey`` and the caller has to go on from there.

Everything else goes to the client as it is. ``batches`` is how many keys (write requests) each
batch call asked for: what the store sent, not what it was told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from figma_auth.store import Store
from tests.support.contract import Table


@dataclass
class Throttled:
    client: Any
    per_batch: int | None = None
    page: int | None = None
    batches: list[int] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def batch_get_item(self, *, RequestItems: dict[str, Any], **rest: Any) -> Any:  # noqa: N803 (boto3's name)
        ((table, request),) = RequestItems.items()
        sent, left = self._split(request["Keys"])
        answer = self.client.batch_get_item(RequestItems={table: {**request, "Keys": sent}}, **rest)
        answer["UnprocessedKeys"] = {table: {**request, "Keys": left}} if left else {}
        return answer

    def batch_write_item(self, *, RequestItems: dict[str, Any], **rest: Any) -> Any:  # noqa: N803 (boto3's name)
        ((table, requests),) = RequestItems.items()
        sent, left = self._split(requests)
        answer = self.client.batch_write_item(RequestItems={table: sent}, **rest)
        answer["UnprocessedItems"] = {table: left} if left else {}
        return answer

    def query(self, **query: Any) -> Any:
        return self.client.query(**self._paged(query))

    def scan(self, **scan: Any) -> Any:
        return self.client.scan(**self._paged(scan))

    def _split(self, asked: list[Any]) -> tuple[list[Any], list[Any]]:
        self.batches.append(len(asked))
        taken = len(asked) if self.per_batch is None else self.per_batch
        return asked[:taken], asked[taken:]

    def _paged(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.page is None:
            return request
        return {**request, "Limit": min(request.get("Limit", self.page), self.page)}


@dataclass
class Busy:
    """The real store on a contract table, its client ``Throttled``, and the pauses it took
    (its injectable ``sleep``: nothing waits)."""

    store: Store
    dynamodb: Throttled
    pauses: list[float]


def busy(table: Table, *, per_batch: int | None = None, page: int | None = None) -> Busy:
    """The store on ``table`` (tests/contract's fixture) as a busy DynamoDB answers it."""
    dynamodb = Throttled(table.client, per_batch, page)
    client: Any = dynamodb  # boto3's client, as far as the store can tell
    pauses: list[float] = []
    return Busy(Store(table_name=table.name, client=client, sleep=pauses.append), dynamodb, pauses)
