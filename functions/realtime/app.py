"""The realtime API (API Gateway WebSocket API): ``$connect`` redeems the one-time ticket of
POST /auth/realtime (``?ticket=``; refused: the handshake fails with 401), ``$default`` answers a
socket's ``{"action": "watch" | "unwatch", "file_key"}`` (the reply goes back on the socket:
the route's response), ``$disconnect`` forgets the socket (a webhook it held moves on).
Events reach sockets through functions/push. The glue is figma_auth.realtime_web."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from figma_auth import entry, realtime_web, runtime

runtime.check()


lambda_handler = entry.event(realtime_web.route)
