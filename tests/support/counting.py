"""A real AWS client (moto's, DynamoDB Local's) that records the operations called on it, in order:
for tests that pin how many calls a cache or a batch makes."""

from __future__ import annotations

from typing import Any


class CountingClient:
    """``client`` as it is, with ``calls``: each operation's name, in the order called."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[str] = []
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            return getattr(self.client, name)(**kwargs)

        return call
