"""The one HTTP client for Figma: code exchange, refresh, identity, and the proxy's calls.

Short timeouts; bounded, jittered retries only where a replay is safe (refresh and
``/v1/me``, never the single-use code exchange); ``Retry-After`` honoured within a
deadline; every failure mapped to a FigmaAuthError the caller can act on.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from figma_auth import deadline, oauth
from figma_auth.errors import FigmaError, FigmaUnavailable, ReauthRequired

if TYPE_CHECKING:
    import httpx

# httpx is imported on first use, not at cold start: a session read that needs no refresh
# never talks to Figma, and importing httpx costs ~60 ms.

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
MAX_RETRY_AFTER = 5.0  # seconds we are willing to wait inside one request
REFRESH_PATH = "/v1/oauth/refresh"  # FIGMA_REFRESH_STYLE=refresh (Figma's OpenAPI spec), and token's fallback
TOKEN_PATH = "/v1/oauth/token"  # FIGMA_REFRESH_STYLE=token (the default): grant_type=refresh_token
_DEAD_GRANT_CODES = {"invalid_grant", "invalid_token"}  # Figma's explicit "this refresh token is dead"


class TokenRejected(FigmaError):
    """Figma answered 401/403 to a token it just issued: another exchange for the same user
    (Figma keeps one active token per user per app) has replaced it."""


@dataclass(frozen=True)
class CodeExchange:
    """What Figma's token endpoint answered a code with: the grant, and whose it says it is."""

    grant: oauth.FigmaGrant
    user_id_hint: str | None  # the token response's user_id_string: who, when /v1/me can't say


@dataclass(frozen=True)
class FigmaUser:
    """Figma's /v1/me: the user's id and profile."""

    id: str
    handle: str
    email: str
    img_url: str


@dataclass(frozen=True)
class ProxyResponse:
    """Figma's answer to a forwarded call, as the proxy hands it on."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str]
    encoding: str | None = None  # "gzip": ``body`` is compressed, as Figma sent it
    overflowed: bool = False  # too large to hold: the body went to the call's ``overflow`` (``body`` is empty)
    location: str | None = None  # the proxy's: where the stored body is (answered 303 See Other)


# Where an answer too large to hold goes as it arrives: (its chunks, content type, encoding).
Overflow = Callable[[Iterator[bytes], str, str | None], None]


PROXY_READ_TIMEOUT = 25.0  # under API Gateway's 30 s
HOLD_BYTES = 4 * 1024 * 1024  # an answer held and returned in Lambda's response (base64: 5.3 of its 6 MB)
MAX_PROXY_BODY = 1024**3  # PROXY_MAX_BYTES' default: read no further
MAX_OAUTH_BODY = 1024 * 1024  # a token or /v1/me answer is a few hundred bytes
_PASS_HEADERS = ("retry-after",)
_PASS_PREFIXES = ("x-figma-", "x-ratelimit-", "ratelimit-")


def tls_for(api_url: str) -> Any:
    """What verifies the API's certificates: for ``https://`` (Figma), httpx's default (certifi's
    CA bundle, checked hostnames). A plain-``http://`` API (the local emulator) never handshakes,
    so its client gets a TLS context that trusts no one instead of loading ≈ 150 CA certificates
    it would never use (≈ 15 ms of a cold start): an ``https://`` URL could not be reached through
    it, never reached unverified."""
    if api_url.lower().startswith("https://"):
        return True
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname, no CA: refuses every peer


class FigmaClient:
    """Talks to ``api_url`` with HTTP Basic client credentials; takes an injected httpx client."""

    def __init__(
        self,
        *,
        api_url: str,
        client_id: str,
        client_secret: Callable[[], str],
        http: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        refresh_style: str = "refresh",
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.refresh_style = refresh_style
        # Shared with with_retry's siblings: once Figma refuses the token style, this container
        # refreshes at /v1/oauth/refresh from then on.
        self._refused_styles: set[str] = set()
        self.client_id = client_id
        self._secret = client_secret
        self._http = http
        self.retry = retry or RetryPolicy()
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.sleep = sleep

    def with_retry(self, retry: RetryPolicy) -> FigmaClient:
        """The same client (credentials, HTTP connections) under another retry policy."""
        sibling = copy.copy(self)
        sibling._http = self.http  # created now, so both share one pool of warm connections
        sibling.retry = retry
        return sibling

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            import httpx

            self._http = httpx.Client(
                timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
                verify=tls_for(self.api_url),
            )
        return self._http

    # -- OAuth --------------------------------------------------------------------------

    def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None, scopes: tuple[str, ...], now: datetime
    ) -> CodeExchange:
        """Trade a code for tokens. Never retried: a code is single-use."""
        form = {"redirect_uri": redirect_uri, "code": code, "grant_type": "authorization_code"}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        response = self._send("POST", TOKEN_PATH, data=form, auth=self._basic(), retry=NEVER)
        if response.status_code != 200:
            raise FigmaError(f"Figma rejected the code exchange (HTTP {response.status_code})")
        body = _json(response)
        hint = body.get("user_id_string") if isinstance(body, dict) else None
        return CodeExchange(
            oauth.parse_token_response(body, now=now, scopes=scopes),
            hint if isinstance(hint, str) and 0 < len(hint) <= 128 and hint.isprintable() else None,
        )

    def refresh(self, grant: oauth.FigmaGrant, *, now: Callable[[], datetime]) -> oauth.FigmaGrant:
        """Renew the access token. A dead grant raises ReauthRequired; a blip FigmaUnavailable.

        The token style (``POST /v1/oauth/token``, ``grant_type=refresh_token``) falls back once to
        ``/v1/oauth/refresh`` when Figma answers it 404 or ``unsupported_grant_type`` (the refresh
        token is not spent by a refused request), and the container remembers it."""
        if self.refresh_style == "token" and "token" not in self._refused_styles:
            form = {"grant_type": "refresh_token", "refresh_token": grant.refresh_token}
            response = self._send("POST", TOKEN_PATH, data=form, auth=self._basic())
            if not refuses_token_style(response):
                return refresh_result(response, grant, now())
            self._refused_styles.add("token")
            from figma_auth.observability import metrics_count

            metrics_count("RefreshStyleFallback")
        response = self._send("POST", REFRESH_PATH, data={"refresh_token": grant.refresh_token}, auth=self._basic())
        return refresh_result(response, grant, now())

    def me(self, access_token: str) -> FigmaUser:
        response = self._send("GET", "/v1/me", headers={"Authorization": f"Bearer {access_token}"})
        if response.status_code in (401, 403):
            raise TokenRejected("Figma no longer accepts this access token")
        if response.status_code != 200:
            raise FigmaError(f"Figma's /v1/me answered HTTP {response.status_code}")
        body = _json(response)
        if not isinstance(body, dict):
            raise FigmaError("Figma's /v1/me answer is not a JSON object")
        user_id = body.get("id")
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            user_id = str(user_id)
        if not isinstance(user_id, str) or not 0 < len(user_id) <= 128:
            raise FigmaError("Figma's /v1/me answer has no user id")
        return FigmaUser(
            id=user_id,
            handle=_text(body.get("handle")),
            email=_text(body.get("email")),
            img_url=_text(body.get("img_url"), 2048),
        )

    # -- the proxy ------------------------------------------------------------------------

    def forward(
        self,
        target: str,
        *,
        method: str,
        token: str,
        body: bytes | None,
        content_type: str | None,
        gzip: bool = False,
        overflow: Overflow | None = None,
        max_bytes: int | None = None,
    ) -> ProxyResponse:
        """One proxied call to ``target`` (a checked API path and query) with the user's token;
        nothing of the client's but the body.

        Figma is always asked for gzip. ``gzip``: the caller takes it, so a gzip answer is kept
        compressed, never decoded; otherwise it is decoded as it arrives. An answer over
        HOLD_BYTES goes to ``overflow`` as it arrives (memory stays flat), or is
        ResponseTooLarge without one; so is one over ``max_bytes``, decided from Content-Length
        before any byte is read when Figma sends one. Never retried (a POST may not be idempotent).
        """
        import httpx

        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "Accept-Encoding": "gzip"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            with self.http.stream(
                method,
                self.api_url + target,
                headers=headers,
                content=body,
                timeout=httpx.Timeout(deadline.bounded(PROXY_READ_TIMEOUT), connect=deadline.bounded(CONNECT_TIMEOUT)),
            ) as response:
                return received(response, gzip=gzip, overflow=overflow, limit=max_bytes or MAX_PROXY_BODY)
        except httpx.TransportError as exc:
            raise FigmaUnavailable("Figma did not answer in time.", status=502) from exc
        except httpx.DecodingError as exc:  # Content-Encoding says gzip, the body is not
            raise FigmaError("Figma's answer could not be decoded") from exc

    # -- plumbing -----------------------------------------------------------------------

    def _basic(self) -> httpx.BasicAuth:
        import httpx

        return httpx.BasicAuth(self.client_id, self._secret())

    def _send(self, method: str, path: str, *, retry: RetryPolicy | None = None, **kwargs: Any) -> httpx.Response:
        import httpx

        policy = retry or self.retry
        auth = kwargs.pop("auth", None)  # the client's send() takes it, not build_request()
        attempt = 0
        while True:
            attempt += 1
            read = deadline.bounded(self.read_timeout)
            if read < deadline.MIN_ATTEMPT_SECONDS:
                raise FigmaUnavailable("Figma is too slow to answer within this request; try again.", retry_after=2)
            timeout = httpx.Timeout(read, connect=min(self.connect_timeout, read))
            try:
                request = self.http.build_request(method, self.api_url + path, timeout=timeout, **kwargs)
                streamed = self.http.send(request, auth=auth, stream=True)
                try:
                    content = read_within(streamed, read, limit=MAX_OAUTH_BODY)
                finally:
                    streamed.close()
                headers = streamed.headers.copy()
                headers.pop("content-encoding", None)  # ``content`` is decoded: httpx must not decode it again
                response = httpx.Response(streamed.status_code, headers=headers, content=content, request=request)
            except httpx.TransportError as exc:  # timeouts, refused, reset
                self._wait(policy.wait_or_raise(attempt, None, exc), None)
                continue
            except httpx.DecodingError as exc:  # Content-Encoding says gzip, the body is not
                raise FigmaError("Figma's answer could not be decoded") from exc
            if not policy.retryable(response):
                return response
            self._wait(policy.wait_or_raise(attempt, response, None), response)

    def _wait(self, seconds: float, response: httpx.Response | None) -> None:
        """Sleep before the next try, if the request has time for the wait and a try after it."""
        remaining = deadline.left()
        if remaining is not None and seconds + deadline.MIN_ATTEMPT_SECONDS > remaining:
            status = f"HTTP {response.status_code}" if response is not None else "no answer"
            raise FigmaUnavailable(f"Figma answered {status}; try again shortly.", retry_after=max(1, round(seconds)))
        self.sleep(seconds)


def received(response: httpx.Response, *, gzip: bool, overflow: Overflow | None, limit: int) -> ProxyResponse:
    """A proxied call's answer, read as ``FigmaClient.forward`` says."""
    from figma_auth.errors import ResponseTooLarge

    if declared_length(response) > limit:
        raise ResponseTooLarge()
    kept = "gzip" if gzip and response.headers.get("content-encoding", "").lower() == "gzip" else None
    raw = response.iter_raw() if kept else response.iter_bytes()
    chunks = within_time(response, raw, deadline.bounded(PROXY_READ_TIMEOUT), limit=limit)
    answer_type = response.headers.get("content-type", "application/json")
    passed = {
        name: value
        for name, value in response.headers.items()
        if name.lower() in _PASS_HEADERS or name.lower().startswith(_PASS_PREFIXES)
    }
    held, rest = hold(chunks, HOLD_BYTES)
    if rest is None:
        return ProxyResponse(response.status_code, held, answer_type, passed, kept)
    if overflow is None:
        raise ResponseTooLarge()
    overflow(_chain(held, rest), answer_type, kept)
    return ProxyResponse(response.status_code, b"", answer_type, passed, kept, overflowed=True)


def read_within(response: httpx.Response, seconds: float, *, limit: int) -> bytes:
    """The whole (decoded) body, read within ``seconds`` in all (``within_time``)."""
    return b"".join(within_time(response, response.iter_bytes(), seconds, limit=limit))


def within_time(response: httpx.Response, chunks: Iterator[bytes], seconds: float, *, limit: int) -> Iterator[bytes]:
    """``chunks`` of ``response``'s body, read within ``seconds`` in all, not per read: after each
    chunk the next read may wait only the time left (httpcore takes the read timeout from the
    request's ``timeout`` extension at every read), so a body sent a byte at a time cannot hold
    the request past its deadline. Over ``limit`` bytes: ResponseTooLarge."""
    from figma_auth.errors import ResponseTooLarge

    ends = time.monotonic() + seconds
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge()
        yield chunk
        left = ends - time.monotonic()
        if left <= 0:
            raise FigmaUnavailable("Figma's answer did not arrive in time.", status=502)
        timeouts = response.request.extensions.get("timeout")
        if isinstance(timeouts, dict):
            timeouts["read"] = min(timeouts.get("read") or left, left)


def hold(chunks: Iterator[bytes], limit: int) -> tuple[bytes, Iterator[bytes] | None]:
    """The body when it ends within ``limit`` bytes: (body, None); else (what was read, the rest)."""
    held: list[bytes] = []
    size = 0
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(held), chunks
    return b"".join(held), None


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def declared_length(response: httpx.Response) -> int:
    """The body's size as Figma declares it (Content-Length), or 0 when it does not say."""
    value = response.headers.get("content-length", "")
    return int(value) if value.isdigit() else 0


def is_invalid_token(response: ProxyResponse) -> bool:
    """401, or Figma's 403 "Invalid token"/"Token expired" (not a 403 for a file you can't see)."""
    if response.status == 401:
        return True
    return response.status == 403 and b"token" in response.body[:512].lower()


def refresh_style_refused(status: int, body: Any) -> bool:
    """Whether Figma's answer to a token-style refresh means "not here": 404, or a 400 whose
    error is ``unsupported_grant_type``."""
    return status == 404 or (status == 400 and oauth.figma_error_code(body) == "unsupported_grant_type")


def refuses_token_style(response: httpx.Response) -> bool:
    return refresh_style_refused(response.status_code, _json_or_none(response))


def refresh_result(response: httpx.Response, grant: oauth.FigmaGrant, now: datetime) -> oauth.FigmaGrant:
    """Interpret Figma's answer to a refresh. The grant dies (ReauthRequired) only when Figma
    says in so many words that the refresh token is invalid or revoked; any other refusal (an
    HTML page from something in front of Figma, an empty or unknown 4xx) is figma_error and
    the grant is kept: one bad minute at Figma's edge must not sign every user out."""
    if response.status_code in (400, 401, 403):
        code = oauth.figma_error_code(_json_or_none(response))
        if code == "invalid_client":
            raise FigmaError("Figma rejected our client credentials (invalid_client): check the secret")
        if code in _DEAD_GRANT_CODES:
            raise ReauthRequired()
        from figma_auth.observability import metrics_count

        metrics_count("RefreshAnswerUnrecognised")
        raise FigmaError(
            f"Figma refused the refresh (HTTP {response.status_code}) without saying why; the grant is kept"
        )
    if response.status_code != 200:
        raise FigmaError(f"Figma's refresh answered HTTP {response.status_code}")
    return oauth.parse_refresh_response(_json(response), now=now, previous=grant)


@dataclass(frozen=True)
class RetryPolicy:
    """When a call to Figma is tried again, and how long we wait first (every call but the
    proxy's, which is never replayed: a POST may not be idempotent). Retried: transport errors, 5xx,
    and 429 (unless ``retry_rate_limited`` is off), at most ``attempts`` tries in all,
    honouring ``Retry-After`` up to ``max_wait`` seconds (longer: give up at once)."""

    attempts: int = 2
    max_wait: float = MAX_RETRY_AFTER
    retry_rate_limited: bool = True

    @staticmethod
    def retryable(response: httpx.Response) -> bool:
        return response.status_code == 429 or response.status_code >= 500

    def wait_or_raise(self, attempt: int, response: httpx.Response | None, error: Exception | None) -> float:
        """Seconds to wait before try ``attempt + 1``; FigmaUnavailable when there is none."""
        if response is None:
            if attempt >= self.attempts:
                raise FigmaUnavailable("Figma did not answer in time.") from error
            return _jitter(attempt)
        retry_after = _retry_after(response)
        give_up = (
            attempt >= self.attempts
            or (response.status_code == 429 and not self.retry_rate_limited)
            or (retry_after is not None and retry_after > self.max_wait)
        )
        if give_up:
            raise FigmaUnavailable(
                f"Figma answered HTTP {response.status_code}; try again shortly.", retry_after=retry_after
            )
        return float(retry_after) if retry_after is not None else _jitter(attempt)


NEVER = RetryPolicy(attempts=1)  # the code exchange: a code is single-use


def _jitter(attempt: int) -> float:
    return random.uniform(0.05, 0.25) * attempt  # nosec B311 - jitter, not crypto


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None


def _json(response: httpx.Response) -> Any:
    body = _json_or_none(response)
    if body is None:
        raise FigmaError("Figma answered with something that is not JSON")
    return body


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _text(value: Any, limit: int = 512) -> str:
    return value[:limit] if isinstance(value, str) else ""
