"""The request deadline: every wait fits in Lambda's remaining time minus a margin."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from figma_auth import deadline
from figma_auth.errors import FigmaUnavailable
from figma_auth.figma import FigmaClient


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def client(handler: Callable[[httpx.Request], httpx.Response], slept: list[float]) -> FigmaClient:
    return FigmaClient(
        api_url="https://figma.test",
        client_id="id",
        client_secret=lambda: "secret",
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=slept.append,
    )


def test_without_a_deadline_nothing_is_bounded() -> None:
    assert deadline.left() is None and deadline.bounded(25.0) == 25.0


def test_the_margin_is_kept_and_bounded_never_goes_negative() -> None:
    clock = Clock()
    token = deadline.start(10_000, clock=clock)
    try:
        assert deadline.left(clock=clock) == pytest.approx(10 - deadline.MARGIN_SECONDS)
        clock.now += 20
        assert deadline.bounded(5.0, clock=clock) == 0.0
    finally:
        deadline.finish(token)
    assert deadline.left() is None


def test_a_retry_after_longer_than_the_time_left_gives_up_at_once_without_sleeping() -> None:
    slept: list[float] = []
    calls = []

    def figma(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(429, headers={"Retry-After": "5"})

    token = deadline.start(4_000)  # 3 s after the margin: no room for 5 s and another try
    try:
        with pytest.raises(FigmaUnavailable) as refused:
            client(figma, slept).me("token")
    finally:
        deadline.finish(token)
    assert slept == [] and calls == ["/v1/me"] and refused.value.retry_after == 5


def test_a_retry_after_that_fits_is_waited_out() -> None:
    slept: list[float] = []
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={"id": "1"})])

    token = deadline.start(30_000)
    try:
        user = client(lambda request: next(answers), slept).me("token")
    finally:
        deadline.finish(token)
    assert user.id == "1" and slept == [1.0]


def test_a_call_is_never_started_with_less_than_a_second_left() -> None:
    calls: list[str] = []
    token = deadline.start(int((deadline.MARGIN_SECONDS + 0.5) * 1000))
    try:
        with pytest.raises(FigmaUnavailable):

            def answer(request: httpx.Request) -> httpx.Response:
                calls.append("x")
                return httpx.Response(200)

            client(answer, []).me("token")
    finally:
        deadline.finish(token)
    assert calls == []


def test_a_request_without_a_deadline_is_unbounded() -> None:
    from figma_auth import deadline

    token = deadline.start(None, clock=lambda: 100.0)
    try:
        assert deadline.left(clock=lambda: 100.0) is None and deadline.bounded(10.0, clock=lambda: 100.0) == 10.0
    finally:
        deadline.finish(token)
