"""The scheduled refresh: renew every active grant that expires within REFRESH_AHEAD_SECONDS.

Reads only the grants that are due (a day-bucketed GSI), refreshes them with bounded async
concurrency under the same lease as on-demand refresh, lets one bad grant fail alone,
pauses the whole batch when Figma answers 429 with Retry-After, and stops starting new
work before the Lambda deadline (the rest is left for the next run).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from figma_auth import oauth
from figma_auth.errors import FigmaUnavailable, ReauthRequired
from figma_auth.figma import AsyncFigmaClient
from figma_auth.observability import logger
from figma_auth.service import LEASE_MS, AuthService
from figma_auth.store import ACTIVE, Session, Store

LOOK_BACK = timedelta(days=1)  # grants whose refresh failed recently are retried too
T = TypeVar("T")


@dataclass
class BatchReport:
    refreshed: int = 0
    skipped: int = 0
    reauth_required: int = 0
    failed: int = 0
    examined: int = 0
    stopped_early: bool = False
    failures: list[str] = field(default_factory=list)  # short session-id prefixes, never tokens

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


class RefreshScheduler:
    def __init__(
        self,
        *,
        service: AuthService,
        figma: AsyncFigmaClient,
        concurrency: int,
        ahead_seconds: int,
        remaining_ms: Callable[[], int],
        safety_ms: int = 30_000,
        pages: Store | None = None,
    ) -> None:
        """``pages``: where the due grants are read from (default: the service's store); the
        runtime passes one whose client waits longer for a 1 MB query page."""
        self.service = service
        self.pages = pages or service.store
        self.figma = figma
        self.concurrency = concurrency
        self.ahead = timedelta(seconds=ahead_seconds)
        self.remaining_ms = remaining_ms
        self.safety_ms = safety_ms
        self.pause_until = 0.0
        self.report = BatchReport()
        # REFRESH_CONCURRENCY bounds the calls to Figma. Up to as many grants again get their
        # lease and key ready meanwhile, so Figma's slots never wait on DynamoDB or KMS.
        self._figma_slots = asyncio.Semaphore(concurrency)
        self._pool = ThreadPoolExecutor(max_workers=2 * concurrency, thread_name_prefix="refresh")

    async def run(self) -> BatchReport:
        now = self.service.clock()
        pages = self.pages.due_pages(start=now - LOOK_BACK, end=now + self.ahead)
        slots = asyncio.Semaphore(2 * self.concurrency)  # grants in flight: bounded memory
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                page = await self._aws(next, pages, None)
                if page is None:
                    break
                for session in page:
                    if self.remaining_ms() < self.safety_ms:
                        self.report.stopped_early = True
                        break
                    await slots.acquire()
                    task = asyncio.create_task(self._one(session))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    task.add_done_callback(lambda _: slots.release())
                if self.report.stopped_early:
                    break
            await asyncio.gather(*running)
        finally:
            self._pool.shutdown(wait=False)
        return self.report

    async def _one(self, session: Session) -> None:
        report = self.report
        report.examined += 1
        owner = oauth.random_token(12)
        try:
            now_ms = int(time.time() * 1000)
            if session.grant_status != ACTIVE or session.lease_until_ms >= now_ms:
                report.skipped += 1  # another refresher holds it
                return
            # The lease and the grant's key in parallel: a scheduled grant is rarely contended,
            # and a lost lease only wastes one Decrypt.
            lease = self._aws(
                self.service.store.acquire_lease,
                session.id,
                version=session.grant_version,
                owner=owner,
                now_ms=now_ms,
                lease_ms=LEASE_MS,
            )
            won, grant = await asyncio.gather(lease, self._aws(self.service.open_grant, session))
            if not won:
                report.skipped += 1
                return
            await self._refresh_owned(session, grant, owner)
        except Exception as exc:  # one poison grant never stops the batch
            report.failed += 1
            report.failures.append(session.id[:8])
            logger.warning("scheduled refresh failed", extra={"session": session.id[:8], "error": type(exc).__name__})
            await self._aws(self.service.store.release_lease, session.id, owner=owner)

    async def _refresh_owned(self, session: Session, grant: oauth.FigmaGrant, owner: str) -> None:
        report = self.report
        try:
            async with self._figma_slots:
                wait = self.pause_until - time.monotonic()
                if wait > 0:
                    if self.remaining_ms() - wait * 1000 < self.safety_ms:
                        await self._aws(self.service.store.release_lease, session.id, owner=owner)
                        report.skipped += 1
                        return
                    await asyncio.sleep(wait)
                new = await self.figma.refresh(grant, now=self.service.clock)
        except ReauthRequired:
            await self._aws(self.service.grant_died, session, owner=owner)
            report.reauth_required += 1
            return
        except FigmaUnavailable as exc:
            if exc.retry_after:  # Figma asked everyone to slow down: pause the batch
                self.pause_until = max(self.pause_until, time.monotonic() + exc.retry_after)
            raise
        done = await self._aws(self.service.store_refreshed, session, new, owner=owner)
        if done is None:
            report.skipped += 1
        else:
            report.refreshed += 1

    async def _aws(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking boto3 step on the scheduler's own thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))
