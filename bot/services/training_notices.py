"""What job training shows and sends: course cards, the waiting-list and reminder messages
(delivery kinds, rendered at send time in the recipient's language), broadcast audiences,
calendar files and the CSV export for operators."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.core import Core
from bot.delivery.channel import Outgoing
from bot.delivery.kinds import register
from bot.i18n import N_, Translator
from bot.ics import CalendarEvent, calendar_file
from bot.models import Course, CourseStatus, Delivery, Enrollment, EnrollmentStatus, Resident
from bot.services import audiences
from bot.services.residents import authorise
from bot.services.training import (
    CHANGED,
    MOVED,
    OFFER,
    OFFER_EXPIRED,
    REMINDER,
    REMOVED,
    CourseView,
)
from bot.services.training_forms import AVAILABILITY, SCHOOLING, WORK

S = EnrollmentStatus
FIRST_SESSION = timedelta(hours=2)  # the calendar entry's length: courses give no end time
STATUS = {
    S.ENROLLED: N_("enrolled"),
    S.WAITING: N_("waiting"),
    S.OFFERED: N_("place offered"),
    S.COMPLETED: N_("completed"),
    S.DROPPED: N_("removed by the office"),
    S.WITHDRAWN: N_("withdrew"),
    S.DECLINED: N_("declined the place"),
    S.EXPIRED: N_("did not answer in time"),
    S.MOVED: N_("moved to another course"),
}


def course_card(t: Translator, item: CourseView) -> str:
    course = item.course
    text = t._(
        "<b>{title}</b>\n{description}\n🏢 {provider}\n📍 {place}\n📅 Starts {date}\n🕒 {schedule}",
        title=course.title,
        description=course.description,
        provider=course.provider,
        place=course.place,
        date=t.moment(course.starts_at),
        schedule=course.schedule,
    )
    return text + "\n" + places_line(t, item)


def places_line(t: Translator, item: CourseView) -> str:
    if item.free:
        return t.n_("✅ {n} place free", "✅ {n} places free", item.free)
    return t.n_(
        "⏳ Full. Waiting list: {n} person", "⏳ Full. Waiting list: {n} people", item.waiting
    )


def status_label(t: Translator, status: str) -> str:
    return t._(STATUS[EnrollmentStatus(status)])


def label(t: Translator, choices: dict[str, str], value: object) -> str:
    """The translated label of a stored choice (availability, schooling, work)."""
    return t._(choices[value]) if isinstance(value, str) and value in choices else ""


def form_summary(t: Translator, answers: dict[str, Any]) -> str:
    """The intake answers, one per line, as the resident checks them before confirming."""
    text = t._(
        "Name: {name}\nPhone: {phone}\nAvailable: {availability}\nSchool: {schooling}\n"
        "Work wanted: {work}",
        name=answers.get("name", ""),
        phone=answers.get("phone", ""),
        availability=", ".join(label(t, AVAILABILITY, a) for a in answers.get("availability", [])),
        schooling=label(t, SCHOOLING, answers.get("schooling")),
        work=label(t, WORK, answers.get("work")),
    )
    if answers.get("work_note"):
        text += "\n" + t._("Note: {note}", note=answers["work_note"])
    return text


def calendar(core: Core, course: Course) -> bytes:
    event = CalendarEvent(
        uid=f"course-{course.id}",
        title=course.title,
        start=course.starts_at,
        end=course.starts_at + FIRST_SESSION,
        location=course.place,
        description=course.schedule,
    )
    return calendar_file(event, core.settings.tz, core.clock.now())


# -- messages sent through the delivery path ---------------------------------------------------


async def _enrollment(session: AsyncSession, row: Delivery) -> Enrollment | None:
    enrollment_id = row.params.get("enrollment")
    if not isinstance(enrollment_id, int):
        return None
    return await session.get(Enrollment, enrollment_id, options=[joinedload(Enrollment.course)])


@register(OFFER)
async def render_offer(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    item = await _enrollment(session, row)
    now = core.clock.now()
    if item is None or item.status != S.OFFERED or not item.offer_expires_at:
        return None  # answered, withdrawn or expired meanwhile
    if item.offer_expires_at <= now:
        return None
    text = t._(
        "🎉 A place is free for you in <b>{course}</b>: do you take it?\n"
        "Please answer by {deadline}.",
        course=item.course.title,
        deadline=t.moment(item.offer_expires_at),
    )
    yes, no = f"tr:of:{item.id}:y", f"tr:of:{item.id}:n"
    return Outgoing(text, (((t._("✅ Yes, I take it"), yes), (t._("❌ No, thank you"), no)),))


@register(OFFER_EXPIRED)
async def render_offer_expired(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    item = await _enrollment(session, row)
    if item is None or item.status != S.EXPIRED:
        return None
    return Outgoing(
        t._(
            "⌛ You did not answer in time, so the place in <b>{course}</b> went to the next "
            "person on the list. You can sign up again with /training .",
            course=item.course.title,
        )
    )


@register(REMINDER)
async def render_reminder(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    item = await _enrollment(session, row)
    if item is None or item.status != S.ENROLLED:
        return None
    course, now = item.course, core.clock.now()
    if course.status != CourseStatus.OPEN or course.starts_at <= now:
        return None
    if row.params.get("start") != int(course.starts_at.timestamp()):
        return None  # postponed meanwhile: the new date has its own reminder
    tz = core.settings.tz
    # Held back by quiet hours, a reminder for an evening course may go out on the day itself.
    same_day = course.starts_at.astimezone(tz).date() == now.astimezone(tz).date()
    template = (
        N_("⏰ Reminder: the course <b>{course}</b> starts today, {when}, at {place}.")
        if same_day
        else N_("⏰ Reminder: the course <b>{course}</b> starts tomorrow, {when}, at {place}.")
    )
    return Outgoing(
        t._(template, course=course.title, when=t.moment(course.starts_at), place=course.place)
    )


@register(CHANGED)
async def render_changed(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    item = await _enrollment(session, row)
    if item is None or item.status not in (S.ENROLLED, S.OFFERED):
        return None
    course = item.course
    if course.status != CourseStatus.OPEN or course.starts_at <= core.clock.now():
        return None
    return Outgoing(
        t._(
            "📅 The course <b>{course}</b> has changed: the first session is now {when}, at "
            "{place}.",
            course=course.title,
            when=t.moment(course.starts_at),
            place=course.place,
        )
    )


@register(REMOVED)
async def render_removed(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    item = await _enrollment(session, row)
    if item is None or item.status != S.DROPPED:
        return None
    return Outgoing(
        t._(
            "The QMondo office has taken you off the course <b>{course}</b>. If you have "
            "questions, ask the office.",
            course=item.course.title,
        )
    )


@register(MOVED)
async def render_moved(
    core: Core, session: AsyncSession, row: Delivery, resident: Resident, t: Translator
) -> Outgoing | None:
    item = await _enrollment(session, row)
    if item is None or item.status not in (S.ENROLLED, S.WAITING, S.OFFERED):
        return None
    return Outgoing(
        t._(
            "📋 The QMondo office moved your sign-up to the course <b>{course}</b>. Send "
            "/training to see your place.",
            course=item.course.title,
        )
    )


# -- broadcast audiences -----------------------------------------------------------------------


async def _course_options(
    core: Core, session: AsyncSession, t: Translator
) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(Course.id, Course.title)
        .where(Course.status == CourseStatus.OPEN)
        .order_by(Course.starts_at)
    )
    return [(str(course_id), title) for course_id, title in rows]


def _in_course(*statuses: EnrollmentStatus) -> object:
    def members(core: Core, option: str | None) -> ColumnElement[bool]:
        course_id = int(option) if option and option.isdigit() else -1  # options are user input
        return Resident.id.in_(
            select(Enrollment.resident_id).where(
                Enrollment.course_id == course_id, Enrollment.status.in_(statuses)
            )
        )

    return members


audiences.register(
    audiences.Segment(
        "course",
        N_("Enrolled in a course"),
        _in_course(S.ENROLLED),
        _course_options,  # type: ignore[arg-type]
    )
)
audiences.register(
    audiences.Segment(
        "waitlist",
        N_("Waiting for a course"),
        _in_course(S.WAITING, S.OFFERED),  # type: ignore[arg-type]
        _course_options,
    )
)


# -- CSV export ---------------------------------------------------------------------------------

COLUMNS = (
    N_("Course"),
    N_("Status"),
    N_("Waiting list position"),
    N_("Name"),
    N_("Phone"),
    N_("Tenant code"),
    N_("Building"),
    N_("Availability"),
    N_("School"),
    N_("Work wanted"),
    N_("Note"),
    N_("Signed up"),
    N_("Enrolled"),
)


async def export_csv(core: Core, course_id: int | None = None, *, operator_id: int) -> bytes:
    """Every sign-up (or one course's), for Italian Excel: UTF-8 with BOM, `;` separated.
    Asked for in the chat, so the operator's role is checked in the same transaction."""
    async with core.db.session() as session:
        await authorise(session, operator_id)
        rows = await _export_rows(session, course_id)
    return _csv(core, rows)


async def export_csv_on_server(core: Core, course_id: int | None = None) -> bytes:
    """The same file for the command line (`qmondo-bot export enrollments`), run on the server
    by its administrator. There is no Telegram operator to check: whoever can run it already
    holds the database credentials, so checking a role here would prove nothing."""
    async with core.db.session() as session:
        rows = await _export_rows(session, course_id)
    return _csv(core, rows)


async def _export_rows(session: AsyncSession, course_id: int | None) -> list[Enrollment]:
    query = (
        select(Enrollment)
        .options(joinedload(Enrollment.course), joinedload(Enrollment.resident))
        .order_by(Enrollment.course_id, Enrollment.signed_up_at, Enrollment.id)
    )
    if course_id is not None:
        query = query.where(Enrollment.course_id == course_id)
    return list(await session.scalars(query))


def _csv(core: Core, rows: list[Enrollment]) -> bytes:
    t = core.catalogs.translator(None)  # operators' language: the default one
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([t._(column) for column in COLUMNS])
    positions: dict[int, int] = {}
    for row in rows:
        position = ""
        if row.status == S.WAITING:
            positions[row.course_id] = positions.get(row.course_id, 0) + 1
            position = str(positions[row.course_id])
        cells = [
            row.course.title,
            status_label(t, row.status),
            position,
            row.name,
            row.phone,
            row.resident.tenant_code or "",
            row.resident.building or "",
            ", ".join(label(t, AVAILABILITY, a) for a in row.availability.split(",")),
            label(t, SCHOOLING, row.schooling),
            label(t, WORK, row.work),
            row.work_note,
            _local(core, row.signed_up_at),
            _local(core, row.enrolled_at),
        ]
        writer.writerow([_inert(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell: str) -> str:
    """Excel runs a cell that starts like a formula: a name or note typed by a resident
    ("=HYPERLINK(...)") must stay text, and "+39..." must not become 3,93E+11. A leading
    apostrophe keeps it text (OWASP's advice for CSV injection)."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def _local(core: Core, instant: datetime | None) -> str:
    return instant.astimezone(core.settings.tz).strftime("%d/%m/%Y %H:%M") if instant else ""
