"""figma-auth from your backend: a user's Figma connection, signed with your AWS credentials.

The /connections/... routes are protected by AWS IAM (SigV4), so no secret is shared: any
role allowed ``execute-api:Invoke`` on them (see the README) can call them. Needs only boto3
(for credentials and botocore's signer) and httpx.

    from figma_auth_backend import FigmaAuthBackend

    auth = FigmaAuthBackend("https://abc123.execute-api.eu-west-1.amazonaws.com")
    for c in auth.connections():                         # every connection, newest first
        print(c["user"]["id"], c["status"])
    token = auth.get_token("1234567890")                  # a fresh Figma access token
    me = auth.figma("1234567890", "GET", "/v1/me").json()  # or let figma-auth call Figma
    auth.clear_rate_limits("1234567890")                 # after the user upgraded at Figma
    auth.disconnect("1234567890")                        # the grant and every session
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

__all__ = ["FigmaAuthBackend", "FigmaAuthError", "RateLimited", "ReauthRequired"]


class FigmaAuthError(Exception):
    """figma-auth (or API Gateway) refused: ``status``, the contract's ``error`` code, its message."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status, self.error, self.message = status, error, message


class ReauthRequired(FigmaAuthError):
    """The user's Figma grant is dead (revoked, expired): they must sign in with Figma again."""


class RateLimited(FigmaAuthError):
    """Figma's rate limit for this user (or this file's plan) is reached: nothing was sent, or
    Figma refused. ``retry_after`` seconds (days for a View seat's monthly budget: never sleep
    it inside a request), Figma's endpoint ``tier``, its ``upgrade_link``."""

    def __init__(
        self, message: str, *, retry_after: int | None, tier: int | None, upgrade_link: str | None, scope: str | None
    ) -> None:
        super().__init__(429, "rate_limited", message)
        self.retry_after, self.tier, self.upgrade_link, self.scope = retry_after, tier, upgrade_link, scope


class FigmaAuthBackend:
    def __init__(
        self,
        base_url: str,
        *,
        region: str | None = None,
        session: boto3.session.Session | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        """``base_url``: figma-auth's ApiUrl output. ``region``: the API's region, which SigV4
        signs for: taken from an execute-api host, ``us-east-1`` for the local stack; on a
        custom domain, pass it (never your boto3 default: a signature for another region is
        a 403)."""
        self.base_url = base_url.rstrip("/")
        self.session = session or boto3.session.Session()
        host = urlsplit(self.base_url).hostname or ""
        from_host = host.split(".")[2] if host.endswith(".amazonaws.com") and ".execute-api." in host else None
        local = "us-east-1" if host in ("127.0.0.1", "localhost") else None  # make run's region
        found = region or from_host or local
        if found is None:
            raise ValueError(f"pass region=: the API's region (the host {host!r} does not say it)")
        self.region = found
        self.http = http or httpx.Client(timeout=30)

    def connections(self, *, status: str | None = None, page_size: int = 100) -> Iterator[dict[str, Any]]:
        """Every connection, newest first, a page (``page_size``, 1-100) fetched as you iterate:
        ``for c in auth.connections(status="reauth_required"): ...``. Each is ``{"user", "status",
        "scopes", "created_at", "rate_limits"}`` (no token: ``get_token(c["user"]["id"])``)."""
        cursor: str | None = None
        while True:
            page = self.connections_page(limit=page_size, cursor=cursor, status=status)
            yield from page["connections"]
            cursor = page["next"]
            if cursor is None:
                return

    def connections_page(
        self, *, limit: int | None = None, cursor: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        """One page of ``GET /connections``: ``{"connections": [...], "next": CURSOR | None}``."""
        params = {k: v for k, v in (("limit", limit), ("cursor", cursor), ("status", status)) if v is not None}
        answer = self._send("GET", "/connections", params=params)
        _raise_for(answer)
        page: dict[str, Any] = answer.json()
        return page

    def connection(self, user_id: str) -> dict[str, Any]:
        """``{"user": {...}, "provider": {...}}``: the token is refreshed first when it expires soon."""
        answer = self._send("GET", f"/connections/{_segment(user_id)}")
        _raise_for(answer)
        body: dict[str, Any] = answer.json()
        return body

    def get_token(self, user_id: str) -> str:
        """A Figma access token for ``user_id`` that is valid for at least a few minutes."""
        provider = self.connection(user_id)["provider"]
        if provider["status"] != "active" or "access_token" not in provider:
            raise ReauthRequired(200, "reauth_required", "the user must sign in with Figma again")
        return str(provider["access_token"])

    def figma(self, user_id: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call Figma's REST API as ``user_id`` (``path`` like ``/v1/files/KEY``); Figma's own
        answer comes back as is. figma-auth's refusals raise FigmaAuthError; a 429 (Figma's, or
        figma-auth's from the limit it remembers, without calling Figma) raises RateLimited. An
        answer too large for Lambda comes as a redirect to a short-lived S3 URL: it is followed
        (unsigned: the URL is its own credential), so the body is here whatever its size."""
        prefix = f"/connections/{_segment(user_id)}/figma/"
        answer = self._send(method, prefix + _figma_path(path), prefix=prefix, **kwargs)
        if answer.status_code == 303 and answer.headers.get("location", "").startswith(("https://", "http://")):
            stored = self.http.get(answer.headers["location"])
            stored.raise_for_status()
            stored.headers.update({k: v for k, v in answer.headers.items() if k.lower().startswith("x-figma")})
            return stored
        if answer.status_code == 429:
            _raise_rate_limited(answer)
        if _is_ours(answer):
            _raise_for(answer)
        return answer

    def create_webhook(
        self, user_id: str, event_type: str, context: str, context_id: str, description: str | None = None
    ) -> dict[str, Any]:
        """A Figma webhook for ``user_id`` (e.g. ``"FILE_UPDATE", "file", FILE_KEY``); its events
        reach your EventBridge bus as ``Figma <event_type>``. Needs the user's ``webhooks:write``."""
        body = {"event_type": event_type, "context": context, "context_id": context_id}
        if description:
            body["description"] = description
        answer = self._send("POST", f"/connections/{_segment(user_id)}/webhooks", json=body)
        if answer.status_code == 429:
            _raise_rate_limited(answer)
        _raise_for(answer)
        created: dict[str, Any] = answer.json()
        return created

    def webhooks(self, user_id: str) -> list[dict[str, Any]]:
        answer = self._send("GET", f"/connections/{_segment(user_id)}/webhooks")
        _raise_for(answer)
        listed: list[dict[str, Any]] = answer.json()["webhooks"]
        return listed

    def delete_webhook(self, user_id: str, webhook_id: str) -> None:
        _raise_for(self._send("DELETE", f"/connections/{_segment(user_id)}/webhooks/{_segment(webhook_id)}"))

    def disconnect(self, user_id: str) -> None:
        """Delete the user's Figma grant and end every session of theirs (Figma's rate limits
        remembered for them stay: Figma still counts)."""
        _raise_for(self._send("DELETE", f"/connections/{_segment(user_id)}"))

    def clear_rate_limits(self, user_id: str) -> None:
        """Forget Figma's rate limits remembered for ``user_id`` (after they upgraded their seat
        or plan): the next call asks Figma, and is remembered again if Figma still refuses."""
        _raise_for(self._send("DELETE", f"/connections/{_segment(user_id)}/rate_limits"))

    def _send(
        self,
        method: str,
        path: str,
        *,
        prefix: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: Any = None,
    ) -> httpx.Response:
        request = self.http.build_request(method, self.base_url + path, params=params, json=json, content=content)
        base_path = urlsplit(self.base_url).path
        if prefix is not None and not request.url.raw_path.decode().startswith(base_path + prefix):
            raise _invalid_path("the request would leave this user's /figma/ routes")  # never signed
        body = request.read()
        aws = AWSRequest(method=method, url=str(request.url), data=body, headers={"Host": request.url.netloc.decode()})
        if request.headers.get("content-type"):
            aws.headers["Content-Type"] = request.headers["content-type"]
        credentials = self.session.get_credentials()
        if credentials is None:
            raise FigmaAuthError(0, "no_credentials", "no AWS credentials found (boto3's usual chain)")
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", self.region).add_auth(aws)
        for name, value in aws.headers.items():
            request.headers[name] = value
        answer = self.http.send(request)
        if answer.status_code == 403 and _is_ours(answer) and "error" not in answer.json():
            raise FigmaAuthError(
                403,
                "forbidden",
                f"API Gateway refused this {method} {path.split('?')[0]}: check the region it is signed for "
                f"({self.region}), the credentials (access key …{credentials.access_key[-4:]}), and that your IAM "
                "policy allows execute-api:Invoke on this method and path (README: the backend policies)",
            )
        return answer


def _segment(user_id: str) -> str:
    return quote(user_id, safe="")


def _figma_path(path: str) -> str:
    """A Figma API path (``/v1/files/KEY``) that stays under this user's ``/figma/`` routes: no
    ``.``/``..`` segment (raw or percent-encoded), no encoded slash or backslash, no ``?`` or
    ``#`` (send a query with ``params=``). A key taken from your own input can't reach
    another user's routes."""
    if "?" in path or "#" in path:
        raise _invalid_path("the path has '?' or '#': send query parameters with params=")
    segments = path.lstrip("/").split("/")
    if len(segments) > 1 and segments[-1] == "":
        segments.pop()  # one trailing slash is harmless
    for segment in segments:
        plain = unquote(segment)
        if plain in ("", ".", "..") or "/" in plain or "\\" in plain or "%" in plain:
            raise _invalid_path(f"the path has a segment that is not plain: {segment[:40]!r}")
    return path.lstrip("/")


def _invalid_path(why: str) -> FigmaAuthError:
    return FigmaAuthError(0, "invalid_path", f"{why} (nothing was sent)")


def _is_ours(answer: httpx.Response) -> bool:
    """figma-auth's own {"error", "message"} (or API Gateway's {"message"}) rather than Figma's."""
    if answer.status_code < 400 or not answer.headers.get("content-type", "").startswith("application/json"):
        return False
    try:
        body = answer.json()
    except ValueError:
        return False
    return isinstance(body, dict) and (
        set(body) == {"error", "message"} or (set(body) == {"message"} and answer.status_code in (403, 429, 503))
    )


def _raise_rate_limited(answer: httpx.Response) -> None:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if body.get("error") not in (None, "rate_limited") or (set(body) == {"message"}):
        _raise_for(answer)  # API Gateway's own throttle: no Figma limit behind it
    header = answer.headers.get("retry-after", "")
    retry_after = body.get("retry_after", int(header) if header.isdigit() else None)
    raise RateLimited(
        str(body.get("message") or body.get("err") or "Figma's rate limit is reached"),
        retry_after=retry_after,
        tier=body.get("tier"),
        upgrade_link=body.get("upgrade_link") or answer.headers.get("x-figma-upgrade-link"),
        scope=body.get("scope"),
    )


def _raise_for(answer: httpx.Response) -> None:
    if answer.status_code < 400:
        return
    try:
        body = answer.json()
    except ValueError:
        body = {}
    error = str(body.get("error") or ("forbidden" if answer.status_code == 403 else f"http_{answer.status_code}"))
    message = str(body.get("message") or answer.reason_phrase)
    kind = ReauthRequired if error == "reauth_required" else FigmaAuthError
    raise kind(answer.status_code, error, message)
