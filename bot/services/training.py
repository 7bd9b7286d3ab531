"""Job-training courses: sign-up, capacity, and a waiting list that moves by itself.

Every change that counts places first writes the course row (`_lock_course`): on PostgreSQL
that takes the row lock, on SQLite the database write lock, so two people taking the last
place at the same moment are serialised and exactly one gets it. A freed place is offered at
once to the first on the waiting list (sign-up order), through the delivery path; an offer
not answered in time is expired by the scheduler's sweep and passed on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, delete, exists, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.core import Core
from bot.delivery import outbox
from bot.models import (
    Course,
    CourseStatus,
    Delivery,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Resident,
    TrainingDraft,
)
from bot.services import DomainError
from bot.services.residents import authorise

S = EnrollmentStatus
HOLDS_PLACE = (S.ENROLLED, S.OFFERED, S.COMPLETED)
ACTIVE = (S.ENROLLED, S.OFFERED, S.WAITING)
OFFER, OFFER_EXPIRED, REMINDER = "training_offer", "training_offer_expired", "training_reminder"
REMOVED, MOVED = "training_removed", "training_moved"  # told to the resident an operator moved
CHANGED = "training_changed"  # the first session's time or place changed
TOLD_OF_CHANGES = ("starts_at", "place")
REMINDER_AHEAD = timedelta(days=1)
COURSE_FIELDS = (
    "title",
    "description",
    "provider",
    "place",
    "starts_at",
    "schedule",
    "capacity",
    "allow_unlinked",
)


class UnknownCourse(DomainError):
    pass


class CourseClosed(DomainError):
    pass


class NoConsent(DomainError):
    """The person has not accepted the privacy notice: nothing about them may be stored."""


class NotLinked(DomainError):
    """The course takes only residents whose chat is linked to their tenant record."""


class AlreadySignedUp(DomainError):
    pass


class NotYours(DomainError):
    """The sign-up does not exist or belongs to someone else (forged callback data)."""


class NoLongerValid(DomainError):
    """The action no longer applies: withdrawn already, offer answered or expired..."""


class AlreadyAnswered(NoLongerValid):
    """The offer was just answered the same way (a double tap): nothing to do, nothing to say."""


@dataclass
class Form:
    """What the intake conversation collects."""

    name: str
    phone: str
    availability: list[str]
    schooling: str
    work: str
    work_note: str = ""


@dataclass
class CourseView:
    course: Course
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def taken(self) -> int:
        return sum(self.counts[s] for s in HOLDS_PLACE)

    @property
    def enrolled(self) -> int:
        return self.counts[S.ENROLLED]

    @property
    def waiting(self) -> int:
        return self.counts[S.WAITING]

    @property
    def free(self) -> int:
        return max(self.course.capacity - self.taken, 0) if not self.waiting else 0


@dataclass(frozen=True)
class Placement:
    """Where a sign-up (or a move) landed: enrolled, or number `position` on the list."""

    enrollment: Enrollment
    course: Course
    position: int | None = None


@dataclass(frozen=True)
class Mine:
    enrollment: Enrollment
    course: Course
    position: int | None


# -- locking and counting -------------------------------------------------------------------


async def _lock_course(session: AsyncSession, course_id: int, now: datetime) -> Course:
    """Write the course row before counting anything (see the module docstring)."""
    locked = await session.execute(
        update(Course).where(Course.id == course_id).values(updated_at=now).returning(Course.id)
    )
    if locked.first() is None:
        raise UnknownCourse(str(course_id))
    course = await session.get(Course, course_id, populate_existing=True)
    assert course is not None
    return course


async def _counts(session: AsyncSession, course_ids: list[int]) -> dict[int, Counter[str]]:
    result: dict[int, Counter[str]] = {i: Counter() for i in course_ids}
    rows = await session.execute(
        select(Enrollment.course_id, Enrollment.status, func.count())
        .where(Enrollment.course_id.in_(course_ids))
        .group_by(Enrollment.course_id, Enrollment.status)
    )
    for course_id, status, count in rows:
        result[course_id][EnrollmentStatus(status)] += count
    return result


async def _position(session: AsyncSession, row: Enrollment) -> int:
    """1 for the first on the waiting list: sign-up order, ties by id."""
    earlier = or_(
        Enrollment.signed_up_at < row.signed_up_at,
        and_(Enrollment.signed_up_at == row.signed_up_at, Enrollment.id <= row.id),
    )
    return (
        await session.scalar(
            select(func.count()).where(
                Enrollment.course_id == row.course_id, Enrollment.status == S.WAITING, earlier
            )
        )
        or 0
    )


def _log(session: AsyncSession, row: Enrollment, event: str, now: datetime) -> None:
    session.add(EnrollmentEvent(enrollment_id=row.id, event=event, at=now))


def _end(session: AsyncSession, row: Enrollment, status: EnrollmentStatus, now: datetime) -> None:
    row.status, row.ended_at = status, now
    _log(session, row, status.value, now)


async def _fill(core: Core, session: AsyncSession, course: Course, now: datetime) -> None:
    """Offer every free place to the next on the waiting list, in sign-up order."""
    if course.status != CourseStatus.OPEN:
        return
    await session.flush()
    counts = (await _counts(session, [course.id]))[course.id]
    free = course.capacity - sum(counts[s] for s in HOLDS_PLACE)
    if free <= 0 or not counts[S.WAITING]:
        return
    rows = await session.scalars(
        select(Enrollment)
        .where(Enrollment.course_id == course.id, Enrollment.status == S.WAITING)
        .order_by(Enrollment.signed_up_at, Enrollment.id)
        .limit(free)
    )
    expires = now + timedelta(hours=core.settings.offer_hours)
    for row in rows:
        row.status, row.offer_expires_at = S.OFFERED, expires
        _log(session, row, S.OFFERED.value, now)
        await outbox.enqueue(
            session,
            resident_id=row.resident_id,
            kind=OFFER,
            key=f"{OFFER}:{row.id}:{int(now.timestamp())}",
            params={"enrollment": row.id},
            now=now,
            expires_at=expires,  # never late: the place has gone to the next by then
        )


async def _tell(session: AsyncSession, row: Enrollment, kind: str, now: datetime) -> None:
    """A message about this sign-up to its resident, through the delivery path."""
    await outbox.enqueue(
        session,
        resident_id=row.resident_id,
        kind=kind,
        key=f"{kind}:{row.id}:{int(now.timestamp())}",
        params={"enrollment": row.id},
        now=now,
    )


async def _locked_enrollment(
    session: AsyncSession, enrollment_id: int, now: datetime
) -> tuple[Enrollment, Course]:
    course_id = await session.scalar(
        select(Enrollment.course_id).where(Enrollment.id == enrollment_id)
    )
    if course_id is None:
        raise NotYours(str(enrollment_id))
    course = await _lock_course(session, course_id, now)
    row = await session.get(Enrollment, enrollment_id, populate_existing=True)
    if row is None:
        raise NotYours(str(enrollment_id))
    return row, course


# -- residents ------------------------------------------------------------------------------


async def open_courses(core: Core) -> list[CourseView]:
    async with core.db.session() as session:
        courses = list(
            await session.scalars(
                select(Course)
                .where(Course.status == CourseStatus.OPEN)
                .order_by(Course.starts_at, Course.id)
            )
        )
        counts = await _counts(session, [c.id for c in courses])
        return [CourseView(c, counts[c.id]) for c in courses]


async def view(core: Core, course_id: int) -> CourseView:
    async with core.db.session() as session:
        course = await session.get(Course, course_id)
        if course is None:
            raise UnknownCourse(str(course_id))
        return CourseView(course, (await _counts(session, [course_id]))[course_id])


def _check_may_sign_up(course: Course, resident: Resident | None, held: Enrollment | None) -> None:
    if course.status != CourseStatus.OPEN:
        raise CourseClosed(str(course.id))
    if resident is None or resident.consent_at is None:
        raise NoConsent(str(course.id))
    if not (resident.is_linked or course.allow_unlinked):
        raise NotLinked(str(course.id))
    if held is not None and held.status in (*ACTIVE, S.COMPLETED):
        raise AlreadySignedUp(str(course.id))


async def _held(session: AsyncSession, course_id: int, resident_id: int) -> Enrollment | None:
    return await session.scalar(
        select(Enrollment).where(
            Enrollment.course_id == course_id, Enrollment.resident_id == resident_id
        )
    )


async def check_sign_up(core: Core, resident_id: int, course_id: int) -> CourseView:
    """Before the intake questions: would this resident be allowed to sign up?"""
    async with core.db.session() as session:
        course = await session.get(Course, course_id)
        if course is None:
            raise UnknownCourse(str(course_id))
        resident = await session.get(Resident, resident_id)
        _check_may_sign_up(course, resident, await _held(session, course_id, resident_id))
        return CourseView(course, (await _counts(session, [course_id]))[course_id])


async def sign_up(core: Core, resident_id: int, course_id: int, form: Form) -> Placement:
    """Enrol if a place is free and nobody is waiting, else put on the waiting list."""
    async with core.db.session.begin() as session:
        course = await _lock_course(session, course_id, core.clock.now())
        now = core.clock.now()  # after the lock: sign-up times follow the order of the lock
        resident = await session.get(Resident, resident_id)
        row = await _held(session, course_id, resident_id)
        _check_may_sign_up(course, resident, row)
        return await _place(session, row, course, resident_id, form_values(form), now)


def form_values(form: Form) -> dict[str, Any]:
    return {
        "name": form.name[:200],
        "phone": form.phone,
        "availability": ",".join(form.availability),
        "schooling": form.schooling,
        "work": form.work,
        "work_note": form.work_note[:300],
    }


async def _place(
    session: AsyncSession,
    row: Enrollment | None,
    course: Course,
    resident_id: int,
    values: dict[str, Any],
    now: datetime,
) -> Placement:
    """Enrolled if a place is free and nobody waits before them, else on the waiting list."""
    counts = (await _counts(session, [course.id]))[course.id]
    free = sum(counts[s] for s in HOLDS_PLACE) < course.capacity and not counts[S.WAITING]
    if row is None:
        row = Enrollment(course_id=course.id, resident_id=resident_id)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.status = S.ENROLLED if free else S.WAITING
    row.signed_up_at, row.enrolled_at = now, now if free else None
    row.offer_expires_at = row.ended_at = None
    await session.flush()
    _log(session, row, row.status.value, now)
    position = None if free else await _position(session, row)
    return Placement(row, course, position)


async def mine(core: Core, resident_id: int) -> list[Mine]:
    """The resident's current sign-ups, with their place on each waiting list."""
    async with core.db.session() as session:
        rows = list(
            await session.scalars(
                select(Enrollment)
                .options(joinedload(Enrollment.course))
                .where(Enrollment.resident_id == resident_id, Enrollment.status.in_(ACTIVE))
                .order_by(Enrollment.signed_up_at)
            )
        )
        return [
            Mine(r, r.course, await _position(session, r) if r.status == S.WAITING else None)
            for r in rows
        ]


async def own(core: Core, resident_id: int, enrollment_id: int) -> Mine:
    """One of the resident's current sign-ups; someone else's is refused."""
    for item in await mine(core, resident_id):
        if item.enrollment.id == enrollment_id:
            return item
    raise NotYours(str(enrollment_id))


async def withdraw(core: Core, resident_id: int, enrollment_id: int) -> Course:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        row, course = await _locked_enrollment(session, enrollment_id, now)
        if row.resident_id != resident_id:
            raise NotYours(str(enrollment_id))
        if row.status not in ACTIVE:
            raise NoLongerValid(str(enrollment_id))
        held = row.status != S.WAITING
        _end(session, row, S.WITHDRAWN, now)
        if held:
            await _fill(core, session, course, now)
        return course


async def answer_offer(core: Core, resident_id: int, enrollment_id: int, accept: bool) -> Course:
    """Yes takes the place; No passes it to the next on the list."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        row, course = await _locked_enrollment(session, enrollment_id, now)
        if row.resident_id != resident_id:
            raise NotYours(str(enrollment_id))
        expires = row.offer_expires_at
        # Answered so already (the offer's expiry stays on the row): a double tap.
        if row.status == (S.ENROLLED if accept else S.DECLINED) and expires is not None:
            raise AlreadyAnswered(str(enrollment_id))
        if row.status != S.OFFERED or expires is None or expires <= now:
            raise NoLongerValid(str(enrollment_id))
        if accept:
            row.status, row.enrolled_at = S.ENROLLED, now
            _log(session, row, S.ENROLLED.value, now)
        else:
            _end(session, row, S.DECLINED, now)
            await _fill(core, session, course, now)
        return course


# -- the scheduler's sweeps -------------------------------------------------------------------


async def expire_offers(core: Core) -> int:
    """Offers not answered in time go to the next person; the resident is told."""
    now = core.clock.now()
    due_offer = and_(
        Enrollment.status == S.OFFERED,
        Enrollment.offer_expires_at.is_not(None),
        Enrollment.offer_expires_at <= now,
    )
    async with core.db.session() as session:
        course_ids = list(await session.scalars(select(Enrollment.course_id).where(due_offer)))
    expired = 0
    for course_id in sorted(set(course_ids)):
        async with core.db.session.begin() as session:
            course = await _lock_course(session, course_id, now)
            rows = await session.scalars(
                select(Enrollment).where(Enrollment.course_id == course_id, due_offer)
            )
            for row in rows:
                _end(session, row, S.EXPIRED, now)
                await _tell(session, row, OFFER_EXPIRED, now)
                expired += 1
            await _fill(core, session, course, now)
    return expired


async def fill_free_places(core: Core) -> int:
    """Offer places freed without a service call (a sign-up erased with /delete, say)."""
    now = core.clock.now()
    someone_waits = exists().where(
        Enrollment.course_id == Course.id, Enrollment.status == S.WAITING
    )
    async with core.db.session() as session:
        courses = list(
            await session.scalars(
                select(Course).where(Course.status == CourseStatus.OPEN, someone_waits)
            )
        )
        counts = await _counts(session, [c.id for c in courses])
    short = [c.id for c in courses if CourseView(c, counts[c.id]).taken < c.capacity]
    for course_id in short:
        async with core.db.session.begin() as session:
            await _fill(core, session, await _lock_course(session, course_id, now), now)
    return len(short)


async def plan_reminders(core: Core) -> int:
    """The day before a course starts, each enrolled resident is reminded, once for each start
    time (a postponed course is reminded again, for its new date)."""
    now = core.clock.now()
    enqueued = 0
    async with core.db.session.begin() as session:
        soon = await session.scalars(
            select(Course).where(
                Course.status == CourseStatus.OPEN,
                Course.starts_at > now,
                Course.starts_at <= now + REMINDER_AHEAD,
            )
        )
        for course in list(soon):
            start = int(course.starts_at.timestamp())
            key = literal(f"{REMINDER}:") + cast(Enrollment.id, String(20)) + literal(f":{start}")
            rows = await session.execute(
                select(Enrollment.id, Enrollment.resident_id).where(
                    Enrollment.course_id == course.id,
                    Enrollment.status == S.ENROLLED,
                    ~exists().where(Delivery.dedupe_key == key),
                )
            )
            for enrollment_id, resident_id in list(rows):
                enqueued += await outbox.enqueue(
                    session,
                    resident_id=resident_id,
                    kind=REMINDER,
                    key=f"{REMINDER}:{enrollment_id}:{start}",
                    params={"enrollment": enrollment_id, "start": start},
                    now=now,
                    expires_at=course.starts_at,
                )
    return enqueued


# -- linking ----------------------------------------------------------------------------------


async def before_merge(core: Core, session: AsyncSession, chat_id: int, record_id: int) -> None:
    """A chat signed up before linking, and its tenant record holds a sign-up for the same
    course: keep one, so the merge does not break the one-per-course rule. A current sign-up
    (a place, an offer, the list, completed) wins over one that ended (withdrawn, declined...),
    else the earlier wins: nobody loses a place to an old withdrawal."""
    now = core.clock.now()
    # An unfinished form: the chat's is the live one; an old phone's of the same kind would
    # collide with it (one per person and kind) and make the link fail.
    await session.execute(
        delete(TrainingDraft).where(
            TrainingDraft.resident_id == record_id,
            TrainingDraft.kind.in_(
                select(TrainingDraft.kind).where(TrainingDraft.resident_id == chat_id)
            ),
        )
    )
    rows = await session.execute(
        select(Enrollment.course_id, Enrollment.id, Enrollment.status, Enrollment.signed_up_at)
        .where(Enrollment.resident_id.in_([chat_id, record_id]))
        .order_by(Enrollment.id)
    )
    current = (*ACTIVE, S.COMPLETED)
    pairs = sorted(rows, key=lambda r: (r[0], EnrollmentStatus(r[2]) not in current, r[3], r[1]))
    seen: set[int] = set()
    for course_id, enrollment_id, status, _ in pairs:
        if course_id not in seen:
            seen.add(course_id)
            continue
        await session.execute(delete(Enrollment).where(Enrollment.id == enrollment_id))
        if EnrollmentStatus(status) in (S.ENROLLED, S.OFFERED):
            await _fill(core, session, await _lock_course(session, course_id, now), now)


# -- operators ---------------------------------------------------------------------------------


async def all_courses(core: Core) -> list[CourseView]:
    async with core.db.session() as session:
        courses = list(
            await session.scalars(select(Course).order_by(Course.status.desc(), Course.starts_at))
        )
        counts = await _counts(session, [c.id for c in courses])
        return [CourseView(c, counts[c.id]) for c in courses]


async def totals(core: Core) -> tuple[int, int]:
    """(enrolled, waiting) over every open course: the programme's figures."""
    async with core.db.session() as session:
        rows = await session.execute(
            select(Enrollment.status, func.count())
            .join(Course, Course.id == Enrollment.course_id)
            .where(Course.status == CourseStatus.OPEN)
            .group_by(Enrollment.status)
        )
        counts = {EnrollmentStatus(status): n for status, n in rows}
        return counts.get(S.ENROLLED, 0), counts.get(S.WAITING, 0)


async def create_course(core: Core, values: dict[str, Any], *, operator_id: int) -> Course:
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        course = Course(**values, created_at=now, updated_at=now)
        session.add(course)
        return course


async def update_course(core: Core, course_id: int, *, operator_id: int, **values: Any) -> Course:
    """Change fields; more capacity or a reopening offers the free places at once. A new time
    or place of the first session is told to those enrolled or offered a place."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        course = await _lock_course(session, course_id, now)
        changed = any(
            key in TOLD_OF_CHANGES and getattr(course, key) != value
            for key, value in values.items()
        )
        for key, value in values.items():
            setattr(course, key, value)
        if changed and course.status == CourseStatus.OPEN:
            told = await session.scalars(
                select(Enrollment).where(
                    Enrollment.course_id == course.id,
                    Enrollment.status.in_((S.ENROLLED, S.OFFERED)),
                )
            )
            for row in told:
                await _tell(session, row, CHANGED, now)
        await _fill(core, session, course, now)
        return course


async def change_capacity(core: Core, course_id: int, delta: int, *, operator_id: int) -> Course:
    """One place more or less, counted under the lock (two quick taps make two places)."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        course = await _lock_course(session, course_id, now)
        if course.capacity + delta < 1:
            raise NoLongerValid(str(course_id))
        course.capacity += delta
        await _fill(core, session, course, now)
        return course


async def roster(core: Core, course_id: int, *, operator_id: int) -> list[Enrollment]:
    """Who holds or waits for a place, or completed the course, with their resident: the
    places first, then the list (who left it is in the history and the CSV)."""
    order = {s: i for i, s in enumerate((S.ENROLLED, S.OFFERED, S.WAITING, S.COMPLETED))}
    async with core.db.session() as session:
        await authorise(session, operator_id)
        rows = await session.scalars(
            select(Enrollment)
            .options(joinedload(Enrollment.resident), joinedload(Enrollment.course))
            .where(Enrollment.course_id == course_id, Enrollment.status.in_(list(order)))
            .order_by(Enrollment.signed_up_at, Enrollment.id)
        )
        return sorted(rows, key=lambda r: order[r.status])


async def enrollment(core: Core, enrollment_id: int, *, operator_id: int) -> Enrollment:
    """A sign-up with its contact details, for an operator (the resident's own is `own`)."""
    async with core.db.session() as session:
        await authorise(session, operator_id)
        row = await session.get(
            Enrollment,
            enrollment_id,
            options=[joinedload(Enrollment.resident), joinedload(Enrollment.course)],
        )
        if row is None:
            raise NotYours(str(enrollment_id))
        return row


async def history(
    core: Core, course_id: int, limit: int = 10, *, operator_id: int
) -> list[tuple[EnrollmentEvent, str]]:
    """The latest moves in a course, newest first, with the person's name."""
    async with core.db.session() as session:
        await authorise(session, operator_id)
        rows = await session.execute(
            select(EnrollmentEvent, Enrollment.name)
            .join(Enrollment, Enrollment.id == EnrollmentEvent.enrollment_id)
            .where(Enrollment.course_id == course_id)
            .order_by(EnrollmentEvent.id.desc())
            .limit(limit)
        )
        return [(event, name) for event, name in rows]


async def set_outcome(
    core: Core, enrollment_id: int, status: EnrollmentStatus, *, operator_id: int
) -> Enrollment:
    """An operator marks a participant as completed, or removes (drops) someone."""
    allowed = {S.COMPLETED: (S.ENROLLED,), S.DROPPED: ACTIVE}[status]
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        row, course = await _locked_enrollment(session, enrollment_id, now)
        if row.status not in allowed:
            raise NoLongerValid(str(enrollment_id))
        held = row.status in (S.ENROLLED, S.OFFERED)
        _end(session, row, status, now)
        if status == S.DROPPED:
            await _tell(session, row, REMOVED, now)
            if held:
                await _fill(core, session, course, now)
        return row


async def move(core: Core, enrollment_id: int, to_course_id: int, *, operator_id: int) -> Placement:
    """An operator moves a sign-up to another course, where it is placed like a new sign-up."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        await authorise(session, operator_id)
        course_id = await session.scalar(
            select(Enrollment.course_id).where(Enrollment.id == enrollment_id)
        )
        if course_id is None:
            raise NotYours(str(enrollment_id))
        if course_id == to_course_id:
            raise NoLongerValid(str(enrollment_id))
        # Both courses locked, always in the same order, so two moves cannot deadlock.
        locked = {i: await _lock_course(session, i, now) for i in sorted({course_id, to_course_id})}
        now = core.clock.now()
        row = await session.get(Enrollment, enrollment_id, populate_existing=True)
        assert row is not None
        if row.status not in ACTIVE:
            raise NoLongerValid(str(enrollment_id))
        target = locked[to_course_id]
        there = await _held(session, to_course_id, row.resident_id)
        if target.status != CourseStatus.OPEN:
            raise CourseClosed(str(to_course_id))
        if there is not None and there.status in (*ACTIVE, S.COMPLETED):
            raise AlreadySignedUp(str(to_course_id))
        values = {k: getattr(row, k) for k in ("name", "phone", "availability", "schooling")}
        values |= {"work": row.work, "work_note": row.work_note}
        held = row.status != S.WAITING
        _end(session, row, S.MOVED, now)
        placement = await _place(session, there, target, row.resident_id, values, now)
        await _tell(session, placement.enrollment, MOVED, now)
        if held:
            await _fill(core, session, locked[course_id], now)
        return placement
