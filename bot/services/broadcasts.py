"""Operator broadcasts: a draft, then sent now or at a set time through the delivery path.

Operators write in the default language (Italian) and may add versions for other languages;
a resident whose language has no version gets the Italian text under a translated header.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.delivery import outbox
from bot.delivery.channel import Outgoing
from bot.delivery.kinds import register
from bot.i18n import N_, Translator
from bot.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Resident,
)
from bot.services import DomainError, audiences

MAX_TEXT = 3000  # visible characters: with the header and the preview's figures, under 4096
RECENT = 10
NOT_REACHED_SHOWN = 40
KIND, PROGRESS, REPORT = "broadcast", "broadcast_progress", "broadcast_report"

# Why a resident was not reached, as operators read it (reason codes: bot/delivery).
REASONS = {
    "blocked": N_("blocked the bot"),
    "unreachable": N_("had blocked the bot"),
    "opted_out": N_("turned notices off with /stop"),
    "no_chat": N_("no longer uses the bot"),
    "expired": N_("expired before it could be sent"),
    "pending": N_("not sent yet"),
}
OTHER_REASON = N_("could not be delivered")


class NotADraft(DomainError):
    """The broadcast was sent, scheduled or cancelled meanwhile."""


class EmptyText(DomainError):
    pass


class TextTooLong(DomainError):
    pass


class NotInFuture(DomainError):
    pass


class NotCancellable(DomainError):
    pass


@dataclass
class Summary:
    broadcast: Broadcast
    counts: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# -- the draft ------------------------------------------------------------------------------


async def new_draft(core: Core, author_id: int, audience: str) -> Broadcast:
    """Start a draft for this audience; the author's earlier unfinished draft is dropped."""
    audiences.parse(audience)
    async with core.db.session.begin() as session:
        await session.execute(
            delete(Broadcast).where(
                Broadcast.author_id == author_id, Broadcast.status == BroadcastStatus.DRAFT
            )
        )
        broadcast = Broadcast(
            author_id=author_id, audience=audience, texts={}, created_at=core.clock.now()
        )
        session.add(broadcast)
        return broadcast


async def draft(core: Core, author_id: int) -> Broadcast | None:
    async with core.db.session() as session:
        return await session.scalar(
            select(Broadcast)
            .where(Broadcast.author_id == author_id, Broadcast.status == BroadcastStatus.DRAFT)
            .order_by(Broadcast.id.desc())
            .limit(1)
        )


async def set_text(core: Core, broadcast_id: int, html: str, visible: str) -> Broadcast:
    """The operator's text (Telegram HTML kept from their formatting): the Italian one, or
    the version for the language chosen with start_version."""
    if not visible.strip():
        raise EmptyText()
    if len(visible) > MAX_TEXT:
        raise TextTooLong(str(len(visible)))
    async with core.db.session.begin() as session:
        broadcast = await _draft(session, broadcast_id)
        locale = broadcast.draft_locale or core.catalogs.default
        broadcast.texts = {**broadcast.texts, locale: html.strip()}
        broadcast.draft_locale = None
        return broadcast


async def start_version(core: Core, broadcast_id: int, locale: str) -> Broadcast:
    """The operator is about to write the version for this language."""
    if locale not in core.catalogs.locales or locale == core.catalogs.default:
        raise NotADraft(locale)
    async with core.db.session.begin() as session:
        broadcast = await _draft(session, broadcast_id)
        broadcast.draft_locale = locale
        return broadcast


async def set_urgent(core: Core, broadcast_id: int, urgent: bool) -> Broadcast:
    async with core.db.session.begin() as session:
        broadcast = await _draft(session, broadcast_id)
        broadcast.urgent = urgent
        return broadcast


async def _draft(session: AsyncSession, broadcast_id: int) -> Broadcast:
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None or broadcast.status != BroadcastStatus.DRAFT:
        raise NotADraft(str(broadcast_id))
    return broadcast


# -- sending ----------------------------------------------------------------------------------


async def send_now(core: Core, broadcast_id: int) -> Broadcast:
    async with core.db.session.begin() as session:
        broadcast = await _draft(session, broadcast_id)
        await _start(core, session, broadcast)
        return broadcast


async def schedule(core: Core, broadcast_id: int, send_at: datetime) -> Broadcast:
    if send_at <= core.clock.now():
        raise NotInFuture(send_at.isoformat())
    async with core.db.session.begin() as session:
        broadcast = await _draft(session, broadcast_id)
        broadcast.status, broadcast.send_at = BroadcastStatus.SCHEDULED, send_at
        return broadcast


async def cancel(core: Core, broadcast_id: int) -> Broadcast:
    """A draft or a scheduled broadcast can be cancelled; one being sent cannot be recalled."""
    async with core.db.session.begin() as session:
        broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
        if broadcast is None or broadcast.status not in (
            BroadcastStatus.DRAFT,
            BroadcastStatus.SCHEDULED,
        ):
            raise NotCancellable(str(broadcast_id))
        broadcast.status = BroadcastStatus.CANCELLED
        return broadcast


async def release_due(core: Core) -> int:
    """The scheduler's turn: start the scheduled broadcasts whose time has come."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        due = await session.scalars(
            select(Broadcast)
            .where(Broadcast.status == BroadcastStatus.SCHEDULED, Broadcast.send_at <= now)
            .with_for_update(skip_locked=True)
        )
        started = 0
        for broadcast in due:
            await _start(core, session, broadcast)
            started += 1
        return started


async def _start(core: Core, session: AsyncSession, broadcast: Broadcast) -> None:
    now = core.clock.now()
    broadcast.status, broadcast.started_at = BroadcastStatus.SENDING, now
    await _to_author(session, broadcast, PROGRESS, now)  # the progress message comes first
    await outbox.enqueue_select(
        session,
        audiences.members(core, broadcast.audience),
        kind=KIND,
        key_prefix=f"{KIND}:{broadcast.id}:",
        broadcast_id=broadcast.id,
        urgent=broadcast.urgent,
        now=now,
    )


async def _to_author(session: AsyncSession, broadcast: Broadcast, kind: str, now: datetime) -> None:
    """Progress and report go to the operator who wrote the notice, whatever the hour."""
    if broadcast.author_id is not None:
        await outbox.enqueue(
            session,
            resident_id=broadcast.author_id,
            kind=kind,
            key=f"{kind}:{broadcast.id}",
            broadcast_id=broadcast.id,
            now=now,
        )


# -- figures ----------------------------------------------------------------------------------


async def counts(session: AsyncSession, ids: list[int]) -> dict[int, Counter[str]]:
    """Deliveries to residents per broadcast and status."""
    result: dict[int, Counter[str]] = {i: Counter() for i in ids}
    rows = await session.execute(
        select(Delivery.broadcast_id, Delivery.status, func.count())
        .where(Delivery.broadcast_id.in_(ids), Delivery.kind == KIND)
        .group_by(Delivery.broadcast_id, Delivery.status)
    )
    for broadcast_id, status, count in rows:
        result[broadcast_id][DeliveryStatus(status).value] += count
    return result


async def recent(core: Core, limit: int = RECENT) -> list[Summary]:
    """The latest broadcasts (scheduled ones included), newest first, with their figures."""
    async with core.db.session() as session:
        rows = list(
            await session.scalars(
                select(Broadcast)
                .where(Broadcast.status != BroadcastStatus.DRAFT)
                .order_by(Broadcast.id.desc())
                .limit(limit)
            )
        )
        figures = await counts(session, [b.id for b in rows])
        return [Summary(b, figures[b.id]) for b in rows]


async def summary(core: Core, broadcast_id: int) -> Summary | None:
    async with core.db.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None or broadcast.status == BroadcastStatus.DRAFT:
            return None
        return Summary(broadcast, (await counts(session, [broadcast_id]))[broadcast_id])


async def not_reached(core: Core, broadcast_id: int) -> list[tuple[Resident, str]]:
    """Who did not get it and why, so an operator can phone them."""
    async with core.db.session() as session:
        rows = await session.execute(
            select(Resident, Delivery.status, Delivery.last_error)
            .join(Delivery, Delivery.resident_id == Resident.id)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.kind == KIND,
                Delivery.status != DeliveryStatus.SENT,
            )
            .order_by(Resident.full_name, Resident.display_name, Resident.id)
        )
        return [
            (resident, "pending" if status in _OPEN else (reason or status))
            for resident, status, reason in rows
        ]


_OPEN = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


async def progress(core: Core) -> list[tuple[int, int, Outgoing]]:
    """The scheduler's turn: (chat, message, text) for each progress message whose figures
    changed; a broadcast with nothing left to send is closed and its report enqueued."""
    now = core.clock.now()
    edits: list[tuple[int, int, Outgoing]] = []
    async with core.db.session.begin() as session:
        active = list(
            await session.scalars(
                select(Broadcast)
                .where(Broadcast.status == BroadcastStatus.SENDING)
                .with_for_update(skip_locked=True)
            )
        )
        figures = await counts(session, [b.id for b in active])
        for broadcast in active:
            done = not any(figures[broadcast.id][s] for s in _OPEN)
            if done:
                broadcast.status, broadcast.finished_at = BroadcastStatus.DONE, now
                await _to_author(session, broadcast, REPORT, now)
            message = await session.execute(
                select(Delivery.message_id, Resident.chat_id, Resident.locale)
                .join(Resident, Resident.id == Delivery.resident_id)
                .where(Delivery.broadcast_id == broadcast.id, Delivery.kind == PROGRESS)
            )
            row = message.first()
            if row is None or row.message_id is None or row.chat_id is None:
                continue
            t = core.catalogs.translator(row.locale)
            text = progress_text(t, broadcast, figures[broadcast.id])
            if text != broadcast.progress_text:
                broadcast.progress_text = text
                edits.append((row.chat_id, row.message_id, Outgoing(text)))
    return edits


def progress_text(t: Translator, broadcast: Broadcast, counts: Counter[str]) -> str:
    total = sum(counts.values())
    sent = counts[DeliveryStatus.SENT]
    if broadcast.status == BroadcastStatus.DONE:
        return t._(
            "📤 Notice #{id}: finished, {sent} of {total} reached.",
            id=broadcast.id,
            sent=t.number(sent),
            total=t.number(total),
        )
    return t._(
        "📤 Notice #{id}: sent {sent} of {total}, {blocked} blocked, {failed} not delivered.",
        id=broadcast.id,
        sent=t.number(sent),
        total=t.number(total),
        blocked=t.number(counts[DeliveryStatus.BLOCKED]),
        failed=t.number(counts[DeliveryStatus.FAILED] + counts[DeliveryStatus.EXPIRED]),
    )


def figures_text(t: Translator, counts: Counter[str]) -> str:
    """Every figure of a broadcast, one line each, for the report and the detail screen."""
    lines = [
        t._("Reached: {n}", n=t.number(counts[DeliveryStatus.SENT])),
        t._("Blocked the bot: {n}", n=t.number(counts[DeliveryStatus.BLOCKED])),
        t._("Not delivered: {n}", n=t.number(counts[DeliveryStatus.FAILED])),
        t._("Expired: {n}", n=t.number(counts[DeliveryStatus.EXPIRED])),
        t._("Skipped (opted out or unreachable): {n}", n=t.number(counts[DeliveryStatus.SKIPPED])),
    ]
    pending = sum(counts[s] for s in _OPEN)
    if pending:
        lines.append(t._("Still to send: {n}", n=t.number(pending)))
    return "\n".join(lines)


def reason_text(t: Translator, reason: str) -> str:
    return t._(REASONS.get(reason, OTHER_REASON))


# -- rendering, at send time, in the recipient's language --------------------------------------


async def _broadcast_of(session: AsyncSession, row: Delivery) -> Broadcast | None:
    """The sender renders a batch in one session: load each broadcast once, not per message."""
    cache = session.info.setdefault("broadcasts", {})
    if row.broadcast_id not in cache:
        cache[row.broadcast_id] = await session.get(Broadcast, row.broadcast_id)
    return cache[row.broadcast_id]


@register(KIND)
async def render_notice(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    broadcast = await _broadcast_of(session, row)
    if broadcast is None:
        return None
    own = broadcast.texts.get(t.locale)
    if own is not None:
        header = t._("📢 Notice from the QMondo operators")
        return Outgoing(f"<b>{header}</b>\n\n{own}")
    header = t._("📢 Notice from the QMondo operators (in Italian):")
    original = broadcast.texts[core.catalogs.default]
    return Outgoing(f"<b>{header}</b>\n\n{original}")


@register(PROGRESS, always=True)
async def render_progress(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    broadcast = await _broadcast_of(session, row)
    if broadcast is None:
        return None
    # Worded unlike progress_text, so the scheduler's first edit always changes it.
    return Outgoing(t._("📤 Notice #{id}: sending starts now.", id=broadcast.id))


@register(REPORT, always=True)
async def render_report(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    broadcast = await _broadcast_of(session, row)
    if broadcast is None:
        return None
    figures = (await counts(session, [broadcast.id]))[broadcast.id]
    text = t._("✅ Notice #{id} has been sent.", id=broadcast.id) + "\n" + figures_text(t, figures)
    buttons = ()
    if figures[DeliveryStatus.SENT] < sum(figures.values()):
        buttons = (((t._("Who was not reached"), f"bc:open:{broadcast.id}"),),)
    return Outgoing(text, buttons)
