"""Agents' items: authorization codes (``AGENTCODE#<hash of the code>``) and refresh tokens
(``AGENTREFRESH#<hash of the token>``). A grant's family is a session of client ``agent``
(``store.sessions``), so logout-all, disconnect and ``GET /auth/sessions`` see it; ending that
session ends every refresh token of the family (a rotation checks it still exists)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from figma_auth.records import Session
from figma_auth.store.codec import unmarshal, values
from figma_auth.store.sessions import SESSION, session_item
from figma_auth.store.table import Kind, Table
from figma_auth.times import iso, parse_iso

if TYPE_CHECKING:  # built in the functions below, which import them: see figma_auth.store
    from figma_auth.records.agents import AgentCode, AgentGrant, AgentRefresh

AGENT_CODE = Kind("AGENTCODE")  # by the SHA-256 of the code
AGENT_REFRESH = Kind("AGENTREFRESH")  # by the SHA-256 of the refresh token


def _grant_fields(grant: AgentGrant) -> dict[str, Any]:
    return {
        "user_id": grant.user_id,
        "client_id": grant.client_id,
        "client_name": grant.client_name,
        "resource": grant.resource,
        "scopes": list(grant.scopes),
        "family_id": grant.family_id,
    }


def _grant_from(item: dict[str, Any]) -> AgentGrant:
    from figma_auth.records.agents import AgentGrant

    return AgentGrant(
        user_id=item["user_id"],
        client_id=item["client_id"],
        client_name=item["client_name"],
        resource=item["resource"],
        scopes=tuple(item.get("scopes") or ()),
        family_id=item["family_id"],
    )


def code_from(item: dict[str, Any]) -> AgentCode:
    from figma_auth.records.agents import AgentCode

    return AgentCode(
        code_hash=AGENT_CODE.ident(item["pk"]),
        grant=_grant_from(item),
        redirect_uri=item["redirect_uri"],
        code_challenge=item["code_challenge"],
        expires_at=parse_iso(item["expires_at"]),
        used=bool(item.get("used", False)),
    )


def refresh_item(refresh: AgentRefresh) -> dict[str, Any]:
    return AGENT_REFRESH.item(
        refresh.token_hash,
        **_grant_fields(refresh.grant),
        expires_at=iso(refresh.expires_at),
        ttl=int(refresh.expires_at.timestamp()),
    )


def refresh_from(item: dict[str, Any]) -> AgentRefresh:
    from figma_auth.records.agents import AgentRefresh

    return AgentRefresh(
        token_hash=AGENT_REFRESH.ident(item["pk"]),
        grant=_grant_from(item),
        expires_at=parse_iso(item["expires_at"]),
        used=bool(item.get("used", False)),
    )


class AgentsTable(Table):
    def put_agent_code(self, code: AgentCode) -> None:
        item = AGENT_CODE.item(
            code.code_hash,
            **_grant_fields(code.grant),
            redirect_uri=code.redirect_uri,
            code_challenge=code.code_challenge,
            expires_at=iso(code.expires_at),
            ttl=int(code.expires_at.timestamp()) + 3600,  # kept an hour: a second use still finds it
        )
        self.db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)")

    def take_agent_code(self, code_hash: str) -> AgentCode | None:
        """Mark the code used; the code as it was (``used`` True: it had been used before)."""
        try:
            answer = self.db.update_item(
                TableName=self.table,
                Key=AGENT_CODE.key(code_hash),
                UpdateExpression="SET used = :t",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values({"t": True}),
                ReturnValues="ALL_OLD",
            )
        except self.db.exceptions.ConditionalCheckFailedException:
            return None
        return code_from(unmarshal(answer["Attributes"]))

    def agent_refresh(self, token_hash: str) -> AgentRefresh | None:
        answer = self.db.get_item(TableName=self.table, Key=AGENT_REFRESH.key(token_hash), ConsistentRead=True)
        return refresh_from(unmarshal(answer["Item"])) if "Item" in answer else None

    def start_agent_family(self, family: Session, refresh: AgentRefresh) -> None:
        """The grant's family (a session of client agent) and its first refresh token, together."""
        self._transact([self._put_new(session_item(family)), self._put_new(refresh_item(refresh))])

    def rotate_agent_refresh(self, old: AgentRefresh, new: AgentRefresh, *, now: datetime) -> bool:
        """Spend ``old`` and store ``new``, only while ``old`` is unused and its family lives.
        False otherwise (spent meanwhile, or the family ended)."""
        family = old.grant.family_id
        items = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": AGENT_REFRESH.key(old.token_hash),
                    "UpdateExpression": "SET used = :t",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(used)",
                    "ExpressionAttributeValues": values({"t": True}),
                }
            },
            {
                "ConditionCheck": {
                    "TableName": self.table,
                    "Key": SESSION.key(family),
                    "ConditionExpression": "attribute_exists(pk) AND expires_at > :now",
                    "ExpressionAttributeValues": values({"now": iso(now)}),
                }
            },
            self._put_new(refresh_item(new)),
        ]
        try:
            self._transact(items)
        except self.db.exceptions.TransactionCanceledException:
            return False
        return True
