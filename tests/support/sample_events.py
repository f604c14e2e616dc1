"""What each function answers the sample event events/<function>.json holds, on a stack with no
one signed in (`sam local invoke` gets the same answers)."""

from __future__ import annotations

EXPECTED = {
    "authorize": 302,
    "callback": 400,
    "session": 401,
    "refresh": 401,
    "logout": 204,
    "figma_proxy": 401,
    "backend": 404,
    "webhooks": 404,  # no connection for that user
    "webhook_receiver": 200,  # an unknown webhook: acknowledged, nothing published
    "realtime": 200,  # a socket's ping: answered pong on the socket, no AWS call
}
# EventBridge rule targets answer with a report, not an HTTP status.
REPORTS = {"push": {"sent": 0, "gone": 0}}  # a file nobody watches
