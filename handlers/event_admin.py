"""Events for operators: /events lists upcoming and past events with their answers, and opens
one to change its time or place (those coming are told), cancel it, record attendance after
the start, or decide on agenda proposals. Operators only, checked in the database on every
step. /newevent is in handlers/event_new.py.

```mermaid
stateDiagram-v2
    [*] --> EDIT: ✏️ Change time / place (ev:edit:ID:what)
    EDIT --> EDIT: unreadable date, or a time already passed
    EDIT --> [*]: saved (those coming are told)
    EDIT --> [*]: Cancel, or /cancel
```
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_, Translator
from bot.models import Answer, EventStatus, Resident
from bot.services import event_notices, event_proposals, events
from bot.timeparse import parse_local
from handlers.common import (
    INACTIVE,
    BotContext,
    Conversation,
    answer_query,
    buttons,
    callback_parts,
    edit,
    operators_only,
    remove_buttons,
    reply,
    typed,
    wake_sender,
)

EDIT = "event_edit:value"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE
TYPED = PRIVATE & filters.TEXT & ~filters.COMMAND
NAMES_SHOWN = 30
NAMES_ROOM = 4000  # of Telegram's 4,096 characters, with room for the last line
ATTENDANCE_SHOWN = 60
DATE_HINT = N_(
    "I could not read that date. Write it like this: 12/03 18:30, 12 marzo 18:30 or domani 18."
)
PASSED = N_("That time has already passed. Please write a later one.")
TEXT_LIMIT = N_("Please write it in at most {max} characters.")

# -- /events for operators --------------------------------------------------------------------


def _figures(t: Translator, found: events.Figures) -> str:
    text = t._(
        "Yes: {yes} · Maybe: {maybe} · No: {no} · No answer: {none}",
        yes=t.number(found.yes),
        maybe=t.number(found.maybe),
        no=t.number(found.no),
        none=t.number(found.unanswered),
    )
    if found.waiting:
        text += "\n" + t._("Waiting list: {n}", n=t.number(found.waiting))
    if found.attended:
        text += "\n" + t._("Came: {n}", n=t.number(found.attended))
    return text


def _headline(context: BotContext, t: Translator, item: events.Summary) -> str:
    event = item.event
    assert event.starts_at is not None
    line = t._(
        "#{id} · {date} · {title}",
        id=event.id,
        date=t.datetime(event.starts_at, "short"),
        title=event_notices.title(event, t, context.core.catalogs.default),
    )
    if event.status == EventStatus.CANCELLED:
        line = "🚫 " + line
    return line + "\n" + _figures(t, item.figures)


async def overview(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    upcoming, past = await events.overview(context.core)
    if not upcoming and not past:
        await reply(update, t._("No events yet. Send /newevent to create one."))
        return
    lines, rows = [], []
    for heading, items in (
        (t._("<b>Upcoming events</b>"), upcoming),
        (t._("<b>Past events</b>"), past),
    ):
        if items:
            lines += [heading] + [_headline(context, t, item) for item in items] + [""]
            rows += [[(t._("Open #{id}", id=i.event.id), f"ev:open:{i.event.id}")] for i in items]
    await reply(update, "\n".join(lines).strip(), reply_markup=buttons(*rows))


GROUPS = (
    (N_("<b>Yes</b>"), lambda i: i.answer == Answer.YES and not i.waiting),
    (N_("<b>Waiting list</b>"), lambda i: i.waiting),
    (N_("<b>Maybe</b>"), lambda i: i.answer == Answer.MAYBE),
    (N_("<b>No</b>"), lambda i: i.answer == Answer.NO),
)


def _names(t: Translator, label: str, names: list[str], room: int) -> str:
    """A line like "Yes: Anna, Marco (+12)": the names that fit in `room`, the rest counted."""
    shown: list[str] = []
    for name in names[:NAMES_SHOWN]:
        if event_notices.size(label + ": " + ", ".join([*shown, name])) + 8 > room and shown:
            break
        shown.append(name)
    more = len(names) - len(shown)
    return label + ": " + ", ".join(shown) + (f" (+{t.number(more)})" if more > 0 else "")


@operators_only
async def open_one(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    core = context.core
    found = await events.detail(core, int(callback_parts(update)[2]), operator.id)
    if found is None:
        await reply(update, t._("This event does not exist."))
        return
    event = found.event
    lines = [event_notices.card(t, event, core.catalogs.default), "", _figures(t, found.figures)]
    room = NAMES_ROOM - event_notices.size("\n".join(lines))
    groups = [
        (label, names)
        for label, member in GROUPS
        if (names := [r.name or t._("(no name)") for r, i in found.people if member(i)])
    ]
    for done, (label, names) in enumerate(groups):  # each group a fair share of what is left
        line = _names(t, t._(label), names, room // (len(groups) - done))
        lines.append(line)
        room -= event_notices.size(line) + 1
    rows = []
    assert event.starts_at is not None
    if event.status == EventStatus.CANCELLED:
        lines.append(t._("🚫 This event was cancelled."))
    elif event.starts_at > core.clock.now():
        rows.append(
            [
                (t._("✏️ Change time"), f"ev:edit:{event.id}:time"),
                (t._("✏️ Change place"), f"ev:edit:{event.id}:place"),
            ]
        )
        rows.append([(t._("🚫 Cancel the event"), f"ev:cancel:{event.id}")])
        waiting = await event_proposals.pending(core, event.id)
        if waiting:  # decided while the event is to come
            label = t._("💡 Proposals to decide ({n})", n=t.number(len(waiting)))
            rows.append([(label, f"ev:props:{event.id}")])
    else:
        rows.append([(t._("📋 Attendance"), f"ev:att:{event.id}")])
    # Names of residents: a long list is cut above, and the text never goes to the logs.
    await reply(update, "\n".join(lines), reply_markup=buttons(*rows) if rows else None)


@operators_only
async def ask_cancel(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    await answer_query(update)
    event_id = int(callback_parts(update)[2])
    await reply(
        update,
        t._("Cancel event #{id}? Those who answered Yes or Maybe will be told.", id=event_id),
        reply_markup=buttons([(t._("🚫 Yes, cancel it"), f"ev:cxl:{event_id}")]),
    )


@operators_only
async def confirm_cancel(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    event_id = int(callback_parts(update)[2])
    try:
        await events.cancel(context.core, event_id, operator.id)
    except (events.UnknownEvent, events.NotEditable):
        await answer_query(update, t._("This event can no longer be changed."))
        return
    await answer_query(update)
    await remove_buttons(update)
    wake_sender(context)
    await reply(
        update,
        t._("Event #{id} is cancelled. Those who answered Yes or Maybe will be told.", id=event_id),
    )


# -- changing the time or the place ------------------------------------------------------------


@operators_only
async def begin_edit(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | None:
    _, _, event_id, what = callback_parts(update)
    try:
        await events.begin_edit(context.core, int(event_id), operator.id, what)
    except (events.UnknownEvent, events.NotEditable, events.BadValue):
        await answer_query(update, t._("This event can no longer be changed."))
        return None
    await answer_query(update)
    prompt = (
        t._("Write the new date and time, for example 12/03 18:30.")
        if what == "time"
        else t._("Write the new place.")
    )
    await reply(update, prompt, reply_markup=buttons([(t._("❌ Cancel"), "ev:editstop")]))
    return EDIT


@operators_only
async def wrote_edit(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> str | int:
    core = context.core
    event = await events.editing(core, operator.id)
    if event is None:
        return END
    try:
        if event.editing_field == "time":
            when = parse_local(typed(update), core.clock.now(), core.settings.tz)
            if when is None:
                await reply(update, t._(DATE_HINT))
                return EDIT
            await events.move(core, event.id, when, operator.id)
        else:
            await events.change_place(core, event.id, typed(update), operator.id)
    except events.NotInFuture:
        await reply(update, t._(PASSED))
        return EDIT
    except events.TextTooLong as error:
        await reply(update, t._(TEXT_LIMIT, max=t.number(error.limit)))
        return EDIT
    except (events.UnknownEvent, events.NotEditable):
        await events.stop_editing(core, operator.id)
        await reply(update, t._("This event can no longer be changed."))
        return END
    wake_sender(context)
    await reply(update, t._("Saved. Those who answered Yes or Maybe will be told."))
    return END


@operators_only
async def stop_edit(update: Update, context: BotContext, operator: Resident, t: Translator) -> int:
    await answer_query(update)
    await events.stop_editing(context.core, operator.id)
    await remove_buttons(update)
    await reply(update, t._("Nothing was changed."))
    return END


# -- attendance -----------------------------------------------------------------------------


def _attendance_view(t: Translator, found: events.Detail, page: int = 0) -> tuple[str, object]:
    """One page of names (a keyboard holds 100 buttons at most), and the way to the others."""
    event = found.event
    text = t._(
        "<b>Attendance</b> for #{id}: tap the names of those who came.\nCame: {n}",
        id=event.id,
        n=t.number(found.figures.attended),
    )
    count = len(found.people)
    page = max(0, min(page, (count - 1) // ATTENDANCE_SHOWN)) if count else 0
    first = page * ATTENDANCE_SHOWN
    rows = [
        [
            (
                ("✅ " if invitation.attended else "⬜ ") + (resident.name or t._("(no name)")),
                f"ev:tick:{event.id}:{resident.id}:{page}",
            )
        ]
        for resident, invitation in found.people[first : first + ATTENDANCE_SHOWN]
    ]
    turns = []
    if page > 0:
        label = t._(
            "⬅️ Names {first}–{last}",
            first=t.number(first - ATTENDANCE_SHOWN + 1),
            last=t.number(first),
        )
        turns.append((label, f"ev:att:{event.id}:{page - 1}"))
    if first + ATTENDANCE_SHOWN < count:
        last = min(first + 2 * ATTENDANCE_SHOWN, count)
        label = t._(
            "Names {first}–{last} ➡️",
            first=t.number(first + ATTENDANCE_SHOWN + 1),
            last=t.number(last),
        )
        turns.append((label, f"ev:att:{event.id}:{page + 1}"))
    if turns:
        rows.append(turns)
    if not rows:
        text += "\n" + t._("Nobody answered Yes or Maybe.")
    return text, buttons(*rows) if rows else None


def _page(parts: list[str], index: int) -> int:
    return int(parts[index]) if len(parts) > index else 0  # the patterns allow digits only


@operators_only
async def attendance(
    update: Update, context: BotContext, operator: Resident, t: Translator
) -> None:
    parts = callback_parts(update)
    try:
        found = await events.attendance(context.core, int(parts[2]), operator.id)
    except (events.UnknownEvent, events.NotStarted):
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    text, markup = _attendance_view(t, found, _page(parts, 3))
    if len(parts) > 3:  # turning a page: the same message
        await _show(update, text, markup)
    else:
        await reply(update, text, reply_markup=markup)


@operators_only
async def tick(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    parts = callback_parts(update)
    event_id, resident_id = int(parts[2]), int(parts[3])
    try:
        await events.toggle_attendance(context.core, event_id, resident_id, operator.id)
        found = await events.attendance(context.core, event_id, operator.id)
    except (events.UnknownEvent, events.NotStarted):
        await answer_query(update, t._(INACTIVE))
        return
    await answer_query(update)
    await _show(update, *_attendance_view(t, found, _page(parts, 4)))


async def _show(update: Update, text: str, markup: object) -> None:
    assert update.callback_query is not None
    await update.callback_query.edit_message_text(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,  # type: ignore[arg-type]
    )


# -- agenda proposals -------------------------------------------------------------------------


@operators_only
async def proposals(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    await answer_query(update)
    for proposal in await event_proposals.pending(context.core, int(callback_parts(update)[2])):
        await reply(
            update,
            t._("💡 Proposed topic: {text}", text=proposal.text or ""),
            reply_markup=buttons(
                [
                    (t._("✅ Add to the agenda"), f"ev:pa:{proposal.id}"),
                    (t._("❌ Decline"), f"ev:pd:{proposal.id}"),
                ]
            ),
        )


@operators_only
async def decide(update: Update, context: BotContext, operator: Resident, t: Translator) -> None:
    _, action, proposal_id = callback_parts(update)
    try:
        proposal = await event_proposals.decide(
            context.core, int(proposal_id), action == "pa", operator.id
        )
    except event_proposals.AlreadyDecided:
        await answer_query(update, t._("This proposal was already decided."))
        return
    except (events.UnknownEvent, events.NotEditable):
        await answer_query(update, t._("This event can no longer be changed."))
        return
    await answer_query(update)
    wake_sender(context)
    outcome = (
        t._("✅ Added to the agenda: {text}", text=proposal.text or "")
        if action == "pa"
        else t._("Declined: {text}", text=proposal.text or "")
    )
    await edit(update, outcome)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    def on(pattern: str, callback: object) -> CallbackQueryHandler[BotContext, object]:
        return CallbackQueryHandler(callback, pattern=f"^ev:{pattern}$")  # type: ignore[arg-type]

    edit_event = Conversation(
        entry_points=[on(r"edit:\d+:(time|place)", begin_edit)],
        states={EDIT: [MessageHandler(TYPED, wrote_edit)]},
        fallbacks=[on("editstop", stop_edit), CommandHandler("cancel", stop_edit, filters=PRIVATE)],
        name="event_edit",
        persistent=True,
        allow_reentry=True,
    )
    return [
        edit_event,
        on(r"open:\d+", open_one),
        on(r"cancel:\d+", ask_cancel),
        on(r"cxl:\d+", confirm_cancel),
        on(r"att:\d+(:\d+)?", attendance),
        on(r"tick:\d+:\d+(:\d+)?", tick),
        on(r"props:\d+", proposals),
        on(r"p[ad]:\d+", decide),
    ]
