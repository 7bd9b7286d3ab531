"""Residents: the Events menu, answers and the waiting list, forged buttons, the calendar file,
the map pin, and topic proposals for an assembly's agenda with the operators' decision."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.models import Answer, EventKind, Invitation, Proposal, Role
from bot.services import event_rsvp, events, residents
from handlers.events import CONFIRMATIONS
from tests.conftest import ROME
from tests.e2e.events_support import (  # noqa: F401 - brisk_pacing is a fixture
    brisk_pacing,
    invitation,
    invitations,
    kinds,
    operator,
    published,
)
from tests.support import Harness, eventually, linked, read, seen, settled

START = datetime(2026, 12, 5, 17, 0, tzinfo=ROME)
INACTIVE = "This button is no longer active."


async def test_the_events_menu_lists_upcoming_invitations_with_the_answer(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await operator(core, fake)
    amina = await linked(core, fake, 5001, "ar", "Amina Haddad")
    ar = core.catalogs.translator("ar")
    await amina.send("/start")
    await amina.tap(ar._("🎉 Events"))
    assert amina.last.text == seen(
        ar, "No upcoming events for you now. New invitations will arrive in this chat."
    )
    await published(core, START)
    await eventually(lambda: invitations(amina, ar))
    await amina.press(ar._("🤔 Maybe"))
    assert amina.last.text == seen(
        ar, "🤔 Noted: maybe. I will remind you the day before and two hours before."
    )
    await amina.tap(ar._("🎉 Events"))
    listing = amina.last.text or ""
    assert "Festa del cortile" in listing and ar.moment(START) in listing
    assert read(ar._("Your answer: {answer}", answer=ar._("🤔 Maybe"))) in listing
    assert amina.buttons[:3] == [ar._("✅ Yes"), ar._("🤔 Maybe"), ar._("❌ No")]


async def test_who_joins_after_the_invitations_went_out_finds_the_event_in_the_menu(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await operator(core, fake)
    event = await published(core, START, audience="linked")  # before Li Wei used the bot
    li = await linked(core, fake, 5002, "zh", "Li Wei")
    zh = core.catalogs.translator("zh")
    await li.send("/start")
    await li.tap(zh._("🎉 Events"))
    assert "Festa del cortile" in (li.last.text or "") and zh.moment(START) in li.last.text
    await li.press(zh._("✅ Yes"))
    assert (await invitation(core, event.id, 5002)).answer == Answer.YES
    other = await published(core, START, title="Solo operatori", audience="role:operator")
    await li.tap(zh._("🎉 Events"))
    assert "Solo operatori" not in (li.last.text or "")
    async with core.db.session() as session:
        invited = await session.scalars(select(Invitation).where(Invitation.event_id == other.id))
        assert [i.resident_id for i in invited] == [(await residents.find(core, 9001)).id]
    harness.check()


@pytest.mark.parametrize(
    ("before_start", "opted_out", "expected"),
    [
        (timedelta(days=2), False, CONFIRMATIONS[Answer.YES, 2]),
        (timedelta(hours=5), False, "✅ See you there! I will remind you two hours before."),
        (timedelta(hours=1), False, "✅ See you there!"),
        (timedelta(days=2), True, "✅ See you there!"),  # turned notices off with /stop
    ],
    ids=["two days ahead", "five hours ahead", "one hour ahead", "notices off"],
)
async def test_a_yes_promises_only_the_reminders_still_to_come(
    harness: Harness, core: Core, fake: FakeBotAPI, clock, before_start, opted_out, expected
):
    await operator(core, fake)
    marco = await linked(core, fake, 5001, "it", "Marco Rossi", opted_out=opted_out)
    it = core.catalogs.translator("it")
    event = await published(core, START)
    if not opted_out:
        await eventually(lambda: invitations(marco, it))
    await settled(core)
    clock.set(START - before_start)
    await marco.send("/events")
    await marco.press(it._("✅ Yes"))
    assert marco.last.text == seen(it, expected)
    assert (await invitation(core, event.id, 5001)).answer == Answer.YES
    harness.check()


async def test_a_full_event_keeps_a_waiting_list_that_moves_up_when_someone_says_no(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    await operator(core, fake)
    first = await linked(core, fake, 5101, "it", "Marco Rossi")
    second = await linked(core, fake, 5102, "es", "Lucía Pérez")
    third = await linked(core, fake, 5103, "it", "Anna Bianchi")
    it, es = core.catalogs.translator("it"), core.catalogs.translator("es")
    event = await published(core, START, capacity=1)
    await eventually(lambda: invitations(first, it) and invitations(second, es))
    await eventually(lambda: invitations(third, it))

    await first.press(it._("✅ Yes"))
    await second.press(es._("✅ Yes"))
    waiting = "The event is full: you are on the waiting list. I will tell you if a place frees up."
    assert second.last.text == seen(es, waiting)
    clock.advance(timedelta(minutes=1))  # first come, first served: by the time of the answer
    await third.press(it._("✅ Yes"))
    await second.press(es._("✅ Yes"))  # pressing Yes again keeps the turn, it does not jump
    assert (await invitation(core, event.id, 5102)).waiting
    assert (await invitation(core, event.id, 5103)).waiting

    await first.press(it._("🤔 Maybe"))  # gives up the place: the first in line gets it
    promoted = "🎉 A place is free for you: {title}, {when}. See you there!"
    notice = seen(es, promoted, title="Festa del cortile", when=es.moment(START))
    await eventually(lambda: notice in [m.text for m in second.messages])
    assert not (await invitation(core, event.id, 5102)).waiting
    assert (await invitation(core, event.id, 5103)).waiting
    assert not any("🎉 A place" in (m.text or "") for m in third.messages)

    clock.advance(timedelta(minutes=1))
    await first.press(it._("✅ Yes"))  # full again: first waits now
    assert first.last.text == seen(it, waiting)
    await second.press(es._("❌ No"))
    await eventually(
        lambda: (
            seen(it, promoted, title="Festa del cortile", when=it.moment(START))
            in [m.text for m in third.messages]
        )
    )
    assert (await invitation(core, event.id, 5101)).waiting  # third was in line before first
    assert (await invitation(core, event.id, 5103)).answer == Answer.YES


async def test_forged_buttons_change_nothing(harness: Harness, core: Core, fake: FakeBotAPI, clock):
    await operator(core, fake)
    marco = await linked(core, fake, 5201, "it", "Marco Rossi")
    other = await linked(core, fake, 5202, "it", "Anna Bianchi", building="B")
    it = core.catalogs.translator("it")
    mine = await published(core, START, audience="building:A")
    theirs = await published(core, START, title="Torneo", audience="building:B")
    soon = await published(core, datetime(2026, 11, 25, 12, 0, tzinfo=ROME))
    await eventually(lambda: len(invitations(marco, it)) == 2 and invitations(other, it))

    before = len(marco.messages)
    for data, answer in (
        (f"ev:r:{theirs.id}:y", INACTIVE),  # another event, not his
        (f"ev:ics:{theirs.id}", INACTIVE),
        ("ev:r:999:y", INACTIVE),  # no such event
        (f"ev:map:{mine.id}", INACTIVE),  # no map pin on this one
        (f"ev:prop:{mine.id}", INACTIVE),  # not an assembly
        ("ev:r:1:maybe", INACTIVE),  # malformed
    ):
        await marco.press_data(data)
        assert fake.callback_answers[-1].get("text") == read(it._(answer)), data
    await settled(core)  # nothing in flight when the pinned clock jumps
    clock.set(datetime(2026, 11, 25, 12, 5, tzinfo=ROME))  # `soon` has started
    await marco.press_data(f"ev:r:{soon.id}:y")
    assert fake.callback_answers[-1].get("text") == read(
        it._("This event has already started: answers are closed.")
    )
    assert len(marco.messages) == before
    for event_id, person in ((theirs.id, 5201), (soon.id, 5201)):
        async with core.db.session() as session:
            found = await session.scalar(
                select(Invitation.answer).where(Invitation.event_id == event_id)
            )
            assert found is None, (event_id, person)
    # and another resident's invitation is untouched by Marco's press on his own event
    await marco.press_data(f"ev:r:{mine.id}:n")
    assert (await invitation(core, mine.id, 5201)).answer == Answer.NO
    assert (await invitation(core, theirs.id, 5202)).answer is None


async def test_the_calendar_file_parses_and_carries_the_rome_time_and_the_map_pin_is_sent(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await operator(core, fake)
    li = await linked(core, fake, 5301, "zh", "Li Wei")
    zh = core.catalogs.translator("zh")
    event = await published(core, START, pin=(45.4512, 9.2367))
    await eventually(lambda: invitations(li, zh))
    await li.press(zh._("📅 Add to calendar"))
    name, content = li.last.document
    assert name == f"event-{event.id}.ics"
    calendar = Calendar.from_ical(content)
    (entry,) = calendar.walk("VEVENT")
    start = entry.decoded("dtstart")
    assert start == START and str(start.tzinfo) == "Europe/Rome"
    assert entry.decoded("dtend") - start == timedelta(hours=2)
    assert str(entry["summary"]) == "Festa del cortile"
    assert str(entry["location"]) == "Cortile scala B"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Rome"]
    assert li.last.caption == seen(zh, "Open this file to add the event to your phone's calendar.")

    await li.press(zh._("📍 Map"), message_id=li.messages[0].message_id)
    venue = fake.calls_to("sendVenue")[-1]
    assert (venue["latitude"], venue["longitude"]) == (45.4512, 9.2367)
    assert venue["address"] == "Cortile scala B" and venue["title"] == "Festa del cortile"


async def test_a_topic_is_proposed_confirmed_and_decided_by_an_operator(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    amina = await linked(core, fake, 5401, "ar", "Amina Haddad")
    ar, it = core.catalogs.translator("ar"), core.catalogs.translator("it")
    event = await published(core, START, title="Assemblea", kind=EventKind.ASSEMBLY)
    await eventually(lambda: invitations(amina, ar, EventKind.ASSEMBLY))
    approved = "✅ Your topic is on the agenda of {title}: {text}"
    declined = "Your topic for {title} was not added to the agenda this time: {text}"
    for number, topic, outcome in (
        (1, "Luce rotta in cantina", approved),
        (2, "Feste più spesso", declined),
    ):
        await amina.press(
            ar._("💡 Propose a topic for the agenda"), message_id=amina.messages[0].message_id
        )
        await amina.send("x" * 201)
        assert amina.last.text == seen(
            ar, "Please write the topic in at most {max} characters.", max=ar.number(200)
        )
        await amina.send(topic)
        assert amina.last.text == seen(
            ar, "Your topic: {text}\nSend it to the operators?", text=topic
        )
        await amina.press(ar._("✅ Send"))
        assert amina.last.text == seen(ar, "Thank you! The operators will read your proposal.")
        proposed = "💡 Topic proposed for the assembly {title} ({date}):\n{text}"
        notice = seen(it, proposed, title="Assemblea", date=it.date(START, "medium"), text=topic)
        await eventually(lambda n=notice: op.last is not None and op.last.text == n)
        await op.press(it._("✅ Add to the agenda") if outcome == approved else it._("❌ Decline"))
        await op.press_data(f"ev:pa:{number}")  # a second decision is refused
        assert fake.callback_answers[-1].get("text") == read(
            it._("This proposal was already decided.")
        )
        told = seen(ar, outcome, title="Assemblea", text=topic)
        await eventually(lambda told=told: told in [m.text for m in amina.messages])
    await amina.send("/events")
    agenda = amina.last.text or ""
    assert "• Pulizie\n• Parcheggio\n• Luce rotta in cantina" in agenda
    assert "Feste più spesso" not in agenda
    async with core.db.session() as session:
        statuses = list(await session.scalars(select(Proposal.status).order_by(Proposal.id)))
        assert [s.value for s in statuses] == ["approved", "declined"]

    # a cancelled proposal sends nothing
    await amina.press(
        ar._("💡 Propose a topic for the agenda"), message_id=amina.messages[0].message_id
    )
    await amina.send("Niente")
    await amina.press(ar._("❌ Cancel"))
    assert amina.last.text == seen(ar, "Cancelled. Nothing was sent.")
    assert [k for k, _ in await kinds(core)].count("event_proposal") == 2
    assert event.agenda == ["Pulizie", "Parcheggio"]  # as published; the topic was added later


def reads_right_to_left(text: str) -> bool:
    """Telegram takes a message's direction from its first strong character (RLM counts)."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL", "L"):
            return direction != "L"
    return False


async def test_an_event_card_reads_right_to_left_in_arabic_even_with_an_italian_title(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    """The card starts with the operator's title, here only in Italian: the resident's
    /events and an Arabic-speaking operator's card must still read right to left."""
    await operator(core, fake)
    amina = await linked(core, fake, 5501, "ar", "Amina Haddad")
    yusuf = await linked(core, fake, 9002, "ar", "Yusuf Operatore")
    await residents.set_role(core, 9002, Role.OPERATOR)
    ar = core.catalogs.translator("ar")
    event = await published(core, START)
    await eventually(lambda: invitations(amina, ar))
    assert reads_right_to_left(invitations(amina, ar)[0])
    await amina.send("/events")
    assert "Festa del cortile" in (amina.last.text or "")
    assert reads_right_to_left(amina.last.text or "")
    await yusuf.send("/events")
    await yusuf.press(ar._("Open #{id}", id=event.id))
    assert "Festa del cortile" in (yusuf.last.text or "")
    assert reads_right_to_left(yusuf.last.text or "")


@pytest.mark.parametrize("linked_record", [False, True], ids=["chat only", "linked record"])
async def test_a_place_freed_by_deleting_ones_data_goes_to_the_first_waiting(
    harness: Harness, core: Core, fake: FakeBotAPI, linked_record: bool
):
    """/delete erases the chat's answers to events to come (a chat without a tenant record
    goes whole; a linked record stays with the office, without them): the place held is given
    by the scheduler's sweep, and the one waiting is told."""
    await operator(core, fake)
    if linked_record:
        await linked(core, fake, 5601, "it", "Olena Kovalenko")
        guest = await residents.find(core, 5601)
        assert guest is not None
    else:
        guest = await residents.touch(core, 5601, 5601, "it")
        await residents.give_consent(core, guest.id, "Olena")
    sara = await linked(core, fake, 5602, "es", "Sara Neri")
    es = core.catalogs.translator("es")
    event = await published(core, START, capacity=1, audience="role:resident")
    await eventually(lambda: invitations(sara, es))
    await event_rsvp.answer(core, event.id, guest.id, Answer.YES)
    await sara.press(es._("✅ Yes"))
    assert (await invitation(core, event.id, 5602)).waiting
    await residents.forget(core, 5601)  # /delete
    promoted = "🎉 A place is free for you: {title}, {when}. See you there!"
    notice = seen(es, promoted, title="Festa del cortile", when=es.moment(START))
    await eventually(lambda: notice in [m.text for m in sara.messages])
    assert not (await invitation(core, event.id, 5602)).waiting
    assert await event_rsvp.fill_free_places(core) == 0  # nothing more to give


async def test_a_topic_is_not_decided_once_the_assembly_is_cancelled(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    """A proposal left pending when the assembly is cancelled: adding it to the agenda then
    would tell the resident their topic is on the agenda of an assembly that will not be."""
    op = await operator(core, fake)
    amina = await linked(core, fake, 5701, "it", "Amina Haddad")
    it = core.catalogs.translator("it")
    event = await published(core, START, title="Assemblea", kind=EventKind.ASSEMBLY)
    await eventually(lambda: invitations(amina, it, EventKind.ASSEMBLY))
    await amina.press(it._("💡 Propose a topic for the agenda"))
    await amina.send("Luce rotta in cantina")
    await amina.press(it._("✅ Send"))
    await eventually(lambda: it._("✅ Add to the agenda") in op.buttons)
    await events.cancel(core, event.id, event.author_id)
    await op.press(it._("✅ Add to the agenda"))
    assert fake.callback_answers[-1].get("text") == read(
        it._("This event can no longer be changed.")
    )
    await settled(core)
    assert (await events.get(core, event.id)).agenda == ["Pulizie", "Parcheggio"]
    approved = "✅ Your topic is on the agenda of {title}: {text}"
    told = seen(it, approved, title="Assemblea", text="Luce rotta in cantina")
    assert told not in [m.text for m in amina.messages]


async def test_after_a_move_the_calendar_file_updates_the_entry_already_on_the_phone(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    """Same UID, new time: calendars take it as an update only with a higher SEQUENCE
    (RFC 5545), else the phone keeps the old time and the resident comes at the wrong hour."""
    await operator(core, fake)
    li = await linked(core, fake, 5801, "zh", "Li Wei")
    zh = core.catalogs.translator("zh")
    event = await published(core, START)
    await eventually(lambda: invitations(li, zh))
    await li.press(zh._("✅ Yes"))
    await li.press(zh._("📅 Add to calendar"), message_id=li.messages[0].message_id)
    (before,) = Calendar.from_ical(li.last.document[1]).walk("VEVENT")
    moved = START + timedelta(days=1, hours=1)
    await events.move(core, event.id, moved, event.author_id)
    await li.press(zh._("📅 Add to calendar"), message_id=li.messages[0].message_id)
    (after,) = Calendar.from_ical(li.last.document[1]).walk("VEVENT")
    assert str(after["uid"]) == str(before["uid"])
    assert after.decoded("dtstart") == moved
    assert int(after.get("sequence", 0)) > int(before.get("sequence", 0))
