"""Agents (MCP clients) ask a person for access: ``GET /oauth/authorize`` (RFC 6749 §4.1, the
MCP authorization specification 2025-11-25), the consent, and the authorization code.

The request is checked in the order RFC 6749 §4.1.2.1 needs: first the client (its Client ID
Metadata Document) and the ``redirect_uri`` against it; until both hold, a problem is shown on
our own page (``PageProblem``), never sent anywhere. After that, a problem goes back to the
client's redirect URI with ``error``, ``state`` and ``iss`` (``ClientProblem``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from figma_auth.client_documents import ClientDocument, InvalidClient
from figma_auth.errors import FigmaAuthError
from figma_auth.records.agents import AgentCode, AgentGrant
from figma_auth.tokens import hash_secret, is_url_safe_token, random_token
from figma_auth.urls import append_query

CODE_TTL = timedelta(seconds=60)
MAX_STATE = 512


class AgentCodeStore(Protocol):
    def put_agent_code(self, code: AgentCode) -> None: ...


class Documents(Protocol):
    def get(self, client_id: str) -> ClientDocument: ...


class PageProblem(FigmaAuthError):
    """The client or its redirect URI could not be trusted: said on our page only."""

    code, status = "invalid_request", 400


@dataclass(frozen=True)
class ClientProblem(Exception):
    """RFC 6749 §4.1.2.1: an error for the (validated) redirect URI."""

    redirect_uri: str
    error: str
    description: str
    state: str | None

    def location(self, issuer: str) -> str:
        params = {"error": self.error, "error_description": self.description, "iss": issuer}
        return append_query(self.redirect_uri, params | ({"state": self.state} if self.state is not None else {}))


@dataclass(frozen=True)
class AgentRequest:
    """A checked authorization request, as the consent page shows it and the code binds it."""

    client: ClientDocument
    redirect_uri: str
    state: str | None
    code_challenge: str
    resource: str
    scopes: tuple[str, ...]

    def fail(self, error: str, description: str) -> ClientProblem:
        return ClientProblem(self.redirect_uri, error, description, self.state)

    def fingerprint(self) -> str:
        """What the consent form's CSRF value is bound to: this request, exactly."""
        parts = (self.client.client_id, self.redirect_uri, self.state or "", self.code_challenge, self.resource)
        return hash_secret("\n".join((*parts, " ".join(self.scopes))))


class AgentAuthorization:
    """GET /oauth/authorize's checks, and the code a person's "allow" gives the agent."""

    def __init__(
        self,
        *,
        store: AgentCodeStore,
        documents: Documents,
        scopes: Callable[[str | None], tuple[str, ...]],  # StartSignIn.requested_scopes: ALLOWED_SCOPES' rules
        resources: tuple[str, ...],
        clock: Callable[[], datetime],
    ) -> None:
        self.store, self.documents, self.scopes, self.resources, self.clock = store, documents, scopes, resources, clock

    def check(self, query: Mapping[str, str]) -> AgentRequest:
        """The request, or PageProblem (client, redirect URI) or ClientProblem (the rest)."""
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if not client_id or not redirect_uri:
            raise PageProblem("client_id and redirect_uri are required")
        try:
            client = self.documents.get(client_id)
        except InvalidClient as exc:
            raise PageProblem(f"The app could not be identified: {exc.message}") from None
        if not client.accepts(redirect_uri):
            raise PageProblem("redirect_uri is not one of the redirect_uris the app's client_id document lists")
        state = query.get("state")
        if state is not None and len(state) > MAX_STATE:
            raise PageProblem(f"state is longer than {MAX_STATE} characters")
        return self._checked(client, redirect_uri, state, query)

    def _checked(
        self, client: ClientDocument, redirect_uri: str, state: str | None, query: Mapping[str, str]
    ) -> AgentRequest:
        def fail(error: str, description: str) -> ClientProblem:
            return ClientProblem(redirect_uri, error, description, state)

        if query.get("response_type") != "code":
            raise fail("unsupported_response_type", "response_type must be code")
        challenge = query.get("code_challenge", "")
        if query.get("code_challenge_method") != "S256" or not _is_challenge(challenge):
            raise fail("invalid_request", "PKCE is required: code_challenge (43 characters) with S256")
        resource = query.get("resource", "")
        if resource not in self.resources:
            raise fail("invalid_target", "resource must be one of the MCP servers this server issues tokens for")
        try:
            scopes = self.scopes(query.get("scope") or None)
        except FigmaAuthError as exc:
            raise fail("invalid_scope", exc.message) from None
        return AgentRequest(client, redirect_uri, state, challenge, resource, scopes)

    def allow(self, request: AgentRequest, *, user_id: str, issuer: str) -> str:
        """The person allowed: a code (60 s, once) for the client's redirect URI."""
        code = random_token(32)
        grant = AgentGrant(
            user_id=user_id,
            client_id=request.client.client_id,
            client_name=request.client.client_name,
            resource=request.resource,
            scopes=request.scopes,
            family_id=hash_secret(random_token(32)),  # the grant's session id; nobody holds its token
        )
        self.store.put_agent_code(
            AgentCode(
                code_hash=hash_secret(code),
                grant=grant,
                redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge,
                expires_at=self.clock() + CODE_TTL,
            )
        )
        params = {"code": code, "iss": issuer} | ({"state": request.state} if request.state is not None else {})
        return append_query(request.redirect_uri, params)


def _is_challenge(value: str) -> bool:
    return is_url_safe_token(value, min_len=43, max_len=43)
