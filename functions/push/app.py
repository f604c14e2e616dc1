"""EventBridge rule (figma-auth's file events and the user's own) → the realtime API's sockets:
a file's events to the sockets watching it, the user's own events to the user's sockets; a
session's end closes its sockets. The glue is figma_auth.realtime_web."""

from __future__ import annotations

import figma_auth.boot  # noqa: F401 - first: the cold start's measures (figma_auth.boot)

from figma_auth import entry, realtime_web, runtime

runtime.check()


lambda_handler = entry.event(realtime_web.push)
