"""The Figma client's one retry policy, with an injected transport and an injected sleep: a
timeout or a Retry-After costs no real time here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from figma_auth.errors import FigmaUnavailable, ReauthRequired
from figma_auth.figma import FigmaClient, RetryPolicy
from figma_auth.oauth import FigmaGrant

NOW = datetime(2026, 11, 28, tzinfo=UTC)
GRANT = FigmaGrant("figu_old-token-000000000000", "figr_refresh-token-0000000000", NOW, ("current_user:read",))


def client(
    answers: list[httpx.Response | Exception], *, style: str = "refresh", retry: RetryPolicy | None = None
) -> tuple[FigmaClient, list[httpx.Request], list[float]]:
    seen: list[httpx.Request] = []
    slept: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    figma = FigmaClient(
        api_url="https://api.figma.test",
        client_id="cid",
        client_secret=lambda: "secret",
        http=httpx.Client(transport=httpx.MockTransport(handle)),
        retry=retry,
        sleep=slept.append,
        refresh_style=style,
    )
    return figma, seen, slept


def ok() -> httpx.Response:
    return httpx.Response(200, json={"access_token": "figu_new-token-000000000000", "expires_in": 3600})


def test_a_timeout_is_retried_once_then_figma_unavailable_without_real_waiting() -> None:
    figma, seen, slept = client([httpx.ReadTimeout("slow"), httpx.ReadTimeout("slow")])

    with pytest.raises(FigmaUnavailable):
        figma.refresh(GRANT, now=lambda: NOW)

    assert len(seen) == 2 and len(slept) == 1 and slept[0] < 1


def test_a_short_retry_after_is_waited_out_and_the_call_retried() -> None:
    figma, seen, slept = client([httpx.Response(429, headers={"Retry-After": "2"}), ok()])

    grant = figma.refresh(GRANT, now=lambda: NOW)

    assert slept == [2.0] and len(seen) == 2
    assert grant.expires_at == NOW + timedelta(hours=1) and grant.refresh_token == GRANT.refresh_token


def test_a_retry_after_longer_than_we_wait_gives_up_at_once_and_passes_it_on() -> None:
    figma, seen, slept = client([httpx.Response(429, headers={"Retry-After": "396749"})])

    with pytest.raises(FigmaUnavailable) as caught:
        figma.refresh(GRANT, now=lambda: NOW)

    assert caught.value.retry_after == 396749 and slept == [] and len(seen) == 1


def test_the_scheduler_policy_never_retries_a_429() -> None:
    figma, seen, slept = client(
        [httpx.Response(429, headers={"Retry-After": "1"})], retry=RetryPolicy(retry_rate_limited=False)
    )

    with pytest.raises(FigmaUnavailable):
        figma.refresh(GRANT, now=lambda: NOW)

    assert len(seen) == 1 and slept == []


@pytest.mark.parametrize(
    ("style", "path", "form"),
    [
        ("refresh", "/v1/oauth/refresh", b"refresh_token=figr_refresh-token-0000000000"),
        ("token", "/v1/oauth/token", b"grant_type=refresh_token&refresh_token=figr_refresh-token-0000000000"),
    ],
)
def test_figma_refresh_style_picks_the_endpoint_and_form(style: str, path: str, form: bytes) -> None:
    figma, seen, _ = client([ok()], style=style)

    figma.refresh(GRANT, now=lambda: NOW)

    assert seen[0].url.path == path and seen[0].content == form
    assert seen[0].headers["authorization"].startswith("Basic ")


def test_a_new_refresh_token_in_the_answer_replaces_the_old_one() -> None:
    answer = httpx.Response(
        200,
        json={
            "access_token": "figu_new-token-000000000000",
            "refresh_token": "figr_rotated-00000000000",
            "expires_in": 60,
        },
    )
    figma, _, _ = client([answer])

    assert figma.refresh(GRANT, now=lambda: NOW).refresh_token == "figr_rotated-00000000000"


def test_invalid_grant_at_refresh_is_reauth_required() -> None:
    figma, _, _ = client([httpx.Response(400, json={"error": "invalid_grant"})])

    with pytest.raises(ReauthRequired):
        figma.refresh(GRANT, now=lambda: NOW)


def test_a_proxied_call_that_times_out_is_figma_unavailable_502_and_never_replayed() -> None:
    calls: list[httpx.Request] = []

    def hang(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("Figma did not answer", request=request)

    with pytest.raises(FigmaUnavailable) as caught:
        FigmaClient(
            api_url="https://api.figma.test",
            client_id="cid",
            client_secret=lambda: "secret",
            http=httpx.Client(transport=httpx.MockTransport(hang)),
        ).forward(
            "/v1/files/AbC",
            method="POST",
            token="figu_token",
            body=b"{}",
            content_type="application/json",
        )

    assert caught.value.status == 502 and len(calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400, json={"error": "invalid_grant"}),
        httpx.Response(400, json={"error": True, "status": 400, "message": "Invalid refresh token"}),
        httpx.Response(401, json={"status": 401, "err": "Token expired"}),
        httpx.Response(403, json={"status": 403, "err": "Invalid token"}),
    ],
    ids=["invalid_grant", "invalid refresh token", "token expired", "invalid token"],
)
def test_only_figmas_explicit_dead_token_answers_end_a_grant(answer: httpx.Response) -> None:
    figma, _, _ = client([answer])

    with pytest.raises(ReauthRequired):
        figma.refresh(GRANT, now=lambda: NOW)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(403, text="<html><body>Forbidden</body></html>", headers={"Content-Type": "text/html"}),
        httpx.Response(400, content=b""),
        httpx.Response(400, json={"error": "invalid_request"}),
        httpx.Response(401, json={"error": "invalid_client"}),
        httpx.Response(403, json={"status": 403, "err": "Invalid request"}),
    ],
    ids=["html 403", "empty 400", "invalid_request", "invalid_client", "invalid request prose"],
)
def test_any_other_refusal_is_figma_error_and_keeps_the_grant(answer: httpx.Response) -> None:
    from figma_auth.errors import FigmaError

    figma, _, _ = client([answer])

    with pytest.raises(FigmaError) as refused:
        figma.refresh(GRANT, now=lambda: NOW)
    assert not isinstance(refused.value, ReauthRequired) and refused.value.code == "figma_error"
