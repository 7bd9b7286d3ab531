"""Training courses for operators: /newcourse (a form, also used to edit one field), and
/courses: the programme's figures, each course's lists with contact details, capacity, close
and reopen, outcomes (completed, removed), moves to another course, and the CSV export.
Operators only, checked in the database on every step (operators_only).

```mermaid
stateDiagram-v2
    [*] --> FORM: /newcourse (or Edit -> field on a course)
    FORM --> FORM: title, description, provider, place, first session, schedule, capacity
    FORM --> [*]: unlinked sign-ups yes/no (created), or the edited field saved
    FORM --> [*]: Cancel (or /cancel); Back goes one field back
```
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_, Translator
from bot.models import CourseStatus, EnrollmentStatus, Resident, TrainingDraft
from bot.services import DomainError, training, training_forms
from bot.services import training_notices as notices
from bot.services.training_forms import LIMITS, MAX_CAPACITY, course_value
from handlers.common import (
    ID,
    INACTIVE,
    BotContext,
    Conversation,
    answer_query,
    buttons,
    callback_parts,
    nav_row,
    operators_only,
    reply,
    wake_sender,
)

KIND = "course"
FORM = "course:form"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
TYPED = PRIVATE & filters.TEXT & ~filters.COMMAND
FIELDS = training.COURSE_FIELDS
QUESTIONS = {
    "title": N_("Title of the course?"),
    "description": N_("A short description, in simple words?"),
    "provider": N_("Who runs it?"),
    "place": N_("Where does it take place? (address)"),
    "starts_at": N_("Date and time of the first session? For example 12/01 9:30."),
    "schedule": N_("The weekly schedule? For example: Monday and Wednesday 9-12."),
    "capacity": N_("How many places?"),
    "allow_unlinked": N_("May residents sign up before their chat is linked to a tenant record?"),
}
ROSTER_SHOWN = 40
LIST_BUDGET = 3500  # characters of course lines in /courses (Telegram takes 4096)


# -- the course form --------------------------------------------------------------------------


@operators_only
async def new_course(update: Update, context: BotContext, operator: Resident, t: Translator) -> str:
    draft = await training_forms.save(context.core, operator.id, KIND, FIELDS[0], fresh=True)
    await reply(update, t._("<b>New course</b>"))
    return await ask(update, t, draft)


@operators_only
async def edit_field(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    await answer_query(update)
    _, _, course_id, field = [*callback_parts(update), "", ""][:4]
    if field not in FIELDS or not course_id.isdigit():
        return END
    draft = await training_forms.save(
        context.core, operator.id, KIND, field, course_id=int(course_id), editing=True, fresh=True
    )
    return await ask(update, t, draft)


async def ask(update: Update, t: Translator, draft: TrainingDraft) -> str:
    rows = (
        [[(t._("Yes"), "co:ul:y"), (t._("No"), "co:ul:n")]]
        if draft.step == "allow_unlinked"
        else []
    )
    nav = nav_row(t, "co", draft.step)
    await reply(update, t._(QUESTIONS[draft.step]), reply_markup=buttons(*rows, nav))
    return FORM


FIELD_LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "provider": N_("Provider"),
    "place": N_("Place"),
    "starts_at": N_("First session"),
    "schedule": N_("Schedule"),
    "capacity": N_("Places"),
    "allow_unlinked": N_("Sign-up without a linked chat"),
}
HINTS = {
    "allow_unlinked": N_("Please answer with the buttons."),
    "capacity": N_("Please write a whole number from 1 to {max}."),
    "starts_at": N_("I could not read a future date. Write it like this: 12/01 9:30."),
}


@operators_only
async def typed(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    draft = await training_forms.draft(context.core, operator.id, KIND)
    if draft is None:
        return END
    assert update.message is not None and update.message.text is not None
    core = context.core
    value = course_value(draft.step, update.message.text, core.clock.now(), core.settings.tz)
    if value is None:
        hint = HINTS.get(draft.step, N_("Please write it in at most {max} characters."))
        limit = MAX_CAPACITY if draft.step == "capacity" else LIMITS.get(draft.step, 0)
        await reply(update, t._(hint, max=t.number(limit)))
        return await ask(update, t, draft)
    return await store(update, context, operator, t, draft, value)


@operators_only
async def unlinked(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    await answer_query(update)
    draft = await training_forms.draft(context.core, operator.id, KIND)
    if draft is None or draft.step != "allow_unlinked":
        return END
    return await store(update, context, operator, t, draft, callback_parts(update)[2] == "y")


async def store(
    update: Update,
    context: BotContext,
    operator: Resident,
    t: Translator,
    draft: TrainingDraft,
    value: Any,
) -> str | int:
    core = context.core
    if draft.editing and draft.course_id is not None:
        await training_forms.drop(core, operator.id, KIND)
        try:
            await training.update_course(
                core, draft.course_id, operator_id=operator.id, **{draft.step: value}
            )
        except training.UnknownCourse:
            return END
        wake_sender(context)
        await reply(update, t._("Saved."))
        await _detail(update, context, operator, t, draft.course_id)
        return END
    stored = value.isoformat() if isinstance(value, datetime) else value
    position = FIELDS.index(draft.step)
    if position + 1 < len(FIELDS):
        draft = await training_forms.save(
            core, operator.id, KIND, FIELDS[position + 1], **{draft.step: stored}
        )
        return await ask(update, t, draft)
    values = {**draft.data, draft.step: stored}
    values["starts_at"] = datetime.fromisoformat(values["starts_at"])
    course = await training.create_course(core, values, operator_id=operator.id)
    await training_forms.drop(core, operator.id, KIND)
    await reply(update, t._("Course created. Residents see it now under Training."))
    await _detail(update, context, operator, t, course.id)
    return END


@operators_only
async def back(update: Update, context: BotContext, operator: Resident, t: Translator) -> str | int:
    await answer_query(update)
    draft = await training_forms.draft(context.core, operator.id, KIND)
    if draft is None:
        return END
    if callback_parts(update)[2:3] != [draft.step]:
        return FORM  # not the current question's Back: the question stands
    position = FIELDS.index(draft.step)
    if draft.editing or position == 0:
        return await cancel(update, context)
    draft = await training_forms.save(context.core, operator.id, KIND, FIELDS[position - 1])
    return await ask(update, t, draft)


@operators_only
async def cancel(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    await answer_query(update)
    await training_forms.drop(context.core, operator.id, KIND)
    await reply(update, t._("Cancelled. Nothing was changed."))
    return END


# -- /courses ----------------------------------------------------------------------------------


@operators_only
async def listing(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    core = context.core
    enrolled, waiting = await training.totals(core)
    lines = [
        t._("<b>Training courses</b>"),
        t._(
            "Enrolled: {enrolled} of the target {target} · Waiting list: {waiting}",
            enrolled=t.number(enrolled),
            target=t.number(core.settings.training_target),
            waiting=t.number(waiting),
        ),
        "",
    ]
    rows = []
    courses = await training.all_courses(core)  # the open ones first
    for number, item in enumerate(courses):
        closed = item.course.status == CourseStatus.CLOSED
        line = t._(
            "{icon} {title}: {enrolled} enrolled of {capacity}, {waiting} waiting",
            icon="🔒" if closed else "📚",
            title=item.course.title,
            enrolled=t.number(item.enrolled),
            capacity=t.number(item.course.capacity),
            waiting=t.number(item.waiting),
        )
        if sum(map(len, lines)) + len(line) > LIST_BUDGET:  # one message holds 4096 characters
            lines.append(t._("…and {n} more.", n=t.number(len(courses) - number)))
            break
        lines.append(line)
        rows.append([(item.course.title[:60], f"co:open:{item.course.id}")])
    if not rows:
        lines.append(t._("No courses yet. Send /newcourse to create one."))
    else:
        rows.append([(t._("📄 Export all (CSV)"), "co:csv:all")])
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows) if rows else None)


@operators_only
async def open_course(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    await answer_query(update)
    await _detail(update, context, operator, t, int(callback_parts(update)[2]))


async def _detail(
    update: Update, context: BotContext, operator: Resident, t: Translator, course_id: int
) -> None:
    try:
        item = await training.view(context.core, course_id)
    except training.UnknownCourse:
        await reply(update, t._("This course does not exist."))
        return
    course = item.course
    lines = [
        notices.course_card(t, item),
        t._(
            "Places: {capacity} · enrolled {enrolled} · offered {offered} · waiting {waiting}",
            capacity=t.number(course.capacity),
            enrolled=t.number(item.enrolled),
            offered=t.number(item.counts[EnrollmentStatus.OFFERED]),
            waiting=t.number(item.waiting),
        ),
        t._(
            "Sign-up without a linked chat: {answer}",
            answer=t._("Yes") if course.allow_unlinked else t._("No"),
        ),
    ]
    if course.status == CourseStatus.CLOSED:
        lines.append(t._("🔒 Closed: residents cannot see it or sign up."))
    history = await training.history(context.core, course_id, operator_id=operator.id)
    if history:
        lines += ["", t._("<b>Latest moves</b>")]
        lines += [
            t._(
                "{when} · {name}: {event}",
                when=t.datetime(event.at, "short"),
                name=name,
                event=notices.status_label(t, event.event),
            )
            for event, name in history
        ]
    toggle = (
        (t._("🔓 Reopen"), f"co:st:{course.id}:open")
        if course.status == CourseStatus.CLOSED
        else (t._("🔒 Close"), f"co:st:{course.id}:closed")
    )
    rows = [
        [(t._("👥 People"), f"co:ros:{course.id}"), (t._("📄 CSV"), f"co:csv:{course.id}")],
        [
            (t._("➖ 1 place"), f"co:cap:{course.id}:-"),
            (t._("➕ 1 place"), f"co:cap:{course.id}:+"),
        ],
        [(t._("✏️ Edit"), f"co:ed:{course.id}"), toggle],
    ]
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows))


@operators_only
async def capacity(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    _, _, course_id, sign = callback_parts(update)[:4]
    try:
        course = await training.change_capacity(
            context.core, int(course_id), 1 if sign == "+" else -1, operator_id=operator.id
        )
    except training.UnknownCourse:
        await answer_query(update, t._("This course does not exist."))
        return
    except training.NoLongerValid:
        await answer_query(update, t._("A course needs at least one place."))
        return
    await answer_query(update, t._("Places: {n}", n=t.number(course.capacity)))
    wake_sender(context)
    await _detail(update, context, operator, t, course.id)


@operators_only
async def set_status(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    await answer_query(update)
    _, _, course_id, status = callback_parts(update)[:4]
    try:
        await training.update_course(
            context.core, int(course_id), operator_id=operator.id, status=CourseStatus(status)
        )
    except (training.UnknownCourse, ValueError):
        return
    wake_sender(context)
    await _detail(update, context, operator, t, int(course_id))


@operators_only
async def choose_field(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    await answer_query(update)
    course_id = callback_parts(update)[2]
    rows = [[(t._(FIELD_LABELS[f]), f"co:ef:{course_id}:{f}")] for f in FIELDS]
    await reply(update, t._("What do you want to change?"), reply_markup=buttons(*rows))


@operators_only
async def roster(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    course_id = int(callback_parts(update)[2])
    people = await training.roster(context.core, course_id, operator_id=operator.id)
    if not people:
        await reply(update, t._("Nobody has signed up for this course yet."))
        return
    lines, rows = [t._("<b>{course}</b>: sign-ups", course=people[0].course.title)], []
    for number, row in enumerate(people[:ROSTER_SHOWN], start=1):
        lines.append(
            t._(
                "{n}. {name} · {phone} · {status}",
                n=number,
                name=row.name,
                phone=row.phone,
                status=notices.status_label(t, row.status),
            )
        )
        rows.append([(f"{number}. {row.name}"[:60], f"co:p:{row.id}")])
    if len(people) > ROSTER_SHOWN:
        lines.append(t._("…and {n} more: see the CSV.", n=t.number(len(people) - ROSTER_SHOWN)))
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows))


@operators_only
async def person(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    try:
        row = await training.enrollment(
            context.core, int(callback_parts(update)[2]), operator_id=operator.id
        )
    except training.NotYours:
        return
    resident = row.resident
    lines = [
        t._("<b>{name}</b> · {status}", name=row.name, status=notices.status_label(t, row.status)),
        t._("Course: {course}", course=row.course.title),
        t._("Tenant code: {code}", code=resident.tenant_code or "—"),
        t._("Signed up: {when}", when=t.datetime(row.signed_up_at, "short")),
        notices.form_summary(
            t,
            {
                "name": row.name,
                "phone": row.phone,
                "availability": row.availability.split(","),
                "schooling": row.schooling,
                "work": row.work,
                "work_note": row.work_note,
            },
        ),
    ]
    rows = []
    if row.status == EnrollmentStatus.ENROLLED:
        rows.append([(t._("🎓 Completed"), f"co:done:{row.id}")])
    if row.status in training.ACTIVE:
        rows.append([(t._("✖️ Remove"), f"co:drop:{row.id}"), (t._("↪️ Move"), f"co:mv:{row.id}")])
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows) if rows else None)


@operators_only
async def ask_drop(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    enrollment_id = callback_parts(update)[2]
    await reply(
        update,
        t._("Remove this person from the course? A place they hold goes to the next person."),
        reply_markup=buttons(
            [(t._("Yes, remove"), f"co:dropy:{enrollment_id}"), (t._("No"), "co:no")]
        ),
    )


@operators_only
async def outcome(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    _, action, enrollment_id = callback_parts(update)[:3]
    status = EnrollmentStatus.COMPLETED if action == "done" else EnrollmentStatus.DROPPED
    try:
        row = await training.set_outcome(
            context.core, int(enrollment_id), status, operator_id=operator.id
        )
    except (training.NotYours, training.NoLongerValid):
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    wake_sender(context)
    await reply(
        update,
        t._("{name}: {status}", name=row.name, status=notices.status_label(t, row.status)),
    )


@operators_only
async def nothing(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    await reply(update, t._("Cancelled. Nothing was changed."))


@operators_only
async def ask_move(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    enrollment_id = int(callback_parts(update)[2])
    try:
        row = await training.enrollment(context.core, enrollment_id, operator_id=operator.id)
    except training.NotYours:
        return
    others = [c for c in await training.open_courses(context.core) if c.course.id != row.course_id]
    if not others:
        await reply(update, t._("There is no other open course."))
        return
    rows = [
        [(item.course.title[:60], f"co:mvto:{enrollment_id}:{item.course.id}")] for item in others
    ]
    await reply(
        update, t._("Move {name} to which course?", name=row.name), reply_markup=buttons(*rows)
    )


@operators_only
async def move(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    _, _, enrollment_id, course_id = callback_parts(update)[:4]
    try:
        placed = await training.move(
            context.core, int(enrollment_id), int(course_id), operator_id=operator.id
        )
    except DomainError:
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    wake_sender(context)
    if placed.position is None:
        text = t._("Moved to {course}: enrolled.", course=placed.course.title)
    else:
        text = t._(
            "Moved to {course}: number {n} on the waiting list.",
            course=placed.course.title,
            n=t.number(placed.position),
        )
    await reply(update, text)


@operators_only
async def export(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    which = callback_parts(update)[2]
    course_id = int(which) if which.isdigit() else None
    data = await notices.export_csv(context.core, course_id, operator_id=operator.id)
    chat = update.effective_chat
    assert chat is not None
    name = f"enrollments-{course_id}.csv" if course_id else "enrollments.csv"
    await chat.send_document(
        data, filename=name, caption=t._("Sign-ups (CSV for Excel)"), protect_content=True
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^co:{pattern}$")  # type: ignore[arg-type]

    form = Conversation(
        entry_points=[
            CommandHandler("newcourse", new_course, filters=PRIVATE),
            on(rf"ef:{ID}:\w+", edit_field),
        ],
        states={
            FORM: [MessageHandler(TYPED, typed), on("ul:[yn]", unlinked), on(r"back:\w+", back)]
        },
        fallbacks=[on("cancel", cancel), CommandHandler("cancel", cancel, filters=PRIVATE)],
        name="course_form",
        persistent=True,
        allow_reentry=True,
    )
    return [
        form,
        CommandHandler("courses", listing, filters=PRIVATE),
        on(rf"open:{ID}", open_course),
        on(rf"cap:{ID}:[+-]", capacity),
        on(rf"st:{ID}:(open|closed)", set_status),
        on(rf"ed:{ID}", choose_field),
        on(rf"ros:{ID}", roster),
        on(rf"p:{ID}", person),
        on(rf"drop:{ID}", ask_drop),
        on(rf"(done|dropy):{ID}", outcome),
        on("no", nothing),
        on(rf"mv:{ID}", ask_move),
        on(rf"mvto:{ID}:{ID}", move),
        on(rf"csv:({ID}|all)", export),
    ]
