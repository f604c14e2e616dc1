"""A WebSocket client for tests (RFC 6455 on a plain socket: the standard library has none), and
the steps every realtime test takes: a ticket, a socket, a watch."""

from __future__ import annotations

import base64
import json
import os
import queue
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.support.browser import Browser


class Refused(Exception):
    """The handshake was answered with an HTTP status, not 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"handshake refused: HTTP {status}")
        self.status = status


@dataclass
class WsClient:
    url: str
    sock: socket.socket = field(init=False)
    inbox: queue.Queue[dict[str, Any] | None] = field(default_factory=queue.Queue)
    closed: threading.Event = field(default_factory=threading.Event)
    close_code: int | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.reader = self.sock.makefile("rb")
        status = int(self.reader.readline().split()[1])
        while self.reader.readline() not in (b"\r\n", b""):
            pass
        if status != 101:
            self.sock.close()
            raise Refused(status)
        self.sock.settimeout(None)
        threading.Thread(target=self._read, daemon=True).start()

    def send(self, message: dict[str, Any] | str) -> None:
        data = (message if isinstance(message, str) else json.dumps(message)).encode()
        self._frame(0x1, data)

    def _frame(self, opcode: int, data: bytes) -> None:
        mask = os.urandom(4)
        size = len(data)
        head = (
            struct.pack("!BB", 0x80 | opcode, 0x80 | size)
            if size < 126
            else struct.pack("!BBH", 0x80 | opcode, 0xFE, size)
        )
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _read(self) -> None:
        try:
            while True:
                head = self.reader.read(2)
                if len(head) < 2:
                    break
                opcode, size = head[0] & 0x0F, head[1] & 0x7F
                if size == 126:
                    size = struct.unpack("!H", self.reader.read(2))[0]
                elif size == 127:
                    size = struct.unpack("!Q", self.reader.read(8))[0]
                payload = self.reader.read(size)
                if opcode == 0x8:
                    self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    break
                if opcode == 0x1:
                    self.inbox.put(json.loads(payload))
        except OSError:
            pass
        finally:
            self.closed.set()
            self.inbox.put(None)

    def recv(self, timeout: float = 10) -> dict[str, Any]:
        """The next message; AssertionError when none comes in time or the socket closed."""
        try:
            message = self.inbox.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no message within {timeout} s") from None
        assert message is not None, f"the socket closed (code {self.close_code})"
        return message

    def recv_until(self, wanted: Any, timeout: float = 10) -> dict[str, Any]:
        """The first message ``wanted(message)`` accepts (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.recv(max(0.01, deadline - time.monotonic()))
            if wanted(message):
                return message

    def pending(self) -> list[dict[str, Any]]:
        out = []
        while True:
            try:
                message = self.inbox.get_nowait()
            except queue.Empty:
                return out
            if message is not None:
                out.append(message)

    def close(self) -> None:
        try:
            self._frame(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.closed.wait(5)
        self.sock.close()


def realtime_ticket(browser: Browser, api: str) -> dict[str, Any]:
    answer = browser.post(f"{api}/auth/realtime")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def open_socket(browser: Browser, api: str) -> WsClient:
    return WsClient(realtime_ticket(browser, api)["url"])


def watch(client: WsClient, file_key: str) -> dict[str, Any]:
    client.send({"action": "watch", "file_key": file_key})
    return client.recv_until(
        lambda m: m.get("type") in ("watching", "error") and m.get("file_key", file_key) == file_key
    )


def edit(emulator_url: str, file_key: str, event_type: str = "FILE_UPDATE", **fields: Any) -> None:
    """Someone saves the file at Figma: the emulator delivers to every matching webhook."""
    import httpx

    body = {"event_type": event_type, "file_key": file_key, "file_name": f"File {file_key}", **fields}
    httpx.post(f"{emulator_url}/_emulator/webhooks/trigger", json=body, timeout=30).raise_for_status()


def set_role(emulator_url: str, file_key: str, user: str, role: str) -> None:
    import httpx

    body = {"file_key": file_key, "user": user, "role": role}
    httpx.post(f"{emulator_url}/_emulator/files/access", json=body, timeout=10).raise_for_status()


def pushes_done(moto: str, timeout: float = 20) -> bool:
    """Whether the push function has handled every event published so far: the push rule's
    queue (devstack/rules.py) holds no message, waiting or being handled (a message is deleted
    once its invocation returned)."""
    from devstack import aws
    from devstack.rules import PREFIX

    sqs = aws.client("sqs", moto)
    url = sqs.get_queue_url(QueueName=PREFIX + "PushFunctionPublished")["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]  # type: ignore[arg-type]
        if all(int(counts[n]) == 0 for n in names):
            return True
        time.sleep(0.05)
    return False
