"""Residents and job training through the real Application: the sign-up form in Italian,
Arabic and Chinese, status, withdrawal, and the waiting list's offers (accepted, declined,
expired) sent through the delivery path and the scheduler's sweep."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.models import Delivery, DeliveryStatus, PlanAlert
from bot.services import residents, training
from tests.conftest import ROME
from tests.support import (
    COURSE_START,
    Harness,
    course,
    enrollment_statuses,
    eventually,
    filled,
    intake,
    linked,
    plan,
    read,
    seen,
    settled,
    staff,
    texts,
)

START = COURSE_START


@pytest.fixture(autouse=True)
def every_press_answered(fake: FakeBotAPI) -> Iterator[None]:
    """No button press may leave the resident's or operator's client spinning."""
    yield
    assert fake.unanswered_callback_queries == []


OFFER = (
    "🎉 A place is free for you in <b>{course}</b>: do you take it?\nPlease answer by {deadline}."
)
WAITING = (
    "You are number {n} on the waiting list for <b>{course}</b>. When a place is free, we will "
    "write to you here."
)
ENROLLED = "✅ You are enrolled in <b>{course}</b>.\nFirst session: {when}\nPlace: {place}"


def reads_right_to_left(text: str) -> bool:
    """The first strong character decides the direction Telegram gives the message."""
    for char in text:
        if unicodedata.bidirectional(char) in ("R", "AL"):
            return True
        if unicodedata.bidirectional(char) == "L":
            return False
    return False


async def test_the_whole_form_in_italian_with_back_bad_numbers_edit_and_a_restart(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    cooking = await course(core)
    marco = await linked(core, fake, 5001, "it", "Marco Rossi")
    it = core.catalogs.translator("it")
    await marco.send(it._("📚 Training"))
    listing = marco.last.text or ""
    assert "Cucina professionale" in listing and "AFOL Metropolitana" in listing
    assert read(it.n_("✅ {n} place free", "✅ {n} places free", 2)) in listing
    assert it.moment(START) in listing and "lunedì e mercoledì 9-12" in listing
    await marco.press("Cucina professionale")
    assert marco.last.text == seen(
        it,
        "Is this your full name? <b>{name}</b>\nIf not, write your name and surname.",
        name="Marco Rossi",
    )
    assert marco.buttons == [it._("✅ Yes"), it._("⬅️ Back"), it._("❌ Cancel")]
    await marco.send("333 123 4567")  # the phone number, one question early
    assert texts(marco)[-2] == seen(it, "Please write your name and surname, in letters.")
    await marco.send("Marco Antonio Rossi")  # a typed name replaces the known one
    assert it._("📱 Share my phone number") in marco.keyboard
    for wrong in ("12345", "+39 12", "telefono"):
        await marco.send(wrong)
        assert texts(marco)[-2] == seen(
            it,
            "This does not look like a phone number. Write it with digits only, for example 333 "
            "123 4567, or +212 612 345 678 for a number from abroad.",
        )
    await marco.tap(it._("⬅️ Back"))  # back to the name
    assert marco.last.text == seen(
        it,
        "Is this your full name? <b>{name}</b>\nIf not, write your name and surname.",
        name="Marco Antonio Rossi",
    )
    await marco.press(it._("✅ Yes"))
    await marco.send("333 123 4567")
    assert texts(marco)[-2] == seen(it, "Phone number: {phone}", phone="+393331234567")
    assert it._("📚 Training") in marco.keyboard  # the main menu is back
    await marco.press(it._("Done"))  # nothing ticked yet
    assert texts(marco)[-2] == seen(
        it, "Please tap at least one: mornings, afternoons or evenings."
    )
    await marco.press("⬜ " + it._("Mornings"))
    await marco.press("⬜ " + it._("Evenings"))
    await marco.press("☑️ " + it._("Mornings"))  # untick
    assert marco.buttons[:3] == [
        "⬜ " + it._("Mornings"),
        "⬜ " + it._("Afternoons"),
        "☑️ " + it._("Evenings"),
    ]
    await marco.press(it._("Done"))
    assert marco.last.text == seen(it, "What is the highest school you finished?")

    await harness.restart()  # a deploy in the middle: the form resumes at the same question
    await marco.send("/training")
    assert texts(marco)[-2] == seen(it, "Let's go on with your sign-up where you left off.")
    assert marco.last.text == seen(it, "What is the highest school you finished?")
    await marco.send("diploma")  # typed where a button is expected
    assert texts(marco)[-2] == seen(it, "Please answer with the buttons.")
    await marco.press(it._("Secondary school diploma"))
    await marco.press(it._("⬅️ Back"))  # the work question -> back to school
    await marco.press(it._("Middle school"))
    await marco.press(it._("Kitchens and restaurants"))
    await marco.send("Ho lavorato in pizzeria")
    summary = marco.last.text or ""
    assert "Marco Antonio Rossi" in summary and "+393331234567" in summary
    assert it._("Evenings") in summary and it._("Middle school") in summary
    assert "Ho lavorato in pizzeria" in summary
    await marco.press(it._("✏️ Edit"))
    await marco.press("📱 " + it._("Phone"))
    await marco.send("02 1234567")
    assert "+39021234567" in (marco.last.text or "")  # straight back to the summary
    await marco.press(it._("✅ Confirm"))

    assert texts(marco)[-2] == seen(
        it,
        ENROLLED,
        course="Cucina professionale",
        when=it.moment(START),
        place="Via Rizzoli 8, Milano",
    )
    calendar = marco.last
    assert calendar.document is not None and calendar.document[0] == f"course-{cooking.id}.ics"
    assert b"DTSTART;TZID=Europe/Rome:20261201T093000" in (calendar.document[1] or b"")
    row = (await training.mine(core, (await _id(core, 5001))))[0].enrollment
    assert (row.name, row.phone, row.availability, row.schooling, row.work, row.work_note) == (
        "Marco Antonio Rossi",
        "+39021234567",
        "evening",
        "middle",
        "kitchen",
        "Ho lavorato in pizzeria",
    )
    # status at any time
    await marco.send("/training")
    assert seen(it, "• {course}: you are enrolled", course="Cucina professionale") in (
        marco.last.text or ""
    )


async def _id(core: Core, telegram_id: int) -> int:
    resident = await residents.find(core, telegram_id)
    assert resident is not None
    return resident.id


async def test_arabic_cancel_then_the_waiting_list_and_a_double_sign_up(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await course(core, "Pulizie professionali", capacity=1)
    first = await linked(core, fake, 5101, "it", "Anna Bianchi")
    await filled(core, first, core.catalogs.translator("it"), "Pulizie professionali")
    await first.press(core.catalogs.translator("it")._("✅ Confirm"))
    amina = await linked(core, fake, 5102, "ar", "Amina Haddad")
    ar = core.catalogs.translator("ar")
    await amina.send(ar._("📚 Training"))
    listing = amina.last.text or ""
    assert reads_right_to_left(listing)
    assert (
        read(ar.n_("⏳ Full. Waiting list: {n} person", "⏳ Full. Waiting list: {n} people", 0))
        in listing
    )
    await amina.press("Pulizie professionali")
    await amina.press(ar._("✅ Yes"))
    await amina.send("١٢٣")  # too short, in Arabic-Indic digits
    hint = texts(amina)[-2]
    assert hint == seen(
        ar,
        "This does not look like a phone number. Write it with digits only, for example 333 "
        "123 4567, or +212 612 345 678 for a number from abroad.",
    )
    assert reads_right_to_left(hint)
    await amina.tap(ar._("❌ Cancel"))
    assert amina.last.text == seen(ar, "Cancelled. You are not signed up.")
    assert await enrollment_statuses(core) == {"Anna Bianchi": "enrolled"}

    await filled(core, amina, ar, "Pulizie professionali")
    assert "+393331234567" in (amina.last.text or "")
    await amina.press(ar._("✏️ Edit"))
    await amina.press("📱 " + ar._("Phone"))
    await amina.send("٠٠٢١٢ ٦١٢ ٣٤٥ ٦٧٨")  # typed on an Arabic keyboard
    assert "+212612345678" in (amina.last.text or "")
    await amina.press(ar._("✅ Confirm"))
    assert amina.last.text == seen(ar, WAITING, n=ar.number(1), course="Pulizie professionali")
    assert reads_right_to_left(amina.last.text or "")
    # a second sign-up for the same course is refused at once
    await amina.send(ar._("📚 Training"))
    await amina.press("Pulizie professionali")
    assert amina.last.text == seen(
        ar, "You are already signed up for this course. /training shows your sign-ups."
    )
    assert await enrollment_statuses(core) == {
        "Anna Bianchi": "enrolled",
        "Amina Haddad": "waiting",
    }


async def test_chinese_withdrawal_offers_the_place_to_the_next_who_accepts(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await course(core, "Magazzino e logistica", capacity=1)
    li = await linked(core, fake, 5201, "zh", "Li Wei")
    zh = core.catalogs.translator("zh")
    await filled(core, li, zh, "Magazzino e logistica")
    await li.press(zh._("✅ Confirm"))
    assert texts(li)[-2] == seen(
        zh,
        ENROLLED,
        course="Magazzino e logistica",
        when=zh.moment(START),
        place="Via Rizzoli 8, Milano",
    )
    assert any("\u4e00" <= ch <= "\u9fff" for ch in texts(li)[-2])
    sara = await linked(core, fake, 5202, "it", "Sara Neri")
    it = core.catalogs.translator("it")
    await filled(core, sara, it, "Magazzino e logistica")
    await sara.press(it._("✅ Confirm"))

    await li.send("/training")
    await li.press(zh._("📋 My sign-ups"))
    await li.press(zh._("Withdraw: {course}", course="Magazzino e logistica"))
    confirm = li.last
    await li.press_data("tr:wdn", confirm.message_id)  # "No, stay", tapped twice
    await li.press_data("tr:wdn", confirm.message_id)
    assert li.last.text == seen(zh, "All right, nothing has changed.")
    assert seen(zh, "Sorry, something went wrong. Please try again.") not in texts(li)
    await li.press(zh._("Withdraw: {course}", course="Magazzino e logistica"))
    await li.press(zh._("Yes, withdraw"))
    assert li.last.text == seen(
        zh, "You have withdrawn from {course}.", course="Magazzino e logistica"
    )

    await eventually(lambda: it._("✅ Yes, I take it") in sara.buttons)
    deadline = core.clock.now() + timedelta(hours=48)
    assert sara.last.text == seen(
        it, OFFER, course="Magazzino e logistica", deadline=it.moment(deadline)
    )
    await sara.press(it._("✅ Yes, I take it"))
    assert texts(sara)[-2] == seen(
        it,
        ENROLLED,
        course="Magazzino e logistica",
        when=it.moment(START),
        place="Via Rizzoli 8, Milano",
    )
    assert sara.last.document is not None  # the calendar file
    assert await enrollment_statuses(core) == {"Li Wei": "withdrawn", "Sara Neri": "enrolled"}
    # the offer, answered, cannot be answered again (a replayed button)
    offer = (await training.mine(core, await _id(core, 5202)))[0].enrollment.id
    await sara.press_data(f"tr:of:{offer}:n")
    assert sara.last.text == seen(it, "This offer is no longer valid.")
    assert await enrollment_statuses(core) == {"Li Wei": "withdrawn", "Sara Neri": "enrolled"}


async def test_a_declined_offer_and_an_expired_one_pass_the_place_on(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    cooking = await course(core, capacity=1)
    people = [await linked(core, fake, 5300 + i, "it", f"Persona {i}") for i in range(4)]
    ids = [await _id(core, 5300 + i) for i in range(4)]
    for number, resident_id in enumerate(ids):
        await training.sign_up(core, resident_id, cooking.id, intake(f"Persona {number}"))
    it = core.catalogs.translator("it")
    first = (await training.mine(core, ids[0]))[0].enrollment.id
    await training.withdraw(core, ids[0], first)
    harness.app.sender.wake()
    await eventually(lambda: it._("❌ No, thank you") in people[1].buttons)
    await people[1].press(it._("❌ No, thank you"))
    assert people[1].last.text == seen(it, "All right. The place goes to the next person.")
    await eventually(lambda: it._("✅ Yes, I take it") in people[2].buttons)
    # nobody answers: the sweep expires the offer after 48 hours and passes it on
    clock.advance(timedelta(hours=48, minutes=1))
    expired = (
        "⌛ You did not answer in time, so the place in <b>{course}</b> went to the next person "
        "on the list. You can sign up again with /training ."
    )
    await eventually(lambda: seen(it, expired, course="Cucina professionale") in texts(people[2]))
    await eventually(lambda: it._("✅ Yes, I take it") in people[3].buttons)
    # the expired offer's button no longer works
    await people[2].press(it._("✅ Yes, I take it"))
    assert people[2].last.text == seen(it, "This offer is no longer valid.")
    assert await enrollment_statuses(core) == {
        "Persona 0": "withdrawn",
        "Persona 1": "declined",
        "Persona 2": "expired",
        "Persona 3": "offered",
    }
    # each step is logged for operators, in order
    history = [
        (name, event.event)
        for event, name in await training.history(
            core, cooking.id, operator_id=(await staff(core)).id
        )
    ]
    assert list(reversed(history))[-6:] == [
        ("Persona 0", "withdrawn"),
        ("Persona 1", "offered"),
        ("Persona 1", "declined"),
        ("Persona 2", "offered"),
        ("Persona 2", "expired"),
        ("Persona 3", "offered"),
    ]


async def test_the_day_before_reminder_is_sent_once(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    cooking = await course(core)
    marco = await linked(core, fake, 5401, "it", "Marco Rossi")
    await training.sign_up(core, await _id(core, 5401), cooking.id, intake("Marco Rossi"))
    it = core.catalogs.translator("it")
    reminder = seen(
        it,
        "⏰ Reminder: the course <b>{course}</b> starts tomorrow, {when}, at {place}.",
        course="Cucina professionale",
        when=it.moment(START),
        place="Via Rizzoli 8, Milano",
    )
    clock.set(START - timedelta(days=2))
    assert await training.plan_reminders(core) == 0  # not yet
    clock.set(START - timedelta(hours=23))
    await eventually(lambda: reminder in texts(marco))
    await harness.restart()
    clock.advance(timedelta(hours=1))
    assert await training.plan_reminders(core) == 0
    async with core.db.session() as session:
        count = await session.scalar(select(func.count()).where(Delivery.kind == training.REMINDER))
    assert count == 1
    assert texts(marco).count(reminder) == 1


async def test_a_postponed_course_is_told_and_reminded_for_its_new_date(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    cooking = await course(core)
    amina = await linked(core, fake, 5411, "ar", "Amina Haddad")
    await training.sign_up(core, await _id(core, 5411), cooking.id, intake("Amina Haddad"))
    ar = core.catalogs.translator("ar")
    later = START + timedelta(days=7)
    await training.update_course(
        core, cooking.id, operator_id=(await staff(core)).id, starts_at=later, place="Via Roma 1"
    )
    changed = seen(
        ar,
        "📅 The course <b>{course}</b> has changed: the first session is now {when}, at "
        "{place}.",
        course="Cucina professionale",
        when=ar.moment(later),
        place="Via Roma 1",
    )
    await eventually(lambda: changed in texts(amina))
    await training.update_course(
        core, cooking.id, operator_id=(await staff(core)).id, schedule="martedì 9-12"
    )  # not told
    await settled(core)  # nothing in flight when the pinned clock jumps past the send lease
    clock.set(START - timedelta(hours=23))  # the old date: no reminder any more
    assert await training.plan_reminders(core) == 0
    clock.set(later - timedelta(hours=23))
    await eventually(lambda: any("⏰" in text for text in texts(amina)))
    reminder = seen(
        ar,
        "⏰ Reminder: the course <b>{course}</b> starts tomorrow, {when}, at {place}.",
        course="Cucina professionale",
        when=ar.moment(later),
        place="Via Roma 1",
    )
    assert [text for text in texts(amina) if "⏰" in text] == [reminder]
    assert texts(amina).count(changed) == 1
    harness.check()


async def test_a_place_freed_by_deleting_ones_data_is_offered_by_the_sweep(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    open_to_all = await course(core, capacity=1, allow_unlinked=True)
    guest = await residents.touch(core, 5501, 5501, "it")
    await residents.give_consent(core, guest.id, "Olena")
    await training.sign_up(core, guest.id, open_to_all.id, intake("Olena"))
    waiting = await linked(core, fake, 5502, "it", "Sara Neri")
    await training.sign_up(core, await _id(core, 5502), open_to_all.id, intake("Sara Neri"))
    await residents.forget(core, 5501)  # /delete: the sign-up goes with the chat's data
    it = core.catalogs.translator("it")
    await eventually(lambda: it._("✅ Yes, I take it") in waiting.buttons)
    assert await enrollment_statuses(core) == {"Sara Neri": "offered"}


async def test_a_linked_resident_who_deletes_their_data_leaves_the_course(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    cooking = await course(core, capacity=1)
    marco = await linked(core, fake, 5511, "it", "Marco Rossi")
    await training.sign_up(core, await _id(core, 5511), cooking.id, intake("Marco Rossi"))
    waiting = await linked(core, fake, 5512, "it", "Sara Neri")
    await training.sign_up(core, await _id(core, 5512), cooking.id, intake("Sara Neri"))
    it = core.catalogs.translator("it")
    await marco.send("/delete")
    await marco.press(it._("🗑 Yes, delete"))
    # the tenant record stays with the office, but not the phone and answers of the sign-up
    await eventually(lambda: it._("✅ Yes, I take it") in waiting.buttons)
    assert await enrollment_statuses(core) == {"Sara Neri": "offered"}


async def test_no_sign_up_before_the_privacy_notice(harness: Harness, core: Core, fake: FakeBotAPI):
    open_to_all = await course(core, capacity=1, allow_unlinked=True)
    stranger = fake.user(5601, first_name="Ali", language_code="it")
    await stranger.send("/start")  # the privacy notice is shown, not yet accepted
    await stranger.press_data(f"tr:sign:{open_to_all.id}")  # a forged button
    it = core.catalogs.translator("it")
    assert stranger.last.text == seen(it, "Send /start to begin.")
    assert await enrollment_statuses(core) == {}


async def test_an_evening_course_held_by_quiet_hours_is_reminded_as_today(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    evening = datetime(2026, 12, 1, 20, 30, tzinfo=ROME)
    late = await course(core, "Italiano per il lavoro", starts_at=evening)
    li = await linked(core, fake, 5701, "zh", "Li Wei")
    await training.sign_up(core, await _id(core, 5701), late.id, intake("Li Wei"))
    clock.set(evening - timedelta(hours=23))  # 21:30 the day before: quiet hours, it waits
    await training.plan_reminders(core)  # (the sweep may have done it already: same row)
    async with core.db.session() as session:
        held = await session.scalar(
            select(Delivery.status).where(Delivery.kind == training.REMINDER)
        )
    assert held == DeliveryStatus.PENDING  # held back until the quiet hours end
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=ROME))
    harness.app.sender.wake()
    zh = core.catalogs.translator("zh")
    today = seen(
        zh,
        "⏰ Reminder: the course <b>{course}</b> starts today, {when}, at {place}.",
        course="Italiano per il lavoro",
        when=zh.moment(evening),
        place="Via Rizzoli 8, Milano",
    )
    await eventually(lambda: today in texts(li))


async def test_a_resident_who_turned_notices_off_answers_the_offer_from_the_status(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    cooking = await course(core, capacity=1)
    first = await linked(core, fake, 5801, "it", "Anna Bianchi")
    quiet = await linked(core, fake, 5802, "it", "Omar Saleh")
    await training.sign_up(core, await _id(core, 5801), cooking.id, intake("Anna Bianchi"))
    await training.sign_up(core, await _id(core, 5802), cooking.id, intake("Omar Saleh"))
    await quiet.send("/stop")
    it = core.catalogs.translator("it")
    await first.send("/training")
    await first.press(it._("📋 My sign-ups"))
    await first.press(it._("Withdraw: {course}", course="Cucina professionale"))
    await first.press(it._("Yes, withdraw"))
    assert await enrollment_statuses(core) == {"Anna Bianchi": "withdrawn", "Omar Saleh": "offered"}
    await quiet.send("/training")  # the offer notice is not sent to who turned notices off...
    assert seen(
        it,
        "• {course}: a place is waiting for you, answer by {deadline}",
        course="Cucina professionale",
        deadline=it.moment(core.clock.now() + timedelta(hours=48)),
    ) in (quiet.last.text or "")
    await quiet.press(it._("📋 My sign-ups"))  # ...who can still answer it here
    await quiet.press(it._("✅ Yes, I take it"))
    assert await enrollment_statuses(core) == {
        "Anna Bianchi": "withdrawn",
        "Omar Saleh": "enrolled",
    }


async def test_many_long_courses_fit_in_one_list_and_all_can_be_chosen(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    for number in range(12):
        await course(core, f"Corso {number:02d}", description="Descrizione lunga. " * 15)
    marco = await linked(core, fake, 5901, "it", "Marco Rossi")
    await marco.send("/training")
    assert len(marco.last.text or "") < 4096  # the fake Bot API would refuse a longer one
    assert marco.buttons == [f"Corso {number:02d}" for number in range(12)]
    await marco.press("Corso 11")
    it = core.catalogs.translator("it")
    signing_up = texts(marco)[-2]  # the course's card comes with the first question
    assert signing_up.startswith(seen(it, "Sign-up for <b>{course}</b>", course="Corso 11"))
    assert "Descrizione lunga." in signing_up


async def test_the_phone_keyboard_left_on_screen_after_back_still_means_back_and_cancel(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await course(core)
    li = await linked(core, fake, 5951, "zh", "Li Wei")
    zh = core.catalogs.translator("zh")
    await li.send(zh._("📚 Training"))
    await li.press("Cucina professionale")
    await li.press(zh._("✅ Yes"))
    await li.tap(zh._("⬅️ Back"))  # back to the name; the phone keyboard is still there
    assert zh._("❌ Cancel") in li.keyboard
    await li.tap(zh._("❌ Cancel"))  # not a name
    assert li.last.text == seen(zh, "Cancelled. You are not signed up.")
    assert zh._("📚 Training") in li.keyboard

    await filled(core, li, zh, "Cucina professionale")  # up to the summary
    await li.press(zh._("✏️ Edit"))
    await li.press("📱 " + zh._("Phone"))
    await li.tap(zh._("⬅️ Back"))  # back to the summary, the phone keyboard stays
    await li.tap(zh._("⬅️ Back"))  # from the summary: the note question, not a hint
    assert li.last.text == seen(
        zh, "Anything to add about the work you look for? Write it, or tap Skip."
    )
    await li.tap(zh._("❌ Cancel"))  # not a note
    assert li.last.text == seen(zh, "Cancelled. You are not signed up.")
    assert await enrollment_statuses(core) == {}


async def test_another_menu_button_mid_form_works_and_training_resumes_the_form(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await course(core)
    amina = await linked(core, fake, 5961, "ar", "Amina Haddad")
    ar = core.catalogs.translator("ar")
    await amina.send(ar._("📚 Training"))
    await amina.press("Cucina professionale")
    await amina.press(ar._("✅ Yes"))
    await amina.send_contact("+39 333 123 4567")
    assert amina.last.text == seen(ar, "When can you come? Tap all that fit, then Done.")
    await amina.send(ar._("❓ Help"))  # the menu stays on screen during the form
    help_text = amina.last.text or ""
    assert seen(ar, "/training – job-training courses: sign up, see your place") in help_text
    assert seen(ar, "Please answer with the buttons.") not in texts(amina)
    await amina.send(ar._("📚 Training"))  # the form waited, at the same question
    assert texts(amina)[-2] == seen(ar, "Let's go on with your sign-up where you left off.")
    assert amina.last.text == seen(ar, "When can you come? Tap all that fit, then Done.")
    await amina.press("⬜ " + ar._("Evenings"))
    await amina.press(ar._("Done"))
    await amina.press(ar._("Primary school"))
    await amina.press(ar._("Any work"))
    await amina.press(ar._("Skip"))
    await amina.press(ar._("✅ Confirm"))
    assert await enrollment_statuses(core) == {"Amina Haddad": "enrolled"}
    assert fake.unanswered_callback_queries == []


async def test_training_tapped_while_writing_a_note_for_the_office_ends_that_request(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await course(core)
    amina = await linked(core, fake, 5971, "it", "Amina Haddad")
    await plan(core, "T5971", [(date(2026, 11, 5), 40000)])
    it = core.catalogs.translator("it")
    await amina.send("/payments")
    await amina.press(it._("📞 I cannot pay / call me"))  # asks for an optional note
    await amina.send(it._("📚 Training"))  # the menu, not a note
    assert "Cucina professionale" in amina.buttons
    await amina.send("grazie")  # later, not a note either
    async with core.db.session() as session:
        assert list(await session.scalars(select(PlanAlert))) == []


async def test_after_a_restart_the_question_on_screen_still_answers(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await course(core)
    li = await linked(core, fake, 5981, "zh", "Li Wei")
    zh = core.catalogs.translator("zh")
    await li.send(zh._("📚 Training"))
    await li.press("Cucina professionale")
    await li.press(zh._("✅ Yes"))
    await harness.restart()  # a deploy while the phone question is on screen
    await li.send("12")  # the stored conversation takes the answer: a hint, not the menu
    assert texts(li)[-2] == seen(
        zh,
        "This does not look like a phone number. Write it with digits only, for example 333 "
        "123 4567, or +212 612 345 678 for a number from abroad.",
    )
    await li.send("333 123 4567")
    await harness.restart()
    await li.press("⬜ " + zh._("Mornings"))  # a button of the question shown before the restart
    await li.press(zh._("Done"))
    assert li.last.text == seen(zh, "What is the highest school you finished?")


async def test_a_double_tap_on_back_goes_back_once(harness: Harness, core: Core, fake: FakeBotAPI):
    await course(core)
    amina = await linked(core, fake, 5991, "ar", "Amina Haddad")
    ar = core.catalogs.translator("ar")
    await amina.send(ar._("📚 Training"))
    await amina.press("Cucina professionale")
    await amina.press(ar._("✅ Yes"))
    await amina.send("333 123 4567")
    await amina.press("⬜ " + ar._("Mornings"))
    await amina.press(ar._("Done"))
    await amina.press(ar._("Primary school"))
    work = amina.last
    assert work.text == seen(ar, "What kind of work are you looking for?")
    rows = work.raw["reply_markup"]["inline_keyboard"]
    back = next(b["callback_data"] for row in rows for b in row if b["text"] == ar._("⬅️ Back"))
    await amina.press_data(back, work.message_id)  # two taps on a slow phone:
    await amina.press_data(back, work.message_id)  # both reach the bot
    assert amina.last.text == seen(ar, "What is the highest school you finished?")
    assert seen(ar, "Sorry, something went wrong. Please try again.") not in texts(amina)
    await amina.press(ar._("Middle school"))
    assert amina.last.text == seen(ar, "What kind of work are you looking for?")


async def test_a_double_tap_on_an_offer_is_answered_without_an_error(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    cooking = await course(core, capacity=1)
    names = ("Li Wei", "Sara Neri", "Omar Saleh")
    people = [await linked(core, fake, 6001 + i, "it", name) for i, name in enumerate(names)]
    ids = [await _id(core, 6001 + i) for i in range(3)]
    for resident_id, name in zip(ids, names, strict=True):
        await training.sign_up(core, resident_id, cooking.id, intake(name))
    placed = (await training.mine(core, ids[0]))[0].enrollment.id
    await training.withdraw(core, ids[0], placed)
    harness.app.sender.wake()
    it = core.catalogs.translator("it")
    for user, resident_id, choice in ((people[1], ids[1], "n"), (people[2], ids[2], "y")):
        await eventually(lambda user=user: it._("✅ Yes, I take it") in user.buttons)
        offer = user.last
        row = (await training.mine(core, resident_id))[0].enrollment.id
        await user.press_data(f"tr:of:{row}:{choice}", offer.message_id)  # two taps on a
        await user.press_data(f"tr:of:{row}:{choice}", offer.message_id)  # slow phone
        assert seen(it, "This offer is no longer valid.") not in texts(user)  # just answered
        assert seen(it, "Sorry, something went wrong. Please try again.") not in texts(user)
    assert await enrollment_statuses(core) == {
        "Li Wei": "withdrawn",
        "Sara Neri": "declined",
        "Omar Saleh": "enrolled",
    }
    assert texts(people[1]).count(seen(it, "All right. The place goes to the next person.")) == 1
