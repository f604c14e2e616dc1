"""Watching a file over the realtime API: ``{"action": "watch" | "unwatch", "file_key"}``.

Access first: the watcher's own token asks Figma for the file's ``/meta`` (Tier 2, through the
rate-limit ledger); 403/404 → ``forbidden``, and no event of that file reaches the socket. The
reconciliation asks again (``recheck``: once per user and file a run, however many sockets): a
watcher who lost the file is told ``forbidden`` and their watches of it end.

Then the app's one Figma webhook per file and event type (``LIVE_EVENTS``), shared by every
watcher: a watcher rides on the one there, or their user makes it and holds it. The item is
claimed before Figma is asked (``pending``), so two watchers never both create one: never a
duplicate at Figma. A viewer (no edit right) cannot make one: with no editor watching the watch
is ``unavailable`` and says why; when an editor comes, everyone waiting is told ``active``. When
the holder's socket goes (unwatch, disconnect, logout) the webhook goes with it at Figma first,
then another watcher's user makes it again (one Figma hook at a time); when nobody can, every
watcher is told ``unavailable``. The last watcher's leaving deletes it. A holder's socket gone
without its ``$disconnect`` (API Gateway does not always send one; the push forgets a socket it
finds gone) is noticed when another watcher of the file leaves, or by the reconciliation
(``review``); a webhook whose holder can no longer open the file moves at its ``recheck``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from figma_auth.errors import FigmaAuthError, InvalidRequest, NotFound
from figma_auth.figma import ProxyResponse
from figma_auth.models.webhooks import WebhookCreate
from figma_auth.observability import logger, metrics_count
from figma_auth.records import ACTIVE, Connection
from figma_auth.records.realtime import LiveHook, LiveSocket, Watcher

FILE_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
MAX_WATCHES = 25  # files one socket may watch
MAX_MESSAGE = 4096  # a client message is a small JSON object
MAX_HOLDERS_TRIED = 5  # users asked to make a moved webhook before the watch is unavailable
PENDING = "pending"  # a live hook's webhook id while its holder asks Figma for it
DESCRIPTION = "figma-auth live"
Reply = dict[str, Any]


class LiveStore(Protocol):
    def socket(self, socket_id: str) -> LiveSocket | None: ...
    def get_connection(self, user_id: str) -> Connection | None: ...
    def add_watch(self, socket: LiveSocket, file_key: str) -> None: ...
    def remove_watch(self, socket: LiveSocket, file_key: str) -> None: ...
    def watchers(self, file_key: str) -> list[Watcher]: ...
    def drop_watcher(self, file_key: str, socket_id: str) -> None: ...
    def live_hook(self, file_key: str, event_type: str) -> LiveHook | None: ...
    def claim_live_hook(self, hook: LiveHook, *, replacing: str | None = None) -> bool: ...
    def release_live_hook(self, hook: LiveHook) -> bool: ...


class HookMaker(Protocol):
    """usecases/webhooks.py's ManageWebhooks: a webhook at Figma as a user (theirs, if they hold one)."""

    def create(self, conn: Connection, request: WebhookCreate, *, issuer: str) -> Any: ...
    def delete(self, conn: Connection, webhook_id: str) -> None: ...


class Sender(Protocol):
    def send(self, socket_id: str, message: dict[str, Any]) -> bool: ...


def watching(file_key: str, status: str, reason: str | None = None) -> Reply:
    return {"type": "watching", "file_key": file_key, "status": status, **({"reason": reason} if reason else {})}


def error(exc: FigmaAuthError) -> Reply:
    return {"type": "error", "error": exc.code, "message": exc.message}


def parse(body: str | None) -> tuple[str, str]:
    """(action, file_key) of a client message, or InvalidRequest saying what is wrong."""
    if not body or len(body) > MAX_MESSAGE:
        raise InvalidRequest(f"send a JSON object of at most {MAX_MESSAGE} bytes")
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidRequest("the message is not JSON") from None
    if not isinstance(message, dict):
        raise InvalidRequest('send {"action": "watch" | "unwatch", "file_key": "…"}')
    action, file_key = message.get("action"), message.get("file_key")
    if action == "ping":  # a keep-alive: API Gateway closes a socket idle for 10 minutes
        return "ping", ""
    if action not in ("watch", "unwatch"):
        raise InvalidRequest('action: "watch", "unwatch" or "ping"')
    if not isinstance(file_key, str) or not FILE_KEY.fullmatch(file_key):
        raise InvalidRequest("file_key: a Figma file key (letters, digits, - and _)")
    return action, file_key


class ProveAccess:
    """Whether the user may see the file, asked with their own token: Figma's ``/meta``
    (``send``: the proxy's call as that user, through the ledger). None: yes; else the status
    and the reason to tell the watcher."""

    def __init__(self, send: Callable[[Connection, str], ProxyResponse]) -> None:
        self.send = send

    def __call__(self, conn: Connection, file_key: str) -> tuple[str, str] | None:
        if "file_metadata:read" not in conn.scopes:
            return "unavailable", "Watching a file needs the file_metadata:read scope: sign in again asking for it."
        try:
            answer = self.send(conn, f"/v1/files/{file_key}/meta")
        except FigmaAuthError as exc:  # rate limited (the ledger or Figma), reauth_required, Figma down
            return "unavailable", exc.message
        if answer.status in (403, 404):
            return "forbidden", "Figma says this user cannot open this file."
        if answer.status == 429:
            return "unavailable", "Figma's rate limit for this user holds; try again later."
        if answer.status != 200:
            return "unavailable", f"Figma answered HTTP {answer.status} for the file."
        return None


class LiveWatches:
    def __init__(
        self,
        *,
        store: LiveStore,
        access: Callable[[Connection, str], tuple[str, str] | None],
        hooks: HookMaker,
        sockets: Sender,
        events: tuple[str, ...],
        issuer: str,
    ) -> None:
        self.store, self.access, self.hooks, self.sockets = store, access, hooks, sockets
        self.events, self.issuer = events, issuer

    def message(self, socket_id: str, action: str, file_key: str) -> Reply:
        """$default: the reply to a socket's (parsed) message; a refusal is an error reply."""
        try:
            socket = self.store.socket(socket_id)
            if socket is None:
                raise NotFound("This socket is closing: open a new one.")
            return self.watch(socket, file_key) if action == "watch" else self.unwatch(socket, file_key)
        except FigmaAuthError as exc:
            return error(exc)

    def watch(self, socket: LiveSocket, file_key: str) -> Reply:
        conn = self.store.get_connection(socket.user_id)
        if conn is None or conn.status != ACTIVE:
            return watching(file_key, "unavailable", "Figma no longer accepts this user's grant: sign in again.")
        if file_key not in socket.files and len(socket.files) >= MAX_WATCHES:
            raise InvalidRequest(f"a socket watches at most {MAX_WATCHES} files: unwatch one first")
        refused = self.access(conn, file_key)
        if refused is not None:
            if file_key in socket.files:
                self._leave(socket, file_key)
            metrics_count("WatchRefused")
            return watching(file_key, *refused)
        self.store.add_watch(socket, file_key)
        reasons = [r for r in (self._ride_or_hold(conn, socket, file_key, e) for e in self.events) if r]
        metrics_count("WatchStarted")
        return watching(file_key, "unavailable", " ".join(reasons)) if reasons else watching(file_key, "active")

    def unwatch(self, socket: LiveSocket, file_key: str) -> Reply:
        if file_key in socket.files:
            self._leave(socket, file_key)
        return {"type": "unwatched", "file_key": file_key}

    def leave(self, socket: LiveSocket) -> None:
        """The socket is going: each of its watches leaves (a webhook it held moves on)."""
        for file_key in sorted(socket.files):
            try:
                self._leave(socket, file_key)
            except Exception:  # noqa: BLE001 - the socket goes all the same; the next watch repairs
                logger.warning("could not hand a live watch over", extra={"file_key": file_key})

    def review(self, user_id: str, webhook_id: str, file_key: str, event: str, *, gone: bool = False) -> str | None:
        """The reconciliation's look at one of ``user_id``'s file webhooks: None when it is not a
        live webhook they hold; "moved" when it had to move — gone at Figma (``gone``: deleted
        there, or with the connection) or its holder's socket gone without a $disconnect; else
        "kept". Whether its holder can still open the file is ``recheck``'s."""
        hook = self.store.live_hook(file_key, event)
        if hook is None or hook.webhook_id != webhook_id or hook.holder_user != user_id:
            return None
        if gone:
            self._rehold(hook, self.store.watchers(file_key))
            return "moved"
        if self._vanished(hook):
            self.store.drop_watcher(file_key, hook.holder_socket)
            self._move(hook)
            return "moved"
        return "kept"

    def watchers(self, file_key: str) -> list[Watcher]:
        """Every socket watching the file (one Query): the reconciliation plans its checks on it."""
        return self.store.watchers(file_key)

    def recheck(
        self, file_key: str, *, watchers: list[Watcher] | None = None, skip: frozenset[str] = frozenset()
    ) -> tuple[int, int]:
        """The reconciliation's look at the file's watchers, each user's access proven again with
        their own token: one ``/meta`` per user (not per socket), holders included. A user who can
        no longer open the file is told ``forbidden`` on each of their sockets and their watches
        of it end; a webhook they held moves on. One whose access cannot be proven now (rate
        limited, Figma down, a grant to renew) is asked again at the next run. ``skip``: users
        not asked this run (``watchers``: the file's, read already). (Sockets told, webhooks
        moved.)"""
        watchers = self.store.watchers(file_key) if watchers is None else watchers
        hooks = [h for h in (self.store.live_hook(file_key, e) for e in self.events) if h and h.webhook_id != PENDING]
        lost: dict[str, str] = {}
        for user_id in dict.fromkeys([w.user_id for w in watchers] + [h.holder_user for h in hooks]):
            if user_id in skip:  # not this user's turn for this file (the reconciliation's plan)
                continue
            conn = self.store.get_connection(user_id)
            refused = self.access(conn, file_key) if conn is not None and conn.status == ACTIVE else None
            if refused is not None and refused[0] == "forbidden":
                lost[user_id] = refused[1]
        told = [w for w in watchers if w.user_id in lost]
        for watcher in told:
            self._forbid(watcher.socket_id, file_key, lost[watcher.user_id])
        moved = [h for h in hooks if h.holder_user in lost]
        for hook in moved:
            metrics_count("LiveHolderLostAccess")
            self._move(hook)
        if told:
            metrics_count("LiveWatcherLostAccess", len(told))
        return len(told), len(moved)

    def _forbid(self, socket_id: str, file_key: str, reason: str) -> None:
        socket = self.store.socket(socket_id)
        if socket is not None:
            self.store.remove_watch(socket, file_key)
        else:
            self.store.drop_watcher(file_key, socket_id)
        self.sockets.send(socket_id, watching(file_key, "forbidden", reason))

    # -- the shared webhooks -----------------------------------------------------------------------

    def _ride_or_hold(self, conn: Connection, socket: LiveSocket, file_key: str, event: str) -> str | None:
        """None when the file's webhook for ``event`` exists (or this user now holds it); else why not."""
        if self.store.live_hook(file_key, event) is not None:
            return None
        held, reasons = self._hold(file_key, event, [Watcher(socket.id, socket.user_id)], replacing=None)
        if held is None:
            return f"{event}: {' '.join(reasons)}" if reasons else None
        if self._all_held(file_key):
            self._tell_others(file_key, socket.id, watching(file_key, "active"))
        return None

    def _hold(
        self, file_key: str, event: str, candidates: list[Watcher], *, replacing: str | None
    ) -> tuple[LiveHook | None, list[str]]:
        """The first candidate whose user makes the webhook at Figma holds it. The item is
        claimed (``pending``) before each try: a concurrent watch rides instead of creating."""
        reasons: list[str] = []
        current, tried = replacing, set[str]()
        for candidate in candidates:
            if candidate.user_id in tried or len(tried) >= MAX_HOLDERS_TRIED:
                continue
            tried.add(candidate.user_id)
            conn = self.store.get_connection(candidate.user_id)
            if conn is None or conn.status != ACTIVE:
                continue
            pending = LiveHook(file_key, event, PENDING, candidate.user_id, candidate.socket_id, owned=True)
            if not self.store.claim_live_hook(pending, replacing=current):
                return None, []  # another watcher is making or moving it
            current = PENDING
            try:
                created = self.hooks.create(conn, self._request(file_key, event), issuer=self.issuer)
            except FigmaAuthError as exc:
                reasons.append(exc.message)
                continue
            hook = replace(pending, webhook_id=str(created.view.id), owned=bool(created.new))
            self.store.claim_live_hook(hook, replacing=PENDING)
            metrics_count("LiveHookHeld")
            return hook, []
        if current is not None:
            self.store.release_live_hook(LiveHook(file_key, event, current, "", "", owned=False))
        return None, reasons or ["No watcher of this file can create Figma's webhook (that needs edit access)."]

    def _request(self, file_key: str, event: str) -> WebhookCreate:
        return WebhookCreate.model_validate(
            {"event_type": event, "context": "file", "context_id": file_key, "description": DESCRIPTION}
        )

    def _leave(self, socket: LiveSocket, file_key: str) -> None:
        self.store.remove_watch(socket, file_key)
        vanished: dict[str, bool] = {}  # holder socket -> gone without $disconnect (one read each)
        for event in self.events:
            hook = self.store.live_hook(file_key, event)
            if hook is None:
                continue
            if hook.holder_socket != socket.id and hook.holder_socket not in vanished:
                vanished[hook.holder_socket] = self._vanished(hook)
            if hook.holder_socket == socket.id or vanished[hook.holder_socket]:
                self._move(hook)

    def _vanished(self, hook: LiveHook) -> bool:
        """Whether the holder's socket is gone without its $disconnect (no socket item left)."""
        return hook.webhook_id != PENDING and self.store.socket(hook.holder_socket) is None

    def _move(self, hook: LiveHook) -> None:
        """The holder's socket left: to another socket of that user, else (one at a time at
        Figma) to another watcher's user; or gone with the last watcher."""
        others = [w for w in self.store.watchers(hook.file_key) if w.socket_id != hook.holder_socket]
        same_user = [w for w in others if w.user_id == hook.holder_user]
        if same_user and hook.webhook_id != PENDING:
            self.store.claim_live_hook(replace(hook, holder_socket=same_user[0].socket_id), replacing=hook.webhook_id)
            return
        if hook.webhook_id != PENDING and not self._gone_at_figma(hook):
            if others:  # still delivering: held in name by a watcher until the reconciliation
                self.store.claim_live_hook(replace(hook, holder_socket=others[0].socket_id), replacing=hook.webhook_id)
            return
        self._rehold(hook, others)

    def _rehold(self, hook: LiveHook, others: list[Watcher]) -> None:
        """The old webhook is gone at Figma: another watcher's user makes it, or every watcher
        is told ``unavailable``; with no watcher left, its item goes."""
        if not others:
            self.store.release_live_hook(hook)
            return
        held, reasons = self._hold(hook.file_key, hook.event_type, others, replacing=hook.webhook_id)
        if held is None and reasons:
            metrics_count("LiveHookUnavailable")
            message = watching(hook.file_key, "unavailable", f"{hook.event_type}: {' '.join(reasons)}")
            self._tell_others(hook.file_key, None, message)

    def _gone_at_figma(self, hook: LiveHook) -> bool:
        """Whether the old webhook is no longer at Figma (deleted now, or never ours to delete)."""
        if not hook.owned:
            return True
        conn = self.store.get_connection(hook.holder_user)
        if conn is None:
            return True  # the connection's webhooks went with it
        try:
            self.hooks.delete(conn, hook.webhook_id)
        except NotFound:
            return True
        except FigmaAuthError:
            return False
        return True

    def _all_held(self, file_key: str) -> bool:
        return all(self.store.live_hook(file_key, e) is not None for e in self.events)

    def _tell_others(self, file_key: str, but: str | None, message: Reply) -> None:
        for watcher in self.store.watchers(file_key):
            if watcher.socket_id != but:
                self.sockets.send(watcher.socket_id, message)
