"""Runs the functions of template.yaml in-process, as Lambda would: payload-v2 events,
a context object, and one module instance per concurrent request (a "container")."""

from __future__ import annotations

import base64
import importlib.util
import itertools
import queue
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from devstack import template
from devstack.template import Function, Route

_load_counter = itertools.count()


@dataclass
class LambdaContext:
    function_name: str
    timeout_s: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = ""
    invoked_function_arn: str = ""
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_module(fn: Function) -> ModuleType:
    """Import a function's handler module as a fresh instance (its own resolver, like a new container)."""
    module_name, _, _ = fn.handler.rpartition(".")
    path = fn.code_dir / f"{module_name}.py"
    name = f"functions.{fn.name}.{module_name}__instance{next(_load_counter)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Containers:
    """A pool of warm module instances per function; a busy pool grows, as Lambda scales out."""

    def __init__(self) -> None:
        doc = template.load()
        self.functions = template.functions(doc)
        self.routes = template.routes(doc)
        self._idle: dict[str, queue.SimpleQueue[ModuleType]] = {k: queue.SimpleQueue() for k in self.functions}
        self._lock = threading.Lock()

    def by_name(self, name: str) -> Function:
        for fn in self.functions.values():
            if name in (fn.name, fn.logical_id):
                return fn
        raise KeyError(
            f"no function {name!r} in template.yaml (have: {', '.join(f.name for f in self.functions.values())})"
        )

    def warm(self) -> None:
        """Load one instance of every function now, so a bad setting fails at start-up."""
        for logical_id, fn in self.functions.items():
            self._idle[logical_id].put(load_module(fn))

    def invoke(self, fn: Function, event: dict[str, Any]) -> Any:
        pool = self._idle[fn.logical_id]
        try:
            module = pool.get_nowait()
        except queue.Empty:
            module = load_module(fn)
        try:
            handler = getattr(module, fn.handler.rpartition(".")[2])
            return handler(event, LambdaContext(fn.logical_id, fn.timeout))
        finally:
            pool.put(module)

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for candidate in self.routes:
            params = candidate.match(method, path)
            if params is not None:
                return candidate, params
        if method == "OPTIONS":  # preflight: the function that owns the path answers it
            for candidate in self.routes:
                found = candidate.pattern.match(path)
                if found:
                    return candidate, found.groupdict()
        return None


def http_event(
    *,
    method: str,
    path: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    route: Route,
    path_params: dict[str, str],
    domain: str,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API payload-v2 event, as API Gateway builds it."""
    lowered: dict[str, str] = {}
    for name, value in headers.items():
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
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event
