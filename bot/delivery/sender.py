"""The sender: claims due outbox rows, renders them, sends them within the limits, records.

It runs as a task inside the bot process, started and stopped with the Application. Up to
`send_concurrency` calls are in flight at once, so the configured rate holds even when each
API call takes 100 ms or more; the RateLimiter keeps the pace. Outcomes are written back in
small batches; after a crash, rows whose outcome was not written yet are claimed again when
their lease runs out (see outbox.py). Hence the crash bound: at most `in_flight_bound`
messages are sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from bot.core import Core
from bot.delivery import outbox
from bot.delivery.channel import (
    Channel,
    DeliveryError,
    Outgoing,
    RetryLater,
    Transient,
    Unreachable,
)
from bot.delivery.kinds import KINDS
from bot.delivery.limiter import RateLimiter
from bot.delivery.outbox import Outcome
from bot.models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)
FLUSH_SIZE = 50  # outcomes written in one statement
FLUSH_EVERY = 0.25  # seconds: the longest an outcome waits to be written
IDLE_POLL = 1.0  # seconds between looks at an empty outbox (other processes enqueue too)
STOP_GRACE = 10.0  # seconds a stopping sender waits for calls in flight


@dataclass
class Job:
    row_id: int
    resident_id: int
    chat_id: int
    attempts: int
    message: Outgoing


class Sender:
    def __init__(self, core: Core, channel: Channel, limiter: RateLimiter | None = None) -> None:
        self.core, self.channel = core, channel
        settings = core.settings
        self.limiter = limiter or RateLimiter(settings.send_rate)
        self.concurrency = settings.send_concurrency
        self.batch = max(2 * self.concurrency, 64)
        self._queue: asyncio.Queue[Job] = asyncio.Queue()
        self._outcomes: list[Outcome] = []
        self._wake = asyncio.Event()
        self._flush = asyncio.Event()
        self._room = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()  # workers inside channel.send
        self._unsent: list[int] = []  # claimed rows taken back at stop
        self._held: set[int] = set()  # claimed rows whose outcome is not written yet
        self._tasks: list[asyncio.Task[None]] = []
        # Loops stop at a turn, never cancelled mid-query: a cancelled database call can
        # leave its connection hanging (seen with psycopg).
        self._stopping = False
        self._workers: list[asyncio.Task[None]] = []

    @property
    def in_flight_bound(self) -> int:
        """Messages that may be sent twice after a crash: sent, outcome not yet written."""
        return self.concurrency + FLUSH_SIZE

    def wake(self) -> None:
        """Something was enqueued: look now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]
        self._tasks = [
            asyncio.create_task(self._claim_loop()),
            asyncio.create_task(self._flusher()),
        ]

    async def stop(self) -> None:
        claim_loop, flusher = self._tasks
        self._stopping = True
        self._wake.set()
        self._room.set()
        await claim_loop
        while not self._queue.empty():
            self._unsent.append(self._queue.get_nowait().row_id)
        self._held.difference_update(self._unsent)
        if self._sending:
            await asyncio.wait(self._sending, timeout=STOP_GRACE)
        for worker in self._workers:
            worker.cancel()  # idle, or waiting for a slot: their row goes back (see _work)
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._flush.set()
        await flusher
        await self._write()
        await outbox.release(self.core, self._unsent)
        self._held.difference_update(self._unsent)
        self._unsent.clear()

    # -- claiming and rendering ----------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping:
            try:
                await self._claim_once()
            except Exception as error:  # the database may be briefly away: keep going
                log.error("outbox claim failed: %s", type(error).__name__, exc_info=error)
                await self._idle(IDLE_POLL)

    async def _idle(self, seconds: float) -> None:
        """Wait, but wake for new work or a stop."""
        self._wake.clear()
        if self._stopping:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _claim_once(self) -> None:
        if (pause := self.limiter.pause_left()) > 0:
            await self._idle(pause)
            return
        room = self.batch - self._queue.qsize()
        if room < self.batch // 2:
            self._room.clear()
            if not self._stopping:
                await self._room.wait()
            return
        rows = await outbox.claim(self.core, room)
        # A lease that ran out on a row still in our hands (a stalled call) is not a crash.
        rows = [row for row in rows if row.id not in self._held]
        self._held.update(row.id for row in rows)
        if not rows:
            await self._idle(IDLE_POLL)
            return
        for job in await self._prepare(rows):
            self._queue.put_nowait(job)

    async def _prepare(self, rows: list[Delivery]) -> list[Job]:
        """Render each row in its resident's language now; settle those that must not go."""
        now = self.core.clock.now()
        jobs: list[Job] = []
        async with self.core.db.session() as session:
            for row in rows:
                resident = row.resident
                reason = None
                if row.expires_at is not None and row.expires_at <= now:
                    self._settle(row, DeliveryStatus.EXPIRED, "expired")
                    continue
                if resident.chat_id is None or resident.consent_at is None:
                    reason = "no_chat"
                elif resident.unreachable:
                    reason = "unreachable"
                elif resident.opted_out and not row.urgent:
                    reason = "opted_out"
                elif row.kind not in KINDS:
                    self._settle(row, DeliveryStatus.FAILED, "unknown_kind")
                    continue
                if reason is not None:
                    self._settle(row, DeliveryStatus.SKIPPED, reason)
                    continue
                t = self.core.catalogs.translator(resident.locale)
                try:
                    message = await KINDS[row.kind].render(self.core, session, row, resident, t)
                except Exception as error:
                    log.error("rendering %s failed: %s", row.kind, type(error).__name__)
                    self._settle(row, DeliveryStatus.FAILED, "render_error")
                    continue
                if message is None:  # no longer meaningful (paid, cancelled...)
                    self._settle(row, DeliveryStatus.SKIPPED, "stale")
                    continue
                assert resident.chat_id is not None
                jobs.append(Job(row.id, resident.id, resident.chat_id, row.attempts, message))
        return jobs

    def _settle(self, row: Delivery, status: DeliveryStatus, reason: str) -> None:
        now = self.core.clock.now()
        self._done(Outcome(row.id, status, row.attempts, now, last_error=reason))

    # -- sending ---------------------------------------------------------------------------

    async def _work(self) -> None:
        current = asyncio.current_task()
        assert current is not None
        while True:
            job = await self._queue.get()
            if self._queue.qsize() <= self.batch // 2:
                self._room.set()
            try:
                await self.limiter.wait(job.chat_id)
            except asyncio.CancelledError:
                self._unsent.append(job.row_id)
                raise
            self._sending.add(current)
            try:
                outcome = await self._send(job)
            finally:
                self._sending.discard(current)
            self._done(outcome)

    async def _send(self, job: Job) -> Outcome:
        now = self.core.clock.now
        attempts = job.attempts + 1
        try:
            message_id = await self.channel.send(job.chat_id, job.message)
        except RetryLater as error:
            self.limiter.pause(error.seconds)
            log.warning("flood control: pausing sends for %.0f s", error.seconds)
            return Outcome(job.row_id, DeliveryStatus.PENDING, job.attempts, now(), error.reason)
        except Unreachable as error:
            return Outcome(
                job.row_id,
                DeliveryStatus.BLOCKED,
                attempts,
                now(),
                error.reason,
                blocked_resident=job.resident_id,
            )
        except Transient as error:
            if attempts >= self.core.settings.send_max_attempts:
                return Outcome(job.row_id, DeliveryStatus.FAILED, attempts, now(), error.reason)
            retry_at = now() + outbox.backoff(attempts)
            return Outcome(job.row_id, DeliveryStatus.PENDING, attempts, retry_at, error.reason)
        except DeliveryError as error:  # undeliverable: retrying would not help
            return Outcome(job.row_id, DeliveryStatus.FAILED, attempts, now(), error.reason)
        return Outcome(
            job.row_id, DeliveryStatus.SENT, attempts, now(), sent_at=now(), message_id=message_id
        )

    # -- writing outcomes ------------------------------------------------------------------

    def _done(self, outcome: Outcome) -> None:
        self._held.discard(outcome.id)
        self._outcomes.append(outcome)
        if len(self._outcomes) >= FLUSH_SIZE:
            self._flush.set()

    async def _flusher(self) -> None:
        renewed = time.monotonic()
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush.wait(), FLUSH_EVERY)
            self._flush.clear()
            try:
                await self._write()
                if time.monotonic() - renewed > self.core.settings.send_lease.total_seconds() / 3:
                    # Rows held through a long flood-control pause must not look abandoned.
                    await outbox.renew(self.core, list(self._held))
                    renewed = time.monotonic()
            except Exception as error:  # kept in memory and written at the next turn
                log.error("writing outcomes failed: %s", type(error).__name__, exc_info=error)
                await asyncio.sleep(FLUSH_EVERY)

    async def _write(self) -> None:
        outcomes, self._outcomes = self._outcomes, []
        try:
            await outbox.record(self.core, outcomes)
        except BaseException:
            self._outcomes = outcomes + self._outcomes
            raise
        if any(o.status == DeliveryStatus.PENDING for o in outcomes):
            self.wake()
