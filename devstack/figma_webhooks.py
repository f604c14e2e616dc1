"""Figma's Webhooks V2 as the emulator plays them (docs/FIGMA.md; shapes from Figma's REST
spec): create/list/get/update/delete, quotas, edit rights, the PING on creation, deliveries to
every matching webhook, and each webhook's requests log (GET /v2/webhooks/{id}/requests).

A FILE_DELETE goes to FILE_UPDATE webhooks too, as Figma documents; that it keeps its own
``event_type`` there is our reading (unconfirmed). What we assume where Figma does not say
(unconfirmed): Figma does **not** retry a failed
delivery here (the worst case: a receiver that was down loses the event until the app reads
``/requests``, which keeps a week); deliveries of one webhook go out in the order of the
events; the PING goes out right after the webhook is created, before or after the creator has
stored the answer. A delivery answered 400 stops (pauses) the webhook, as Figma documents; the
passcode is an empty string on the GET endpoints, as Figma documents, and kept in the requests
log's payloads (Figma does not say it redacts them there: the worst case). Quotas: 3 per file, 5 per project, 20 per team (per context). A context the
``forbidden`` knob names is one the user has no edit (or, for a team, admin) right on: 403.

Control (POST /_emulator/webhooks/...): ``trigger`` {event_type, file_key, file_name?,
project_id?, team_id?, ...event fields} delivers to every active webhook whose context matches;
``fail`` {on: bool} makes deliveries fail (the receiver is "down"); ``forbid`` {context_id}.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

EVENTS = (
    "PING",
    "FILE_UPDATE",
    "FILE_VERSION_UPDATE",
    "FILE_DELETE",
    "LIBRARY_PUBLISH",
    "FILE_COMMENT",
    "DEV_MODE_STATUS_UPDATE",
)
CONTEXTS = {"team": 20, "project": 5, "file": 3}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Webhooks:
    """Call the methods with the emulator's lock held, except ``deliver`` (it sends HTTP)."""

    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    failing: bool = False
    forbidden: set[str] = field(default_factory=set)
    delivered: int = 0
    pings: list[threading.Thread] = field(default_factory=list)

    def settle(self, timeout: float = 15) -> None:
        """Wait (without the lock: a delivery takes it) for the PINGs still on their way: a test
        ends only once its receiver has answered them, so none writes into the next test's world."""
        while self.pings:
            self.pings.pop().join(timeout)

    def reset(self) -> None:
        self.hooks.clear()
        self.requests.clear()
        self.forbidden.clear()
        self.failing, self.delivered = False, 0

    # -- the REST API (the caller checked the token and its scope) -----------------------------

    def create(self, user: str, client_id: str, body: Any) -> tuple[int, dict[str, Any]]:
        problem = _invalid(body)
        if problem:
            return 400, {"error": True, "status": 400, "message": problem, "i18n": None}
        context, context_id = body["context"].lower(), str(body["context_id"])
        if context_id in self.forbidden:
            need = "admin" if context == "team" else "edit"
            return 403, {"status": 403, "err": f"You need {need} access to this {context} to create a webhook"}
        same = [h for h in self.hooks.values() if (h["context"].lower(), h["context_id"]) == (context, context_id)]
        if len(same) >= CONTEXTS[context]:
            message = f"You have reached the maximum number of webhooks ({CONTEXTS[context]}) for this {context}"
            return 400, {"error": True, "status": 400, "message": message, "i18n": None}
        hook = {
            "id": str(100000 + len(self.hooks) + secrets.randbelow(10**6) * 1000),
            "event_type": body["event_type"],
            "context": context.upper(),
            "context_id": context_id,
            "plan_api_id": f"plan-{context_id}",
            "status": body.get("status", "ACTIVE"),
            "client_id": client_id,
            "passcode": body["passcode"],
            "endpoint": body["endpoint"],
            "description": body.get("description"),
            "owner": user,
        }
        self.hooks[hook["id"]] = hook
        self.requests[hook["id"]] = []
        return 200, public(hook)

    def get(self, user: str, hook_id: str) -> dict[str, Any] | None:
        hook = self.hooks.get(hook_id)
        return hook if hook is not None and hook["owner"] == user else None

    def listed(self, user: str, query: dict[str, str]) -> list[dict[str, Any]]:
        context, context_id = query.get("context", "").lower(), query.get("context_id")
        return [
            public(h, redact=True)
            for h in self.hooks.values()
            if h["owner"] == user and (not context or (h["context"].lower(), h["context_id"]) == (context, context_id))
        ]

    # -- deliveries --------------------------------------------------------------------------

    def matching(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The active webhooks of the event's context made for its type (a FILE_DELETE also goes
        to FILE_UPDATE webhooks: "If you subscribe to FILE_UPDATE, you automatically get these
        notifications", Figma's Webhooks V2 events)."""
        ids = {"FILE": event.get("file_key"), "PROJECT": event.get("project_id"), "TEAM": event.get("team_id")}
        wanted = {event["event_type"], *(("FILE_UPDATE",) if event["event_type"] == "FILE_DELETE" else ())}
        return [
            h
            for h in self.hooks.values()
            if h["status"] == "ACTIVE" and h["event_type"] in wanted and ids.get(h["context"]) == h["context_id"]
        ]

    def payload(self, hook: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in event.items() if k not in ("project_id", "team_id")}
        return {**fields, "passcode": hook["passcode"], "timestamp": _now(), "webhook_id": hook["id"]}


def deliver(state: Any, hook: dict[str, Any], payload: dict[str, Any]) -> None:
    """POST one delivery to the webhook's endpoint and log it in its requests (as Figma keeps a
    week of them). With the ``fail`` knob on, the delivery fails as if the receiver were down."""
    request_id = secrets.token_hex(8)
    sent = _now()
    status, error = "0", None
    if state.webhooks.failing:
        error = "connect ECONNREFUSED (the emulator's fail knob)"
    else:
        try:
            answer = httpx.post(hook["endpoint"], json=payload, timeout=10)
            status = str(answer.status_code)
            error = None if answer.status_code < 300 else f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
    with state.lock:
        if status == "400":  # Figma: a 400 answer "will immediately stop the webhook"
            hook["status"] = "PAUSED"
        state.webhooks.delivered += 1
        state.arrived.notify_all()  # tests wait on deliveries as on calls
        state.webhooks.requests.setdefault(hook["id"], []).append(
            {
                "webhook_id": hook["id"],
                "request_info": {"id": request_id, "endpoint": hook["endpoint"], "payload": payload, "sent_at": sent},
                "response_info": None if status == "0" else {"status": status, "received_at": _now()},
                "error_msg": error,
            }
        )


def fire(state: Any, event: dict[str, Any]) -> None:
    """An event (a user edits, versions, comments on, deletes… a file): one delivery to every
    matching webhook, in order, from the caller's thread."""
    with state.lock:
        sends = [(hook, state.webhooks.payload(hook, event)) for hook in state.webhooks.matching(event)]
    for hook, payload in sends:
        deliver(state, hook, payload)


def ping_later(state: Any, hook: dict[str, Any]) -> None:
    """The PING Figma sends on creation, from a thread of its own (it may arrive before the
    creator has stored Figma's answer)."""
    payload = state.webhooks.payload(hook, {"event_type": "PING"})
    thread = threading.Thread(target=deliver, args=(state, hook, payload), daemon=True)
    state.webhooks.pings.append(thread)
    thread.start()


def public(hook: dict[str, Any], *, redact: bool = False) -> dict[str, Any]:
    """A webhook as Figma shows it; on its GET endpoints the passcode is an empty string."""
    shown = {k: v for k, v in hook.items() if k != "owner"}
    return {**shown, "passcode": ""} if redact else shown


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Request body must be JSON"
    for name in ("event_type", "context", "context_id", "endpoint", "passcode"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"Missing or invalid {name}"
    if body["event_type"] not in EVENTS or body["event_type"] == "PING":
        return "Invalid event_type"
    if body["context"].lower() not in CONTEXTS:
        return "context must be team, project or file"
    if len(body["endpoint"]) > 2048 or not body["endpoint"].startswith(("http://", "https://")):
        return "Invalid endpoint"
    if len(body["passcode"]) > 100:
        return "passcode is longer than 100 characters"
    if len(str(body.get("description") or "")) > 150:
        return "description is longer than 150 characters"
    return None


def json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None
