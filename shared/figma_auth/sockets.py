"""The realtime API's sockets, through API Gateway's management API: post a message to one,
close one. The one adapter that speaks to it (the realtime and push functions use it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from figma_auth.observability import metrics_count

MAX_MESSAGE = 128 * 1024  # API Gateway's WebSocket message limit


class Sockets:
    def __init__(self, *, client: Callable[[], Any]) -> None:
        self.client = client  # built on first use: a $connect never needs it

    def send(self, socket_id: str, message: dict[str, Any]) -> bool:
        """PostToConnection; False when the socket is gone (GoneException: its items can go)."""
        data = json.dumps(message, separators=(",", ":")).encode()
        if len(data) > MAX_MESSAGE:
            data = json.dumps({**message, "detail": {"truncated": True}}).encode()
        api = self.client()
        try:
            api.post_to_connection(ConnectionId=socket_id, Data=data)
        except api.exceptions.GoneException:
            metrics_count("SocketGone")
            return False
        return True

    def close(self, socket_id: str) -> None:
        """DeleteConnection (API Gateway then sends the socket's $disconnect); gone already is fine."""
        api = self.client()
        try:
            api.delete_connection(ConnectionId=socket_id)
        except api.exceptions.GoneException:
            pass
