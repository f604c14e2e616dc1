"""HTTP clients for the tests, sharing one TLS context."""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx


@functools.cache
def tls() -> ssl.SSLContext:
    """The TLS context every test client shares: httpx otherwise makes one per client, loading
    its CA bundle each time (about 30 ms; a run makes hundreds of clients, nearly all for
    plain http://127.0.0.1)."""
    return httpx.create_ssl_context()


def client(**options: Any) -> httpx.Client:
    """An httpx.Client with the shared TLS context."""
    return httpx.Client(verify=tls(), **options)
