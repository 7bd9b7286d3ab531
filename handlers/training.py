"""Job training for residents: the open courses, the sign-up form, status and withdrawal, and
the answer to a waiting-list offer. The form's answers live in the database (training_drafts),
so /training, the menu button or a restart in the middle picks it up at the same question.

```mermaid
stateDiagram-v2
    [*] --> NAME: course button (may sign up)
    NAME --> PHONE: Yes, or a typed name
    PHONE --> AVAILABILITY: shared contact or valid number
    PHONE --> PHONE: invalid number (hint)
    AVAILABILITY --> SCHOOLING: Done (one or more ticked)
    SCHOOLING --> WORK
    WORK --> NOTE
    NOTE --> CONFIRM: text or Skip
    CONFIRM --> EDIT: Edit
    EDIT --> PHONE: a field (its question, then straight back to CONFIRM)
    CONFIRM --> [*]: Confirm (enrolled, or number N on the list)
    NAME --> [*]: Cancel (any step, or /cancel); Back goes one step back (once per question)
    NAME --> [*]: another menu button (the answers wait; Training resumes them)
```
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_, Translator
from bot.models import Course, EnrollmentStatus, Resident, TrainingDraft
from bot.services import DomainError, training, training_forms
from bot.services import training_notices as notices
from bot.services.training_forms import AVAILABILITY, SCHOOLING, WORK
from handlers.common import (
    ID,
    INACTIVE,
    BotContext,
    Conversation,
    MenuButton,
    answer_query,
    buttons,
    callback_parts,
    menu_action,
    nav_row,
    remove_buttons,
    reply,
    show_menu,
    wake_sender,
    who,
)

KIND = "signup"
STEPS = ("name", "phone", "availability", "schooling", "work", "note", "confirm")
NAME, PHONE, AVAIL, SCHOOL, WORKS, NOTE, CONFIRM = (f"training:{s}" for s in STEPS)
EDIT = "training:edit"
EDITABLE = {  # the answers one can change from the summary
    "name": ("👤", N_("Name")),
    "phone": ("📱", N_("Phone")),
    "availability": ("🕒", N_("Availability")),
    "schooling": ("🎓", N_("School")),
    "work": ("🛠", N_("Work wanted")),
}
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
TYPED = PRIVATE & filters.TEXT & ~filters.COMMAND
LIST_BUDGET = 3500  # characters of course cards in one message (Telegram takes 4096)


def state(step: str) -> str:
    return f"training:{step}"


# -- the list of courses and the resident's sign-ups ------------------------------------------


async def show(update: Update, context: BotContext, resident: Resident, t: Translator) -> str | int:
    """/training and the menu button: resume an unfinished form, or list the courses."""
    draft = await training_forms.draft(context.core, resident.id, KIND)
    if draft is not None:
        await reply(update, t._("Let's go on with your sign-up where you left off."))
        return await ask(update, context, t, draft)
    await _courses(update, context, resident, t)
    return END


async def _courses(update: Update, context: BotContext, resident: Resident, t: Translator) -> None:
    courses = await training.open_courses(context.core)
    mine = await training.mine(context.core, resident.id)
    lines = [t._("<b>Job-training courses</b>")]
    if mine:
        lines += [t._("Your sign-ups:"), *(status_line(t, item) for item in mine), ""]
    if not courses:
        lines.append(
            t._("There are no open courses at the moment. We will tell you when new ones open.")
        )
    else:
        lines += [t._("Tap a course to sign up."), ""]
    for item in courses:  # as many cards as fit; every course keeps its button
        card = notices.course_card(t, item) + "\n"
        if sum(map(len, lines)) + len(card) > LIST_BUDGET:
            break
        lines.append(card)
    rows = [[(item.course.title[:60], f"tr:sign:{item.course.id}")] for item in courses]
    if mine:
        rows.append([(t._("📋 My sign-ups"), "tr:mine")])
    await reply(update, "\n".join(lines).strip(), reply_markup=buttons(*rows) if rows else None)


def status_line(t: Translator, item: training.Mine) -> str:
    status, course = item.enrollment.status, item.course.title
    if status == EnrollmentStatus.ENROLLED:
        return t._("• {course}: you are enrolled", course=course)
    if status == EnrollmentStatus.OFFERED and item.enrollment.offer_expires_at:
        return t._(
            "• {course}: a place is waiting for you, answer by {deadline}",
            course=course,
            deadline=t.moment(item.enrollment.offer_expires_at),
        )
    return t._(
        "• {course}: number {n} on the waiting list", course=course, n=t.number(item.position or 0)
    )


async def command(update: Update, context: BotContext) -> str | int:
    resident, t = await who(update, context)
    if resident.consent_at is None:
        await reply(update, t._("Send /start to begin."))
        return END
    return await show(update, context, resident, t)


async def my_sign_ups(update: Update, context: BotContext) -> None:
    await answer_query(update)
    resident, t = await who(update, context)
    items = await training.mine(context.core, resident.id)
    if not items:
        await reply(update, t._("You are not signed up for any course."))
        return
    rows = []
    for item in items:
        row_id = item.enrollment.id
        if item.enrollment.status == EnrollmentStatus.OFFERED:  # the notice may not have reached
            rows.append(
                [
                    (t._("✅ Yes, I take it"), f"tr:of:{row_id}:y"),
                    (t._("❌ No, thank you"), f"tr:of:{row_id}:n"),
                ]
            )
        rows.append([(t._("Withdraw: {course}", course=item.course.title[:40]), f"tr:wd:{row_id}")])
    text = "\n".join([t._("Your sign-ups:"), *(status_line(t, i) for i in items)])
    await reply(update, text, reply_markup=buttons(*rows))


async def ask_withdraw(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    try:
        item = await training.own(context.core, resident.id, int(callback_parts(update)[2]))
    except training.NotYours:
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    await reply(
        update,
        t._(
            "Do you really want to withdraw from <b>{course}</b>? Your place goes to the next "
            "person.",
            course=item.course.title,
        ),
        reply_markup=buttons(
            [
                (t._("Yes, withdraw"), f"tr:wdy:{item.enrollment.id}"),
                (t._("No, stay"), "tr:wdn"),
            ]
        ),
    )


async def withdraw(update: Update, context: BotContext) -> None:
    resident, t = await who(update, context)
    try:
        course = await training.withdraw(context.core, resident.id, int(callback_parts(update)[2]))
    except (training.NotYours, training.NoLongerValid):
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    await remove_buttons(update)
    wake_sender(context)  # the next on the list is offered the place now
    await show_menu(update, t, t._("You have withdrawn from {course}.", course=course.title))


async def keep(update: Update, context: BotContext) -> None:
    _, t = await who(update, context)
    await answer_query(update)
    await remove_buttons(update)
    await show_menu(update, t, t._("All right, nothing has changed."))


async def offer_answer(update: Update, context: BotContext) -> None:
    """Yes / No on "a place is free for you": checked against the database, never trusted."""
    resident, t = await who(update, context)
    _, _, enrollment_id, choice = [*callback_parts(update), "", ""][:4]
    accept = choice == "y"
    try:
        course = await training.answer_offer(context.core, resident.id, int(enrollment_id), accept)
    except training.NotYours:
        await answer_query(update, t._(INACTIVE))
        return
    except training.AlreadyAnswered:  # a double tap: the first tap has been answered
        await answer_query(update)
        return
    except training.NoLongerValid:
        await answer_query(update)
        await remove_buttons(update)
        await reply(update, t._("This offer is no longer valid."))
        return
    await answer_query(update)
    await remove_buttons(update)
    if accept:
        await enrolled(update, context, t, course)
    else:
        wake_sender(context)
        await show_menu(update, t, t._("All right. The place goes to the next person."))


async def enrolled(update: Update, context: BotContext, t: Translator, course: Course) -> None:
    text = t._(
        "✅ You are enrolled in <b>{course}</b>.\nFirst session: {when}\nPlace: {place}",
        course=course.title,
        when=t.moment(course.starts_at),
        place=course.place,
    )
    await show_menu(update, t, text)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(
        notices.calendar(context.core, course),
        filename=f"course-{course.id}.ics",
        caption=t._("Open this file to add the first session to your calendar."),
    )


# -- the sign-up form -------------------------------------------------------------------------


async def begin(update: Update, context: BotContext) -> str | int:
    resident, t = await who(update, context)
    await answer_query(update)
    course_id = int(callback_parts(update)[2])
    try:
        item = await training.check_sign_up(context.core, resident.id, course_id)
    except DomainError as error:
        await refused(update, t, error)
        return END
    draft = await training_forms.save(
        context.core,
        resident.id,
        KIND,
        "name",
        course_id=item.course.id,
        fresh=True,
        name=resident.name,
    )
    title = t._("Sign-up for <b>{course}</b>", course=item.course.title)
    await reply(update, f"{title}\n\n{notices.course_card(t, item)}")
    return await ask(update, context, t, draft)


async def refused(update: Update, t: Translator, error: Exception) -> None:
    if isinstance(error, training.NoConsent):  # no menu before the privacy notice
        await reply(update, t._("Send /start to begin."))
        return
    if isinstance(error, training.NotLinked):
        text = t._(
            "This course is only for residents whose chat is linked to their tenant record. "
            "Ask the QMondo office for your personal code, then send /link ."
        )
    elif isinstance(error, training.AlreadySignedUp):
        text = t._("You are already signed up for this course. /training shows your sign-ups.")
    else:
        text = t._("This course is no longer open for sign-ups.")
    await show_menu(update, t, text)


Question = tuple[str, Any]  # the text and its keyboard


async def ask(update: Update, context: BotContext, t: Translator, draft: TrainingDraft) -> str:
    """Ask the question of the draft's step (again, after a hint or a restart)."""
    text, markup = await QUESTIONS[draft.step](context, t, draft)
    await reply(update, text, reply_markup=markup)
    return state(draft.step)


async def _ask_name(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    name = draft.data.get("name")
    if not name:
        return t._("Write your name and surname."), buttons(nav_row(t, "tr", "name"))
    text = t._(
        "Is this your full name? <b>{name}</b>\nIf not, write your name and surname.", name=name
    )
    return text, buttons([(t._("✅ Yes"), "tr:name:ok")], nav_row(t, "tr", "name"))


async def _ask_phone(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    text = t._(
        "Your phone number, so the course can call you. Tap the button below to share it, "
        "or write it."
    )
    keyboard = [
        [KeyboardButton(t._("📱 Share my phone number"), request_contact=True)],
        [KeyboardButton(t._("⬅️ Back")), KeyboardButton(t._("❌ Cancel"))],
    ]
    return text, ReplyKeyboardMarkup(keyboard, resize_keyboard=True, one_time_keyboard=True)


async def _ask_availability(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    text = t._("When can you come? Tap all that fit, then Done.")
    return text, availability_buttons(t, draft.data.get("availability", []))


def _choices(
    t: Translator, question: str, step: str, prefix: str, choices: dict[str, str]
) -> Question:
    rows = [[(t._(label), f"tr:{prefix}:{code}")] for code, label in choices.items()]
    return t._(question), buttons(*rows, nav_row(t, "tr", step))


async def _ask_schooling(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    return _choices(t, N_("What is the highest school you finished?"), "schooling", "sc", SCHOOLING)


async def _ask_work(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    return _choices(t, N_("What kind of work are you looking for?"), "work", "wk", WORK)


async def _ask_note(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    text = t._("Anything to add about the work you look for? Write it, or tap Skip.")
    return text, buttons([(t._("Skip"), "tr:skip")], nav_row(t, "tr", "note"))


async def _ask_confirm(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    course = (await training.view(context.core, draft.course_id or 0)).course
    title = t._("Please check your sign-up for <b>{course}</b>:", course=course.title)
    text = f"{title}\n\n{notices.form_summary(t, draft.data)}"
    return text, buttons(
        [(t._("✅ Confirm"), "tr:ok"), (t._("✏️ Edit"), "tr:edit")], nav_row(t, "tr", "confirm")
    )


async def _ask_edit(context: BotContext, t: Translator, draft: TrainingDraft) -> Question:
    rows = [
        [(f"{icon} {t._(label)}", f"tr:ed:{field}")] for field, (icon, label) in EDITABLE.items()
    ]
    return t._("What do you want to change?"), buttons(*rows, nav_row(t, "tr", "edit"))


QUESTIONS = {
    "name": _ask_name,
    "phone": _ask_phone,
    "availability": _ask_availability,
    "schooling": _ask_schooling,
    "work": _ask_work,
    "note": _ask_note,
    "confirm": _ask_confirm,
    "edit": _ask_edit,
}


def availability_buttons(t: Translator, chosen: list[str]) -> InlineKeyboardMarkup:
    rows = [
        [(("☑️ " if code in chosen else "⬜ ") + t._(label), f"tr:av:{code}")]
        for code, label in AVAILABILITY.items()
    ]
    return buttons(*rows, [(t._("Done"), "tr:av:done")], nav_row(t, "tr", "availability"))


async def _draft(
    update: Update, context: BotContext
) -> tuple[Resident, Translator, TrainingDraft | None]:
    resident, t = await who(update, context)
    await answer_query(update)
    return resident, t, await training_forms.draft(context.core, resident.id, KIND)


async def _next(
    update: Update,
    context: BotContext,
    t: Translator,
    resident: Resident,
    draft: TrainingDraft,
    **answers: Any,
) -> str:
    """Store an answer and ask the next question (the summary, when editing)."""
    following = "confirm" if draft.editing else STEPS[STEPS.index(draft.step) + 1]
    draft = await training_forms.save(context.core, resident.id, KIND, following, **answers)
    return await ask(update, context, t, draft)


async def _typed_nav(
    update: Update, context: BotContext, t: Translator, resident: Resident, draft: TrainingDraft
) -> str | int | None:
    """Back or Cancel from the phone question's keyboard, which stays on screen after Back:
    at any step they mean Back and Cancel, never a name, a note or a wrong answer."""
    text = update.message.text if update.message else None
    if text == t._("⬅️ Back"):
        return await _back(update, context, t, resident, draft)
    if text == t._("❌ Cancel"):
        return await _cancel(update, context, t, resident)
    return None


async def _lost(update: Update, t: Translator) -> int:
    await show_menu(update, t, t._("This sign-up was closed. Send /training to start again."))
    return END


async def name_ok(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    return await _next(update, context, t, resident, draft)


async def name_typed(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    assert update.message is not None and update.message.text is not None
    if (moved := await _typed_nav(update, context, t, resident, draft)) is not None:
        return moved
    if menu_action(context.core, update.message.text):  # a menu button, not a name
        return await left_for_menu(update, context)
    name = training_forms.clean_name(update.message.text)
    if name is None:
        await reply(update, t._("Please write your name and surname, in letters."))
        return await ask(update, context, t, draft)
    return await _next(update, context, t, resident, draft, name=name)


async def phone_given(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    message = update.message
    assert message is not None
    if (moved := await _typed_nav(update, context, t, resident, draft)) is not None:
        return moved
    typed = message.contact.phone_number if message.contact else message.text or ""
    if menu_action(context.core, typed):
        return await left_for_menu(update, context)
    phone = training_forms.normalize_phone(typed)
    if phone is None:
        await reply(
            update,
            t._(
                "This does not look like a phone number. Write it with digits only, for "
                "example 333 123 4567, or +212 612 345 678 for a number from abroad."
            ),
        )
        return await ask(update, context, t, draft)
    await show_menu(update, t, t._("Phone number: {phone}", phone=phone))
    return await _next(update, context, t, resident, draft, phone=phone)


async def availability(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    code = callback_parts(update)[2]
    chosen = list(draft.data.get("availability", []))
    if code == "done":
        if not chosen:
            await reply(update, t._("Please tap at least one: mornings, afternoons or evenings."))
            return await ask(update, context, t, draft)
        await remove_buttons(update)
        return await _next(update, context, t, resident, draft)
    if code not in AVAILABILITY:
        return state(draft.step)
    chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
    chosen = [c for c in AVAILABILITY if c in chosen]
    await training_forms.save(context.core, resident.id, KIND, draft.step, availability=chosen)
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(availability_buttons(t, chosen))
    return state(draft.step)


async def chose(update: Update, context: BotContext) -> str | int:
    """A school or work button: tr:sc:<code> / tr:wk:<code>."""
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    _, kind, code = callback_parts(update)[:3]
    field, choices = ("schooling", SCHOOLING) if kind == "sc" else ("work", WORK)
    if code not in choices or draft.step != field:
        return state(draft.step)  # a stale or forged button: the question stands
    await remove_buttons(update)
    return await _next(update, context, t, resident, draft, **{field: code})


async def note_typed(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    assert update.message is not None and update.message.text is not None
    if (moved := await _typed_nav(update, context, t, resident, draft)) is not None:
        return moved
    if menu_action(context.core, update.message.text):
        return await left_for_menu(update, context)
    note = " ".join(update.message.text.split())
    if len(note) > training_forms.MAX_NOTE:
        await reply(
            update,
            t._("Please make it shorter: at most {n} characters.", n=training_forms.MAX_NOTE),
        )
        return await ask(update, context, t, draft)
    return await _next(update, context, t, resident, draft, work_note=note)


async def skip(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    await remove_buttons(update)
    return await _next(update, context, t, resident, draft, work_note="")


async def typed_instead(update: Update, context: BotContext) -> str | int:
    """Text where a button is expected: say so and ask again."""
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    if (moved := await _typed_nav(update, context, t, resident, draft)) is not None:
        return moved
    assert update.message is not None
    if menu_action(context.core, update.message.text or ""):
        return await left_for_menu(update, context)
    await reply(update, t._("Please answer with the buttons."))
    return await ask(update, context, t, draft)


async def left_for_menu(update: Update, context: BotContext) -> int:
    """Another menu button in the middle of the form: it does what it says, and the form waits
    with its answers (Training or /training picks it up at the same question)."""
    from handlers import menu  # menu imports this module

    await menu.chosen(update, context)
    return END


async def edit(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    await remove_buttons(update)
    draft = await training_forms.save(context.core, resident.id, KIND, "edit")
    return await ask(update, context, t, draft)


async def edit_field(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    field = callback_parts(update)[2]
    if field not in EDITABLE:
        return state(draft.step)
    await remove_buttons(update)
    draft = await training_forms.save(context.core, resident.id, KIND, field, editing=True)
    return await ask(update, context, t, draft)


async def back(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None:
        return await _lost(update, t)
    pressed = callback_parts(update)[2:3]  # absent on buttons sent before steps were named
    if pressed and pressed[0] != draft.step:
        return state(draft.step)  # not the current question's Back: the question stands
    await remove_buttons(update)
    return await _back(update, context, t, resident, draft)


async def _back(
    update: Update, context: BotContext, t: Translator, resident: Resident, draft: TrainingDraft
) -> str | int:
    if draft.editing or draft.step == "edit":
        previous = "confirm"
    elif draft.step == "name":  # before the first question: the list of courses
        await training_forms.drop(context.core, resident.id, KIND)
        await show_menu(update, t, t._("Sign-up stopped."))
        await _courses(update, context, resident, t)
        return END
    else:
        previous = STEPS[STEPS.index(draft.step) - 1]
    draft = await training_forms.save(context.core, resident.id, KIND, previous, editing=False)
    return await ask(update, context, t, draft)


async def confirm(update: Update, context: BotContext) -> str | int:
    resident, t, draft = await _draft(update, context)
    if draft is None or draft.course_id is None or draft.step != "confirm":
        return await _lost(update, t)
    await remove_buttons(update)
    data = draft.data
    form = training.Form(
        name=data["name"],
        phone=data["phone"],
        availability=list(data["availability"]),
        schooling=data["schooling"],
        work=data["work"],
        work_note=data.get("work_note", ""),
    )
    try:
        placed = await training.sign_up(context.core, resident.id, draft.course_id, form)
    except DomainError as error:
        await training_forms.drop(context.core, resident.id, KIND)
        await refused(update, t, error)
        return END
    await training_forms.drop(context.core, resident.id, KIND)
    if placed.position is None:
        await enrolled(update, context, t, placed.course)
    else:
        await show_menu(
            update,
            t,
            t._(
                "You are number {n} on the waiting list for <b>{course}</b>. When a place is "
                "free, we will write to you here.",
                n=t.number(placed.position),
                course=placed.course.title,
            ),
        )
    return END


async def cancel(update: Update, context: BotContext) -> int:
    resident, t = await who(update, context)
    await answer_query(update)
    await remove_buttons(update)
    return await _cancel(update, context, t, resident)


async def _cancel(update: Update, context: BotContext, t: Translator, resident: Resident) -> int:
    await training_forms.drop(context.core, resident.id, KIND)
    await show_menu(update, t, t._("Cancelled. You are not signed up."))
    return END


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^tr:{pattern}$")  # type: ignore[arg-type]

    typed = MessageHandler(TYPED, typed_instead)
    nav = [on(r"back(:\w+)?", back)]
    conversation = Conversation(
        entry_points=[
            on(rf"sign:{ID}", begin),
            CommandHandler("training", command, filters=PRIVATE),
            MessageHandler(TYPED & MenuButton("training"), command),  # resumes a waiting form
        ],
        states={
            NAME: [on("name:ok", name_ok), MessageHandler(TYPED, name_typed), *nav],
            PHONE: [MessageHandler(PRIVATE & (filters.CONTACT | TYPED), phone_given)],
            AVAIL: [on(r"av:\w+", availability), typed, *nav],
            SCHOOL: [on(r"sc:\w+", chose), typed, *nav],
            WORKS: [on(r"wk:\w+", chose), typed, *nav],
            NOTE: [on("skip", skip), MessageHandler(TYPED, note_typed), *nav],
            CONFIRM: [on("ok", confirm), on("edit", edit), typed, *nav],
            EDIT: [on(r"ed:\w+", edit_field), typed, *nav],
        },
        fallbacks=[on("cancel", cancel), CommandHandler("cancel", cancel, filters=PRIVATE)],
        name="training",
        persistent=True,
        allow_reentry=True,
    )
    return [
        conversation,
        on("mine", my_sign_ups),
        on(rf"wd:{ID}", ask_withdraw),
        on(rf"wdy:{ID}", withdraw),
        on("wdn", keep),
        on(rf"of:{ID}:[yn]", offer_answer),
    ]
