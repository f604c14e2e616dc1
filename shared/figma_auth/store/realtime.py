"""The realtime API's items: tickets, sockets, who watches which file, and the app's one Figma
webhook per file and event type.

- ``RTTICKET#<hash of the ticket>``: a WebSocket sign-in ticket (session, user, expiry; TTL);
  redeemed by one conditional DeleteItem (single use).
- ``SOCKET#<connection id>`` / ``SOCKET``: an open socket (user, session, the files it watches;
  TTL past API Gateway's 2-hour limit), and ``CONN#<user>`` / ``SOCKET#<connection id>``: the
  user's list of sockets (their own events; a session's end closes its sockets). Written and
  deleted together.
- ``WATCH#<file key>`` / ``SOCKET#<connection id>``: a socket watching a file (the push's one
  Query by file key).
- ``LIVEHOOK#<file key>#<event type>`` / ``LIVEHOOK``: which Figma webhook serves that file and
  event for everyone, and whose socket holds it (conditional writes: one holder, never two hooks).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from figma_auth.store.codec import key, marshal, unmarshal, values
from figma_auth.store.connections import CONNECTION
from figma_auth.store.table import Kind, Table
from figma_auth.times import iso, parse_iso

if TYPE_CHECKING:  # built in the functions below, which import them: see figma_auth.store
    from figma_auth.records.realtime import LiveHook, LiveSocket, RealtimeTicket, Watcher

REALTIME_TICKET = Kind("RTTICKET")  # by the SHA-256 of the ticket
SOCKET = Kind("SOCKET")  # by API Gateway's connection id; SOCKET#<id> also sorts the user's and a file's lists
WATCH = Kind("WATCH")  # by file key: one item per watching socket
LIVE_HOOK = Kind("LIVEHOOK")  # by "<file key>#<event type>"
SOCKET_TTL = timedelta(hours=2, minutes=10)  # API Gateway closes a socket after 2 hours


def user_socket_key(user_id: str, socket_id: str) -> dict[str, Any]:
    return key(CONNECTION.pk(user_id), SOCKET.pk(socket_id))


def watch_key(file_key: str, socket_id: str) -> dict[str, Any]:
    return key(WATCH.pk(file_key), SOCKET.pk(socket_id))


def socket_from(item: dict[str, Any]) -> LiveSocket:
    from figma_auth.records.realtime import LiveSocket

    return LiveSocket(
        id=SOCKET.ident(item["pk"]),
        user_id=str(item["user_id"]),
        session_id=str(item["session_id"]),
        connected_at=parse_iso(item["connected_at"]),
        files=frozenset(str(f) for f in item.get("files", ())),
    )


def hook_from(item: dict[str, Any]) -> LiveHook:
    from figma_auth.records.realtime import LiveHook

    file_key, _, event_type = LIVE_HOOK.ident(item["pk"]).rpartition("#")
    return LiveHook(
        file_key=file_key,
        event_type=event_type,
        webhook_id=str(item["webhook_id"]),
        holder_user=str(item["holder_user"]),
        holder_socket=str(item["holder_socket"]),
        owned=bool(item.get("owned", True)),
    )


class RealtimeTable(Table):
    # -- tickets ---------------------------------------------------------------------------------

    def put_realtime_ticket(self, ticket: RealtimeTicket) -> None:
        item = REALTIME_TICKET.item(
            ticket.ticket_hash,
            session_id=ticket.session_id,
            user_id=ticket.user_id,
            expires_at=iso(ticket.expires_at),
            ttl=int(ticket.expires_at.timestamp()) + 1,
        )
        self.db.put_item(TableName=self.table, Item=item)

    def redeem_realtime_ticket(self, ticket_hash: str) -> RealtimeTicket | None:
        """The ticket, deleted in the same call (a second use finds nothing); None when unknown."""
        from figma_auth.records.realtime import RealtimeTicket

        try:
            answer = self.db.delete_item(
                TableName=self.table,
                Key=REALTIME_TICKET.key(ticket_hash),
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return None
        plain = unmarshal(answer.get("Attributes") or {})
        return RealtimeTicket(
            ticket_hash=ticket_hash,
            session_id=str(plain["session_id"]),
            user_id=str(plain["user_id"]),
            expires_at=parse_iso(plain["expires_at"]),
        )

    # -- sockets ---------------------------------------------------------------------------------

    def open_socket(self, socket: LiveSocket) -> None:
        """The socket and the user's entry for it, together."""
        ttl = int((socket.connected_at + SOCKET_TTL).timestamp())
        main = SOCKET.item(
            socket.id,
            user_id=socket.user_id,
            session_id=socket.session_id,
            connected_at=iso(socket.connected_at),
            ttl=ttl,
        )
        mine = {**user_socket_key(socket.user_id, socket.id), **marshal(session_id=socket.session_id, ttl=ttl)}
        self._transact([{"Put": {"TableName": self.table, "Item": it}} for it in (main, mine)])

    def socket(self, socket_id: str) -> LiveSocket | None:
        item = self.db.get_item(TableName=self.table, Key=SOCKET.key(socket_id), ConsistentRead=True).get("Item")
        return socket_from(unmarshal(item)) if item else None

    def user_sockets(self, user_id: str) -> list[tuple[str, str]]:
        """(socket id, session id) of every socket the user has open (one Query)."""
        found: list[tuple[str, str]] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues=values({"pk": CONNECTION.pk(user_id), "s": SOCKET.pk("")}),
        ):
            found.extend((SOCKET.ident(item["sk"]), str(item["session_id"])) for item in page)
        return found

    def forget_socket(self, socket: LiveSocket) -> None:
        """The socket, the user's entry and its watches (each item alone: any may be gone already)."""
        keys = [SOCKET.key(socket.id), user_socket_key(socket.user_id, socket.id)]
        keys += [watch_key(f, socket.id) for f in socket.files]
        for found in keys:
            self.db.delete_item(TableName=self.table, Key=found)

    # -- watches ---------------------------------------------------------------------------------

    def add_watch(self, socket: LiveSocket, file_key: str) -> None:
        """The file on the socket's list and the socket on the file's, while the socket exists."""
        ttl = int((socket.connected_at + SOCKET_TTL).timestamp())
        watch = {**watch_key(file_key, socket.id), **marshal(user_id=socket.user_id, ttl=ttl)}
        self._transact(
            [
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": SOCKET.key(socket.id),
                        "UpdateExpression": "ADD files :f",
                        "ConditionExpression": "attribute_exists(pk)",
                        "ExpressionAttributeValues": values({"f": {file_key}}),
                    }
                },
                {"Put": {"TableName": self.table, "Item": watch}},
            ]
        )

    def remove_watch(self, socket: LiveSocket, file_key: str) -> None:
        self._update(SOCKET.key(socket.id), "DELETE files :f", "attribute_exists(pk)", f={file_key})
        self.db.delete_item(TableName=self.table, Key=watch_key(file_key, socket.id))

    def watchers(self, file_key: str) -> list[Watcher]:
        """Every socket watching the file: one Query (pages of 1 MB)."""
        from figma_auth.records.realtime import Watcher

        found: list[Watcher] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values({"pk": WATCH.pk(file_key)}),
        ):
            found.extend(Watcher(SOCKET.ident(item["sk"]), str(item["user_id"])) for item in page)
        return found

    def drop_watcher(self, file_key: str, socket_id: str) -> None:
        self.db.delete_item(TableName=self.table, Key=watch_key(file_key, socket_id))

    # -- the app's one webhook per file and event type ---------------------------------------------

    def live_hook(self, file_key: str, event_type: str) -> LiveHook | None:
        found = self.db.get_item(
            TableName=self.table, Key=LIVE_HOOK.key(f"{file_key}#{event_type}"), ConsistentRead=True
        ).get("Item")
        return hook_from(unmarshal(found)) if found else None

    def claim_live_hook(self, hook: LiveHook, *, replacing: str | None = None) -> bool:
        """Write the hook if none is (``replacing``: if the one there is that webhook). False: another won."""
        item = LIVE_HOOK.item(
            f"{hook.file_key}#{hook.event_type}",
            webhook_id=hook.webhook_id,
            holder_user=hook.holder_user,
            holder_socket=hook.holder_socket,
            owned=hook.owned,
        )
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        if replacing is not None:
            condition = {
                "ConditionExpression": "webhook_id = :w",
                "ExpressionAttributeValues": values({"w": replacing}),
            }
        try:
            self.db.put_item(TableName=self.table, Item=item, **condition)
        except self.db.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_live_hook(self, hook: LiveHook) -> bool:
        """Delete the hook's item if it still names that webhook."""
        return self._delete(LIVE_HOOK.key(f"{hook.file_key}#{hook.event_type}"), "webhook_id = :w", w=hook.webhook_id)
