"""Residents and their repayment plan: "My payments", reminders, "I cannot pay / call me"."""

from __future__ import annotations

import asyncio
import unicodedata
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from bot.clock import FixedClock
from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeUser
from bot.models import Delivery, PlanAlert, PlanStatus, RepaymentPlan, Resident, Role
from bot.services import plans, residents
from handlers.menu import help_text
from handlers.payments import CLOSED
from tests.conftest import ROME
from tests.support import Harness, eventually, linked, plan, read, seen, staff

HELP = "📞 I cannot pay / call me"
TEASER = "🔔 You have a new message from the QMondo office: tap to read."


def first_strong(text: str) -> str | None:
    for char in text:
        if unicodedata.bidirectional(char) in ("L", "R", "AL"):
            return unicodedata.bidirectional(char)
    return None


async def amina(core: Core, fake: FakeBotAPI, locale: str = "it") -> FakeUser:
    """Linked, with a plan: one instalment 20 days late (no reminder point falls on the clock's
    25/11/2026), two to come."""
    user = await linked(core, fake, 5001, locale, "Amina Haddad")
    await plan(
        core,
        "T5001",
        [(date(2026, 11, 5), 40000), (date(2026, 12, 15), 40000), (date(2027, 1, 15), 123456)],
        reference="PR-2026-014",
    )
    return user


async def operator(core: Core, fake: FakeBotAPI, user_id: int = 9001, locale: str = "it"):
    user = await linked(core, fake, user_id, locale, f"Operatore {user_id}", building="Z")
    await residents.set_role(core, user_id, Role.OPERATOR)
    return user


async def test_my_payments_in_italian_with_money_and_dates_the_italian_way(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = await amina(core, fake)
    it = core.catalogs.translator("it")
    await user.send(it._("💶 My payments"))  # the menu button
    message = user.last
    assert message.protect_content
    assert message.buttons == [it._(HELP)]
    text = message.text or ""
    assert text.startswith(
        seen(it, "<b>Your repayment plan {reference}</b>", reference="PR-2026-014")
    )
    assert "400,00\xa0€" in text and "1.234,56\xa0€" in text
    assert seen(it, "Next instalment: <b>{amount}</b> by {date} ({when}).",
                amount="400,00\xa0€", date="5 novembre 2026",
                when=it.n_("{n} day late", "{n} days late", 20)) in text  # fmt: skip
    assert seen(it, "Paid so far: {amount}", amount="0,00\xa0€") in text
    assert seen(it, "Still to pay: {amount}", amount=it.money(203456)) in text
    await user.send("/payments")
    assert user.last.text == text


async def test_my_payments_in_arabic_reads_right_to_left_and_in_chinese(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = await amina(core, fake, "ar")
    ar = core.catalogs.translator("ar")
    await user.send("/payments")
    text = user.last.text or ""
    assert user.last.protect_content
    for line in filter(None, text.split("\n")):
        assert first_strong(line) in ("R", "AL"), line  # Telegram sets the direction from it
    assert ar.money(40000) in text and ar.date(date(2026, 11, 5), "long") in text
    assert "\u2068" in (user.last.raw_text or "")  # amounts and codes isolated left-to-right

    li = await linked(core, fake, 5002, "zh", "Li Wei")
    await plan(core, "T5002", [(date(2026, 12, 1), 15025)])
    zh = core.catalogs.translator("zh")
    await li.send("/payments")
    assert zh.money(15025) in (li.last.text or "")
    assert zh.n_("in {n} day", "in {n} days", 6) in (li.last.text or "")


async def test_partial_payments_show_as_such(harness: Harness, core: Core, fake: FakeBotAPI):
    user = await amina(core, fake)
    office = (await staff(core)).id
    schedule = (await plans.search(core, "T5001", operator_id=office))[0]
    await plans.record_payment(
        core, schedule.plan.id, 50000, date(2026, 11, 20), 0, operator_id=office
    )
    it = core.catalogs.translator("it")
    await user.send("/payments")
    text = user.last.text or ""
    assert seen(it, "Paid so far: {amount}", amount=it.money(50000)) in text
    assert seen(it, "paid so far: {paid}", paid=it.money(10000)) in text  # instalment 2
    assert seen(it, "Next instalment: <b>{amount}</b> by {date} ({when}).",
                amount=it.money(30000), date=it.date(date(2026, 12, 15), "long"),
                when=it.n_("in {n} day", "in {n} days", 20)) in text  # fmt: skip


async def test_unlinked_residents_get_only_how_to_link(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    stranger = fake.user(5100, first_name="Sara", language_code="it")
    await stranger.send("/start")
    await stranger.send("/payments")
    assert stranger.last.text is not None and "/start" in stranger.last.text  # no consent yet
    it = core.catalogs.translator("it")
    unlinked = await linked(core, fake, 5102, "it")
    async with core.db.session.begin() as session:
        await session.execute(
            update(Resident).where(Resident.telegram_user_id == 5102).values(tenant_code=None)
        )
    await unlinked.send("/payments")
    assert unlinked.last.text == seen(
        it,
        "To see your payments, this chat must be linked to your tenant record. Ask the "
        "QMondo office for your personal code, then send /link followed by the code, or "
        "scan the QR code on your letter.",
    )


async def test_forged_buttons_and_group_chats_get_nothing(
    harness: Harness, core: Core, fake: FakeBotAPI, clock: FixedClock
):
    owner = await amina(core, fake)
    other = await linked(core, fake, 5002, "it", "Marco Rossi")
    schedule = (await plans.search(core, "T5001", operator_id=(await staff(core)).id))[0]
    instalment = schedule.instalments[0].id
    it = core.catalogs.translator("it")
    await other.press_data(f"pay:read:{instalment}")  # no message of ours in this chat yet
    await other.send("/payments")
    assert other.last.text == seen(it, "You have no repayment plan with the QMondo office.")
    before = len(other.messages)
    await other.press_data(f"pay:read:{instalment}")
    await other.press_data("pay:read:999999")
    await other.press_data("pay:read:x")
    assert len(other.messages) == before
    answers = [a.get("text") for a in fake.callback_answers[-3:]]
    assert answers == [it._("This button is no longer active.")] * 3

    group = owner.in_group(-100777)
    await group.send("/payments")
    await group.press_data(f"pay:read:{instalment}")
    await group.press_data("pay:view")
    await group.press_data("pay:help")
    texts = [m.text for m in group.messages if not m.from_user]
    assert texts == [seen(it, "Please write to me in a private chat.")]


async def first_reminder(harness: Harness, core: Core, clock: FixedClock, user: FakeUser):
    clock.set(datetime(2026, 12, 8, 9, 30, tzinfo=ROME))  # 7 days before the 15th
    await eventually(lambda: any(m.text and "🔔" in m.text for m in user.messages))
    return next(m for m in user.messages if m.text and "🔔" in m.text)


async def test_a_reminder_shows_no_amount_until_opened_and_then_asks_for_help(
    harness: Harness, core: Core, fake: FakeBotAPI, clock: FixedClock
):
    user = await amina(core, fake)
    ops = [await operator(core, fake, 9001), await operator(core, fake, 9002, "uk")]
    office = (await staff(core)).id
    schedule = (await plans.search(core, "T5001", operator_id=office))[0]
    await plans.record_payment(
        core, schedule.plan.id, 40000, date(2026, 11, 20), 0, operator_id=office
    )
    it = core.catalogs.translator("it")
    reminder = await first_reminder(harness, core, clock, user)
    assert reminder.text == seen(it, TEASER)
    assert not any(ch.isdigit() for ch in reminder.text or "") and "€" not in reminder.text
    assert reminder.protect_content and reminder.buttons == [it._("📩 Read"), it._(HELP)]

    await user.press(it._("📩 Read"))
    details = user.last
    assert details.protect_content
    assert seen(
        it,
        "Reminder from the QMondo office: instalment {number} of your repayment plan, "
        "<b>{amount}</b>, is due on {date} ({when}).",
        number=2,
        amount=it.money(40000),
        date=it.date(date(2026, 12, 15), "long"),
        when=it.n_("in {n} day", "in {n} days", 7),
    ) in (details.text or "")
    assert details.buttons == [it._(HELP), it._("💶 My payments")]

    await user.press(it._(HELP))
    await user.send("Chiamatemi dopo le 17, per favore")
    assert user.last.text == seen(
        it, "Thank you. The office has your request and someone will call you soon."
    )
    # a second request while the first is open is not opened again
    await user.press(it._(HELP), details.message_id)
    await user.press(it._("📨 Send without a note"))
    assert user.last.text == seen(
        it, "Your request is already with the office: someone will call you soon."
    )
    await eventually(lambda: all(any("📞" in (m.text or "") for m in o.messages) for o in ops))
    async with core.db.session() as session:
        assert len(list(await session.scalars(select(PlanAlert)))) == 1
    alert = next(m for m in ops[0].messages if "📞" in (m.text or ""))
    assert "Amina Haddad (T5001)" in alert.text and "PR-2026-014" in alert.text
    assert "Chiamatemi dopo le 17, per favore" in alert.text and alert.protect_content
    uk = core.catalogs.translator("uk")
    assert any(uk._("✅ Mark handled") in m.buttons for m in ops[1].messages)

    await ops[0].press(it._("✅ Mark handled"), alert.message_id)
    assert ops[0].chat.message(alert.message_id).edited
    assert read(it._("✅ Handled by {name}.", name="Operatore 9001")) in (
        ops[0].chat.message(alert.message_id).text or ""
    )
    other_alert = next(m for m in ops[1].messages if "📞" in (m.text or ""))
    await ops[1].press(uk._("✅ Mark handled"), other_alert.message_id)
    assert fake.callback_answers[-1]["text"] == uk._("Already handled by {name}.",
                                                      name="Operatore 9001")  # fmt: skip


async def test_a_reminder_paid_before_it_goes_out_is_not_sent(
    harness: Harness, core: Core, fake: FakeBotAPI, clock: FixedClock
):
    user = await amina(core, fake)
    clock.set(datetime(2026, 12, 8, 21, 0, tzinfo=ROME))  # quiet hours: enqueued, then held
    await eventually_async(lambda: statuses(core), ["pending"])
    office = (await staff(core)).id
    schedule = (await plans.search(core, "T5001", operator_id=office))[0]
    await plans.record_payment(
        core, schedule.plan.id, 80000, date(2026, 12, 8), 0, operator_id=office
    )
    clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=ROME))
    harness.app.sender.wake()
    await eventually_async(lambda: statuses(core), ["skipped"])
    assert not any("🔔" in (m.text or "") for m in user.messages)


async def statuses(core: Core) -> list[str]:
    async with core.db.session() as session:
        rows = await session.scalars(
            select(Delivery.status).where(Delivery.kind == "payment_reminder")
        )
        return [status.value for status in rows]


async def eventually_async(value, expected, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await value() == expected:
            return
        await asyncio.sleep(0.05)
    assert await value() == expected


async def test_ten_days_late_the_operators_are_alerted_with_name_and_plan(
    harness: Harness, core: Core, fake: FakeBotAPI, clock: FixedClock
):
    ops = [await operator(core, fake, 9001), await operator(core, fake, 9002, "ar")]
    user = await linked(core, fake, 5003, "fr", "Mihai Popescu")
    await plan(core, "T5003", [(date(2026, 11, 15), 78222)], reference="PR-2026-021")
    clock.set(datetime(2026, 11, 25, 9, 30, tzinfo=ROME))
    await eventually(lambda: all(any("⚠️" in (m.text or "") for m in o.messages) for o in ops))
    it = core.catalogs.translator("it")
    alert = next(m for m in ops[0].messages if "⚠️" in (m.text or ""))
    assert alert.text == "\n".join(
        [
            seen(it, "⚠️ <b>A payment is long overdue: please call.</b>"),
            seen(it, "{name} ({tenant}), plan {reference}", name="Mihai Popescu",
                 tenant="T5003", reference="PR-2026-021"),
            read(it.n_("Instalment {number} of {amount}, due on {date}: {n} day late.",
                       "Instalment {number} of {amount}, due on {date}: {n} days late.", 10,
                       number=1, amount=it.money(78222), date="15/11/26")),
        ]
    )  # fmt: skip
    assert alert.protect_content and alert.buttons == [it._("✅ Mark handled")]
    fr = core.catalogs.translator("fr")
    await eventually(lambda: any(m.text == seen(fr, TEASER) for m in user.messages))


async def test_a_plan_paid_in_full_says_so(harness: Harness, core: Core, fake: FakeBotAPI):
    user = await amina(core, fake)
    office = (await staff(core)).id
    schedule = (await plans.search(core, "T5001", operator_id=office))[0]
    await plans.record_payment(
        core, schedule.plan.id, 203456, date(2026, 11, 24), 0, operator_id=office
    )
    it = core.catalogs.translator("it")
    await user.send("/payments")
    assert seen(it, "Everything is paid. Thank you!") in (user.last.text or "")
    assert seen(it, "Still to pay: {amount}", amount=it.money(0)) in (user.last.text or "")


async def test_a_plan_the_office_closed_shows_nothing_due_or_late(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = await amina(core, fake)
    async with core.db.session.begin() as session:
        await session.execute(
            update(RepaymentPlan).values(status=PlanStatus.COMPLETED)
        )  # "completato" in the municipality's file, no payments recorded here
    it = core.catalogs.translator("it")
    await user.send("/payments")
    text = user.last.text or ""
    assert seen(it, "The office has closed this plan: there is nothing more to pay.") in text
    assert "⚠️" not in text and it.money(40000) not in text
    assert seen(it, "Paid so far: {amount}", amount=it.money(0)) in text
    assert user.last.protect_content
    late = (await plans.search(core, "T5001", operator_id=(await staff(core)).id))[0].instalments[0]
    await user.press_data(f"pay:read:{late.id}")  # Read under an older reminder
    text = user.last.text or ""
    assert text.startswith(seen(it, CLOSED))
    assert it.money(40000) not in text and user.last.protect_content


async def test_a_menu_button_during_the_help_request_is_not_taken_as_a_note(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = await amina(core, fake)
    await operator(core, fake)
    it = core.catalogs.translator("it")
    await user.send("/payments")
    await user.press(it._(HELP))
    await user.send(it._("❓ Help"))
    assert user.last.text == read(help_text(it, ""))
    async with core.db.session() as session:
        assert list(await session.scalars(select(PlanAlert))) == []


async def test_help_tells_of_payments_in_every_language(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    line = "/payments – your repayment plan: instalments, what is paid, what is left"
    for number, t in enumerate(core.catalogs.all()):
        user = await linked(core, fake, 5200 + number, t.locale)
        await user.send("/help")
        assert seen(t, line) in (user.last.text or ""), t.locale
        assert "/payments" in t._(line)


async def test_text_written_long_after_asking_for_help_is_not_taken_as_a_note(
    harness: Harness, core: Core, fake: FakeBotAPI, clock: FixedClock
):
    user = await amina(core, fake)
    await operator(core, fake)
    it = core.catalogs.translator("it")
    await user.send("/payments")
    await user.press(it._(HELP))
    clock.advance(timedelta(hours=2))  # they put the phone away; the question is stale
    await user.send("Buongiorno")
    assert user.last.text == seen(it, "Sorry, I did not understand. Please use the buttons below.")
    async with core.db.session() as session:
        assert list(await session.scalars(select(PlanAlert))) == []
    harness.check()
