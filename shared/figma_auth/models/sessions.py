"""A session's other routes: refresh's query, logout's body, the session list and the realtime
API's ticket. A family of ``figma_auth.models`` (its docstring says why each is a module of its own)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from figma_auth.models import Input, Output, Timestamp

MAX_MIN_VALIDITY = 400 * 86400


class RefreshQuery(BaseModel):
    """``POST /auth/refresh`` query."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)

    min_validity: Annotated[
        int | None,
        Field(
            ge=0,
            le=MAX_MIN_VALIDITY,
            description="Refresh only when the token expires within this many seconds. Absent: always refresh.",
        ),
    ] = None


class LogoutRequest(Input):
    """``POST /auth/logout``: empty (this session), ``{"all": true}`` (every session of the
    user), ``{"all": true, "disconnect": true}`` (and the Figma connection, even with
    OFFLINE_ACCESS) or ``{"session_id"}`` (one of the user's other sessions)."""

    all: StrictBool = False
    disconnect: StrictBool = False
    session_id: Annotated[str | None, Field(min_length=1, max_length=128)] = None


class SessionSummary(Output):
    id: str
    created_at: Timestamp
    expires_at: Timestamp
    current: bool
    client: Annotated[
        Literal["web", "token", "device", "agent"],
        Field(description="How the session was made: cookie sign-in, token mode, device sign-in, or an agent's grant."),
    ]
    client_name: Annotated[
        str | None, Field(description="An agent's name, in its own words (its Client ID Metadata Document).")
    ] = None


class SessionList(Output):
    """``GET /auth/sessions``."""

    sessions: list[SessionSummary]


class RealtimeTicketView(Output):
    """``POST /auth/realtime``: where to open the WebSocket, with a one-time ticket (60 s, this session)."""

    url: Annotated[str, Field(description="wss://…?ticket=… : open it within expires_in seconds; it works once.")]
    expires_in: int
