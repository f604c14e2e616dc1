"""The push path: each event the stack publishes (an EventBridge rule → the push function) goes
to the sockets it concerns, as ``{"type": "event", "id", "detail_type", "detail"}``:

- a file's event (``Figma FILE_UPDATE``, …): every socket watching that file — one Query by
  file key, then one PostToConnection per socket;
- the user's own events (``SessionEnded``, ``GrantNeedsReauth``, ``FigmaRateLimited``): every
  socket of that user (one Query). A ``SessionEnded`` then closes that session's sockets, a
  ``ConnectionDeleted`` all the user's.

A socket API Gateway calls gone (GoneException) is forgotten on the spot. Each socket gets each
published event once; ``id`` (EventBridge's event id) lets a client drop a redelivery (at least
once: EventBridge retries a failed target).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from figma_auth.observability import metrics_count
from figma_auth.records.realtime import LiveSocket, Watcher
from figma_auth.usecases.realtime import Closer

USER_EVENTS = ("SessionEnded", "GrantNeedsReauth", "FigmaRateLimited")
CLOSING_EVENTS = ("SessionEnded", "ConnectionDeleted")
_FILE_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


class PushStore(Protocol):
    def watchers(self, file_key: str) -> list[Watcher]: ...
    def user_sockets(self, user_id: str) -> list[tuple[str, str]]: ...
    def socket(self, socket_id: str) -> LiveSocket | None: ...
    def forget_socket(self, socket: LiveSocket) -> None: ...
    def drop_watcher(self, file_key: str, socket_id: str) -> None: ...


class Poster(Closer, Protocol):
    def send(self, socket_id: str, message: dict[str, Any]) -> bool: ...


class Push:
    def __init__(self, *, store: PushStore, sockets: Poster) -> None:
        self.store, self.sockets = store, sockets

    def __call__(self, event: dict[str, Any]) -> dict[str, int]:
        """Post ``event`` (as EventBridge hands it to a target) to its sockets; what was done."""
        detail_type, detail = event.get("detail-type"), event.get("detail")
        if not isinstance(detail_type, str) or not isinstance(detail, dict):
            return {"sent": 0, "gone": 0}
        message = {
            "type": "event",
            "id": str(event.get("id", "")),
            "detail_type": detail_type,
            "detail": {k: v for k, v in detail.items() if k != "passcode"},
        }
        file_key, user_id = detail.get("file_key"), detail.get("user_id")
        sockets: list[tuple[str, str | None]] = []
        if detail_type.startswith("Figma ") and isinstance(file_key, str) and _FILE_KEY.fullmatch(file_key):
            sockets = [(w.socket_id, file_key) for w in self.store.watchers(file_key)]
        elif isinstance(user_id, str) and detail_type in (*USER_EVENTS, *CLOSING_EVENTS):
            owned = self.store.user_sockets(user_id)
            if detail_type in USER_EVENTS:
                sockets = [(socket_id, None) for socket_id, _ in owned]
        sent = gone = 0
        for socket_id, watched in sockets:
            if self.sockets.send(socket_id, message):
                sent += 1
            else:
                gone += 1
                self._forget(socket_id, watched)
        if detail_type in CLOSING_EVENTS and isinstance(user_id, str):
            self._close(user_id, detail.get("sid") if detail_type == "SessionEnded" else None)
        metrics_count("PushSent", sent)
        return {"sent": sent, "gone": gone}

    def _forget(self, socket_id: str, file_key: str | None) -> None:
        """A socket API Gateway no longer has: its items go (its $disconnect may never come)."""
        socket = self.store.socket(socket_id)
        if socket is not None:
            self.store.forget_socket(socket)
        elif file_key is not None:
            self.store.drop_watcher(file_key, socket_id)

    def _close(self, user_id: str, session_id: Any) -> None:
        for socket_id, of_session in self.store.user_sockets(user_id):
            if session_id is None or of_session == session_id:
                self.sockets.close(socket_id)
