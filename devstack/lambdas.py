"""Runs the functions of template.yaml as Lambda would: payload-v2 events built as API
Gateway builds them, served by a pool of worker processes per function (devstack/workers.py)."""

from __future__ import annotations

import base64
import sys
import time
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from devstack import template
from devstack.hooks import HOOKS
from devstack.template import Function, Route
from devstack.workers import FunctionPool, LambdaContext, load_module

__all__ = ["Containers", "LambdaContext", "http_event", "load_module"]


class Containers:
    """Every function of template.yaml as a pool of worker processes (devstack/workers.py)."""

    def __init__(self, out: Any = None) -> None:
        doc = template.load()
        self.functions = template.functions(doc)
        self.routes = template.routes(doc)
        self.sinks: list[Any] = []  # extra copies of the workers' output (tests read the logs)
        self.out = out or (lambda: _Tee([sys.stdout, *self.sinks]))
        self.pools = {k: FunctionPool(fn, self.out) for k, fn in self.functions.items()}

    def by_name(self, name: str) -> Function:
        for fn in self.functions.values():
            if name in (fn.name, fn.logical_id):
                return fn
        raise KeyError(
            f"no function {name!r} in template.yaml (have: {', '.join(f.name for f in self.functions.values())})"
        )

    def warm(self) -> None:
        """Start one worker of every function now, so a bad setting fails at start-up."""
        for pool in self.pools.values():
            pool.warm()

    def invoke(self, fn: Function, event: dict[str, Any]) -> Any:
        pool = self.pools[fn.logical_id]
        if HOOKS.armed():  # faults count calls across workers: one event at a time while armed
            with HOOKS.lock:
                return pool.invoke(event, HOOKS)
        return pool.invoke(event, HOOKS)

    def recycle(self) -> None:
        """Retire every warm worker: the next event of each function is a cold start."""
        for pool in self.pools.values():
            pool.recycle()

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for candidate in self.routes:
            params = candidate.match(method, path)
            if params is not None:  # API Gateway hands path parameters to the function decoded
                return candidate, {name: unquote(value) for name, value in params.items()}
        return None


class _Tee:
    def __init__(self, streams: list[Any]) -> None:
        self.streams = streams

    def write(self, text: str) -> None:
        for stream in self.streams:
            stream.write(text)

    def flush(self) -> None:
        for stream in self.streams:
            if hasattr(stream, "flush"):
                stream.flush()


def http_event(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    route: Route,
    path_params: dict[str, str],
    domain: str,
    source_ip: str = "127.0.0.1",
    authorizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload-v2 event, as API Gateway builds it."""
    lowered: dict[str, str] = {}
    for name, value in headers:  # repeated headers arrive joined with commas, as API Gateway does
        key = name.lower()
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    cookies = [c.strip() for c in lowered.pop("cookie", "").split(";") if c.strip()]
    query: dict[str, str] = {}
    for pair in raw_query.split("&") if raw_query else []:
        name, _, value = pair.partition("=")
        name, value = unquote(name.replace("+", " ")), unquote(value.replace("+", " "))
        query[name] = f"{query[name]},{value}" if name in query else value  # API Gateway joins repeats
    text_types = ("application/json", "text/", "application/x-www-form-urlencoded")
    is_text = not body or any(t in lowered.get("content-type", "") for t in text_types)
    if is_text and body:
        try:
            body.decode()
        except UnicodeDecodeError:  # API Gateway base64-encodes what is not valid text
            is_text = False
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "isBase64Encoded": not is_text,
    }
    if authorizer:
        event["requestContext"]["authorizer"] = authorizer
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event
