"""Operators: /newevent with typed and picked dates, invitations in each language, /events
with the answers, edits and cancellation told to those coming, attendance; residents refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.models import Answer, Delivery, Event, EventKind
from bot.services import (
    event_drafts,
    event_notices,
    event_proposals,
    event_rsvp,
    events,
    residents,
)
from handlers.common import QUIET_TIME
from tests.conftest import ROME
from tests.e2e.events_support import (  # noqa: F401 - brisk_pacing is a fixture
    brisk_pacing,
    invitation,
    invitations,
    operator,
    published,
    starting,
)
from tests.support import Harness, eventually, linked, read, seen, settled

DATE_HINT = (
    "I could not read that date. Write it like this: 12/03 18:30, 12 marzo 18:30 or domani 18."
)
PASSED = "That time has already passed. Please write a later one."
START_SOON = datetime(2026, 12, 5, 17, 0, tzinfo=ROME)


async def draft_start(core: Core) -> datetime | None:
    async with core.db.session() as session:
        event = await session.scalar(select(Event).order_by(Event.id.desc()).limit(1))
        return None if event is None else event.starts_at


async def test_the_date_is_read_in_several_italian_forms_and_checked(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    expected = {
        "12/03 18:30": datetime(2027, 3, 12, 18, 30, tzinfo=ROME),
        "12 marzo 18:30": datetime(2027, 3, 12, 18, 30, tzinfo=ROME),
        "domani 18": datetime(2026, 11, 26, 18, 0, tzinfo=ROME),
        "sabato alle 16": datetime(2026, 11, 28, 16, 0, tzinfo=ROME),
    }
    for typed, when in expected.items():
        await op.send("/newevent")
        await op.press(it._("🎉 Social event"))
        await op.send("Festa")
        await op.send("Musica nel cortile")
        for wrong, answer in (
            ("ieri alle tre", DATE_HINT),
            ("31/02 18:30", DATE_HINT),
            ("01/01/2020 10:00", PASSED),
            ("oggi 9", PASSED),  # it is 10:00 already
        ):
            await op.send(wrong)
            assert op.last.text == seen(it, answer), wrong
        await op.send(typed)
        assert op.last.text == seen(it, "How long will it last?"), typed
        assert await draft_start(core) == when, typed

    # the day buttons, then a time
    await op.send("/newevent")
    await op.press(it._("🎉 Social event"))
    await op.send("Cena")
    await op.send("Cena condivisa")
    friday = it.date(date(2026, 11, 27), "EEE d MMM")
    assert friday in op.buttons
    await op.press(friday)
    await op.send("25:99")
    assert op.last.text == seen(it, "Write the time like this: 18:30.")
    await op.send("19.30")
    assert await draft_start(core) == datetime(2026, 11, 27, 19, 30, tzinfo=ROME)
    # today's button with a time already gone
    await op.send("/newevent")
    await op.press(it._("🎉 Social event"))
    await op.send("Cena")
    await op.send("Cena condivisa")
    await op.press(it.date(date(2026, 11, 25), "EEE d MMM"))
    await op.send("9:00")
    assert op.last.text == seen(it, PASSED)
    await op.send("/cancel")
    assert op.last.text == seen(it, "Cancelled. Nothing was sent.")
    async with core.db.session() as session:
        assert await session.scalar(select(Event.id)) is None  # the draft went with /cancel


async def test_an_assembly_is_written_translated_and_published_to_everyone_in_their_language(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    amina = await linked(core, fake, 5001, "ar", "Amina Haddad")
    li = await linked(core, fake, 5002, "zh", "Li Wei")
    marco = await linked(core, fake, 5003, "it", "Marco Rossi")
    it, ar, zh = (core.catalogs.translator(code) for code in ("it", "ar", "zh"))

    await op.send("/newevent")
    await op.press(it._("🏛 Tenant assembly"))
    await op.send("Assemblea scala B")
    await op.send("Parliamo del cortile e delle pulizie")
    await op.send("12 dicembre 18:30")
    await op.press(event_notices.duration(it, 120))
    await op.send("Sala comune, via Mezzetta 1")
    await op.send("dove?")
    assert op.last.text == seen(it, "Please send a location, or press Skip.")
    await op.send_location(45.4512, 9.2367)
    await op.send("tanti")
    assert op.last.text == seen(it, "Please write a whole number, for example 40.")
    await op.send("30")
    await op.send("Pulizie delle scale\n- Parcheggio biciclette")
    await op.press(it._("Everyone linked"))
    preview = op.last.text or ""
    assert read(it._("Recipients: {n}", n=4)) in preview
    assert "• Parcheggio biciclette" in preview
    await op.press(it._("➕ Add a translation"))
    await op.press("العربية")
    await op.send("اجتماع السكان\nنتحدث عن الفناء")
    assert "العربية" in (op.last.text or "")
    await op.press(it._("✅ Publish and invite ({n})", n=4))
    assert op.last.text == read(
        it.n_(
            "Published: {n} resident is invited. /events shows the answers.",
            "Published: {n} residents are invited. /events shows the answers.",
            4,
        )
    )

    start = datetime(2026, 12, 12, 18, 30, tzinfo=ROME)
    assembly = EventKind.ASSEMBLY
    await eventually(
        lambda: (
            invitations(amina, ar, assembly)
            and invitations(li, zh, assembly)
            and invitations(marco, it, assembly)
        )
    )
    arabic = invitations(amina, ar, assembly)[0]
    assert "اجتماع السكان" in arabic and "نتحدث عن الفناء" in arabic
    assert ar.moment(start) in arabic  # the date in Arabic, Rome time
    chinese = invitations(li, zh, assembly)[0]
    assert "Assemblea scala B" in chinese  # no Chinese version: the Italian one
    assert zh.moment(start) in chinese and zh.moment(start) != it.moment(start)
    assert read(zh._("📍 {place}", place="Sala comune, via Mezzetta 1")) in chinese
    italian = invitations(marco, it, assembly)[0]
    assert it.moment(start) in italian and "giovedì" not in italian  # a Saturday
    assert "sabato 12 dicembre 2026 18:30" in italian
    assert marco.buttons[:3] == [it._("✅ Yes"), it._("🤔 Maybe"), it._("❌ No")]
    assert it._("📍 Map") in marco.buttons
    assert ar._("💡 Propose a topic for the agenda") in amina.buttons


async def test_answers_are_counted_and_named_for_operators(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    people = [await linked(core, fake, 5100 + i, "it", f"Persona {i}") for i in range(4)]
    it = core.catalogs.translator("it")
    event = await published(core, datetime(2026, 12, 5, 17, 0, tzinfo=ROME))
    await eventually(lambda: all(invitations(p, it) for p in people))
    await people[0].press(it._("✅ Yes"))
    await people[1].press(it._("✅ Yes"))
    await people[1].press(it._("❌ No"))  # changed their mind
    await people[2].press(it._("🤔 Maybe"))

    await op.send("/events")
    counts = it._(
        "Yes: {yes} · Maybe: {maybe} · No: {no} · No answer: {none}",
        yes=1,
        maybe=1,
        no=1,
        none=1,
    )
    assert read(counts) in (op.last.text or "")
    await op.press(it._("Open #{id}", id=event.id))
    detail = op.last.text or ""
    assert read(it._("<b>Yes</b>")) + ": Persona 0" in detail
    assert read(it._("<b>Maybe</b>")) + ": Persona 2" in detail
    assert read(it._("<b>No</b>")) + ": Persona 1" in detail
    assert "Persona 3" not in detail


async def test_moving_and_cancelling_tell_only_those_coming(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    yes = await linked(core, fake, 5201, "fr", "Awa Diop")
    no = await linked(core, fake, 5202, "it", "Marco Rossi")
    silent = await linked(core, fake, 5203, "it", "Anna Bianchi")
    it, fr = core.catalogs.translator("it"), core.catalogs.translator("fr")
    event = await published(core, datetime(2026, 12, 5, 17, 0, tzinfo=ROME))
    await eventually(
        lambda: invitations(yes, fr) and invitations(no, it) and invitations(silent, it)
    )
    await yes.press(fr._("✅ Yes"))
    await no.press(it._("❌ No"))

    await op.send("/events")
    await op.press(it._("Open #{id}", id=event.id))
    await op.press(it._("✏️ Change time"))
    await op.send("domani alle sette")
    assert op.last.text == seen(it, DATE_HINT)
    await op.send("oggi 9")  # it is 10:00: an event is not moved into the past
    assert op.last.text == seen(it, PASSED)
    await op.send("6/12 18")
    assert op.last.text == seen(it, "Saved. Those who answered Yes or Maybe will be told.")
    new_time = "✏️ The time of this event has changed. Here are the new details:"
    new_place = "✏️ The place of this event has changed. Here are the new details:"
    await eventually(lambda: starting(yes, fr, new_time))
    moved = datetime(2026, 12, 6, 18, 0, tzinfo=ROME)
    assert fr.moment(moved) in starting(yes, fr, new_time)[0]

    await op.send("/events")
    await op.press(it._("Open #{id}", id=event.id))
    await op.press(it._("✏️ Change place"))
    await op.send("Palestra, via Mezzetta 3")
    await eventually(lambda: starting(yes, fr, new_place))
    assert "Palestra, via Mezzetta 3" in starting(yes, fr, new_place)[0]

    await op.send("/events")
    await op.press(it._("Open #{id}", id=event.id))
    await op.press(it._("🚫 Cancel the event"))
    await op.press(it._("🚫 Yes, cancel it"))
    cancelled = "🚫 Cancelled: {title}, {when}. We are sorry."
    notice = seen(fr, cancelled, title="Festa del cortile", when=fr.moment(moved))
    await eventually(lambda: notice in [m.text for m in yes.messages])
    for person, t in ((no, it), (silent, it)):
        assert starting(person, t, new_time) == starting(person, t, new_place) == []
        assert not any("🚫" in (m.text or "") for m in person.messages)
    # a cancelled event takes no answers and no more edits
    await yes.press(fr._("🤔 Maybe"))
    assert fake.callback_answers[-1].get("text") == read(fr._("This event was cancelled."))
    await op.press_data(f"ev:edit:{event.id}:time")
    assert fake.callback_answers[-1].get("text") == read(
        it._("This event can no longer be changed.")
    )


async def test_attendance_is_ticked_after_the_start(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    op = await operator(core, fake)
    came = await linked(core, fake, 5301, "it", "Marco Rossi")
    absent = await linked(core, fake, 5302, "it", "Anna Bianchi")
    it = core.catalogs.translator("it")
    event = await published(core, datetime(2026, 11, 25, 18, 0, tzinfo=ROME))
    await eventually(lambda: invitations(came, it) and invitations(absent, it))
    await came.press(it._("✅ Yes"))
    await absent.press(it._("🤔 Maybe"))
    await op.send("/events")
    await op.press_data(f"ev:att:{event.id}")  # not started yet: nothing to record
    assert fake.callback_answers[-1].get("text") == read(it._("This button is no longer active."))

    await settled(core)  # nothing in flight when the pinned clock jumps
    clock.set(datetime(2026, 11, 25, 20, 0, tzinfo=ROME))
    await op.send("/events")
    await op.press(it._("Open #{id}", id=event.id))
    await op.press(it._("📋 Attendance"))
    assert op.buttons == ["⬜ Anna Bianchi", "⬜ Marco Rossi"]
    await op.press("⬜ Marco Rossi")
    assert op.buttons == ["⬜ Anna Bianchi", "✅ Marco Rossi"]
    assert read(it._("Came: {n}", n=1)) in (op.last.text or "")
    assert (await invitation(core, event.id, 5301)).attended
    assert not (await invitation(core, event.id, 5302)).attended
    await op.send("/events")
    assert read(it._("Came: {n}", n=1)) in (op.last.text or "")


async def test_operator_actions_are_refused_to_residents(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    await operator(core, fake)
    amina = await linked(core, fake, 5401, "ar", "Amina Haddad")
    ar = core.catalogs.translator("ar")
    event = await published(core, datetime(2026, 11, 25, 18, 0, tzinfo=ROME))
    await eventually(lambda: invitations(amina, ar))
    await amina.send("/newevent")
    assert amina.last.text == seen(
        ar, "I don't know this command. Send /help to see what I can do."
    )
    await amina.send("/events")  # a resident sees their own invitations, not the figures
    assert "Cortile scala B" in (amina.last.text or "")
    assert read(ar._("You have not answered yet.")) in (amina.last.text or "")
    resident = (await invitation(core, event.id, 5401)).resident_id
    await settled(core)  # nothing in flight when the pinned clock jumps
    clock.advance(timedelta(hours=9))
    for data in (
        f"ev:open:{event.id}",
        f"ev:edit:{event.id}:time",
        f"ev:cancel:{event.id}",
        f"ev:cxl:{event.id}",
        f"ev:att:{event.id}",
        f"ev:tick:{event.id}:{resident}",
        "ev:pa:1",
        "ev:n:pub",
    ):
        before = len(amina.messages)
        await amina.press_data(data)
        assert fake.callback_answers[-1].get("text") == read(
            ar._("This button is no longer active.")
        ), data
        assert len(amina.messages) == before, data
    assert not (await invitation(core, event.id, 5401)).attended
    assert (await events.get(core, event.id)).status.value == "published"
    async with core.db.session() as session:
        assert (
            await session.scalar(select(Delivery.id).where(Delivery.kind != "event_invitation"))
            is None
        )


async def test_a_restart_in_the_middle_of_newevent_resumes_at_the_same_step(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    await op.send("/newevent")
    await op.press(it._("🎉 Social event"))
    await op.send("Torneo di calcetto")
    await harness.restart()  # the step and the draft are in the database
    await op.send("Squadre miste, porta le scarpe da ginnastica")
    await op.send("domani 17")
    assert op.last.text == seen(it, "How long will it last?")
    author = await residents.find(core, 9001)
    assert author is not None
    draft = await event_drafts.draft(core, author.id)
    assert draft is not None and draft.titles == {"it": "Torneo di calcetto"}
    assert draft.descriptions == {"it": "Squadre miste, porta le scarpe da ginnastica"}


async def test_a_notice_can_go_to_those_coming_or_to_those_who_have_not_answered(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    coming = await linked(core, fake, 5501, "it", "Marco Rossi")
    silent = await linked(core, fake, 5502, "it", "Anna Bianchi")
    it = core.catalogs.translator("it")
    await published(core, START_SOON)
    await eventually(lambda: invitations(coming, it) and invitations(silent, it))
    await coming.press(it._("✅ Yes"))
    label = f"Festa del cortile · {it.date(START_SOON, 'short')}"
    for segment, text, reached, missed in (
        ("Answered Yes or Maybe to an event", "Portate le sedie", coming, silent),
        ("Invited to an event, no answer yet", "Ci sei anche tu?", silent, coming),
    ):
        await op.send("/broadcast")
        await op.press(it._(segment))
        await op.press(label)
        await op.send(text)
        assert read(it._("Recipients: {n}", n=1)) in (op.last.text or "")
        await op.press(it._("✅ Send now ({n})", n=1))
        await eventually(lambda r=reached, x=text: any(x in (m.text or "") for m in r.messages))
        assert not any(text in (m.text or "") for m in missed.messages)


async def test_an_assembly_written_at_every_limit_still_fits_in_one_telegram_message(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    """Title, description, place and agenda at their limits, then more approved topics: the
    preview, the invitation, the resident's /events and the operator's card stay within
    Telegram's 4,096 characters (a longer text is refused and the invitation never arrives)."""
    op = await operator(core, fake)
    marco = await linked(core, fake, 5601, "it", "Marco Rossi")
    amina = await linked(core, fake, 5602, "ar", "Amina Haddad")
    crowd = [5700 + n for n in range(40)]  # long names, many answers: the operator's card
    for telegram_id in crowd:
        await linked(core, fake, telegram_id, "it", f"Maria Giovanna {telegram_id} " + "n" * 40)
    it, ar = core.catalogs.translator("it"), core.catalogs.translator("ar")
    await op.send("/newevent")
    await op.press(it._("🏛 Tenant assembly"))
    await op.send("Assemblea " + "t" * (events.MAX_TITLE - 10))
    await op.send("Ordine del giorno lungo. " + "d" * (events.MAX_DESCRIPTION - 26) + "!")
    await op.send("12 dicembre 18:30")
    await op.press(event_notices.duration(it, 120))
    await op.send("p" * events.MAX_PLACE)
    await op.press(it._("Skip"))
    await op.press(it._("No limit"))
    items = [f"Punto {n} " + "a" * (events.MAX_AGENDA_ITEM - 9) for n in range(1, 16)]
    await op.send("\n".join(items))
    await op.press(it._("Everyone linked"))
    assert (op.last.text or "").startswith(read(it._("<b>Preview of the invitation</b>")))
    await op.press(it._("✅ Publish and invite ({n})", n=43))
    async with core.db.session() as session:
        event = await session.scalar(select(Event).order_by(Event.id.desc()).limit(1))
    assert event is not None
    for n in range(5):  # approved topics make the agenda longer still
        proposal = await event_proposals.start(core, event.id, await resident_id(core, 5601))
        await event_proposals.write(core, proposal.resident_id, f"Tema {n} " + "x" * 190)
        await event_proposals.confirm(core, proposal.resident_id)
        await event_proposals.decide(core, proposal.id, True, event.author_id)
    for n, telegram_id in enumerate(crowd):
        choice = (Answer.YES, Answer.MAYBE, Answer.NO)[n % 3]
        await event_rsvp.answer(core, event.id, await resident_id(core, telegram_id), choice)

    await eventually(lambda: invitations(marco, it, EventKind.ASSEMBLY))
    await eventually(lambda: invitations(amina, ar, EventKind.ASSEMBLY))
    invited = invitations(marco, it, EventKind.ASSEMBLY)[0]
    assert "Assemblea ttt" in invited and "Ordine del giorno lungo." in invited
    assert "• Punto 1 aaa" in invited
    await marco.send("/events")
    listing = marco.last.text or ""
    assert listing.startswith("Assemblea ttt") and "• Punto 1 aaa" in listing
    await op.send("/events")
    await op.press(it._("Open #{id}", id=event.id))
    detail = op.last.text or ""
    assert detail.startswith("Assemblea ttt") and "Maria Giovanna 5700" in detail
    assert "(+" in detail  # the names that do not fit are counted
    assert fake.violations == []


async def resident_id(core: Core, telegram_id: int) -> int:
    found = await residents.find(core, telegram_id)
    assert found is not None
    return found.id


async def test_attendance_reaches_everyone_coming_page_by_page(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    """More people coming than one keyboard holds: the others are on the next page."""
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    crowd = [5800 + n for n in range(70)]
    for n, telegram_id in enumerate(crowd):
        await linked(core, fake, telegram_id, "it", f"Persona {n:02d}")
    event = await published(core, datetime(2026, 11, 25, 18, 0, tzinfo=ROME))
    for n, telegram_id in enumerate(crowd):
        choice = Answer.YES if n % 2 else Answer.MAYBE
        await event_rsvp.answer(core, event.id, await resident_id(core, telegram_id), choice)
    await settled(core)  # nothing in flight when the pinned clock jumps
    clock.set(datetime(2026, 11, 25, 20, 0, tzinfo=ROME))
    await op.send("/events")
    await op.press(it._("Open #{id}", id=event.id))
    await op.press(it._("📋 Attendance"))
    shown = op.buttons
    assert shown[0] == "⬜ Persona 00" and "⬜ Persona 59" in shown
    assert "⬜ Persona 60" not in shown
    following = it._("Names {first}–{last} ➡️", first=61, last=70)
    assert shown[-1] == following
    await op.press(following)
    assert op.buttons[0] == "⬜ Persona 60" and op.buttons[9] == "⬜ Persona 69"
    assert op.buttons[-1] == it._("⬅️ Names {first}–{last}", first=1, last=60)
    await op.press("⬜ Persona 65")
    assert "✅ Persona 65" in op.buttons  # still on the second page
    assert (await invitation(core, event.id, 5865)).attended
    assert read(it._("Came: {n}", n=1)) in (op.last.text or "")


@pytest.mark.parametrize(
    ("now", "start", "warning"),
    [
        (datetime(2026, 11, 25, 21, 30), "domani 8", "too late"),  # held past the start
        (datetime(2026, 11, 25, 21, 30), "domani 18", "quiet"),  # held, in time
        (datetime(2026, 11, 26, 2, 0), "26/11 8:30", "too late"),  # after midnight
        (datetime(2026, 11, 25, 10, 0), "domani 8", None),  # sent at once
    ],
    ids=["evening for the early morning", "evening for the evening", "night", "daytime"],
)
async def test_the_preview_warns_when_quiet_hours_would_hold_the_invitations(
    harness: Harness, core: Core, fake: FakeBotAPI, clock, now, start, warning
):
    op = await operator(core, fake)
    it = core.catalogs.translator("it")
    clock.set(now.replace(tzinfo=ROME))
    await op.send("/newevent")
    await op.press(it._("🎉 Social event"))
    await op.send("Colazione insieme")
    await op.send("Caffè e brioche per tutti")
    await op.send(start)
    await op.press(event_notices.duration(it, 60))
    await op.send("Cortile scala B")
    await op.press(it._("Skip"))
    await op.press(it._("No limit"))
    await op.press(it._("Everyone linked"))
    preview = op.last.text or ""
    assert read(it._("<b>Preview of the invitation</b>")) in preview
    too_late = seen(
        it,
        "⚠️ It is quiet time: invitations would go out at {time}, after the event has started, "
        "so nobody would get them. Choose a later start, or publish after {time}.",
        time="09:00",
    )
    quiet = seen(it, QUIET_TIME, time="09:00")
    assert (too_late in preview, quiet in preview) == (warning == "too late", warning == "quiet")
    harness.check()
