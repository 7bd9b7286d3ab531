"""Operator broadcasts through the real Application, the outbox, the sender and the scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeUser
from bot.models import Delivery, DeliveryStatus, Resident, Role
from bot.services import broadcasts, residents
from handlers.menu import help_text
from tests.conftest import ROME
from tests.support import Harness, eventually, linked, read, seen, settled

NOTICE = "📢 Notice from the QMondo operators"
IN_ITALIAN = "📢 Notice from the QMondo operators (in Italian):"


async def operator(core: Core, fake: FakeBotAPI, user_id: int = 9001) -> FakeUser:
    user = await linked(core, fake, user_id, "it", name="Giulia Operatrice", building="Z")
    await residents.set_role(core, user_id, Role.OPERATOR)
    return user


def notices(user: FakeUser) -> list[str]:
    return [m.text for m in user.messages if m.text and m.text.lstrip("\u200f").startswith("📢")]


async def statuses(core: Core) -> list[str]:
    async with core.db.session() as session:
        rows = await session.scalars(
            select(Delivery.status).where(Delivery.kind == "broadcast").order_by(Delivery.id)
        )
        return [status.value for status in rows]


async def test_a_broadcast_reaches_exactly_the_chosen_building_in_each_language(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    amina = await linked(core, fake, 5001, "ar", "Amina Haddad", building="A")
    li = await linked(core, fake, 5002, "zh", "Li Wei", building="A")
    marco = await linked(core, fake, 5003, "it", "Marco Rossi", building="A")
    other = await linked(core, fake, 5004, "it", "Anna Bianchi", building="B")
    it = core.catalogs.translator("it")

    await op.send("/broadcast")
    await op.press(it._("By building"))
    assert op.buttons == ["A", "B", "Z", it._("❌ Cancel")]
    await op.press("A")
    await op.send("Festa nel cortile <sabato> alle 16!")
    preview = read(op.last.raw_text or "")
    assert it._("Recipients: {n}", n=3) in preview
    assert "· العربية: 1" in preview and "· Italiano: 1" in preview and "· 中文: 1" in preview
    await op.press(it._("➕ Add a translation"))
    await op.press("العربية")
    await op.send("حفلة في الفناء يوم السبت")
    await op.press(it._("✅ Send now ({n})", n=3))

    await eventually(lambda: notices(amina) and notices(li) and notices(marco))
    ar, zh = core.catalogs.translator("ar"), core.catalogs.translator("zh")
    assert notices(amina) == [seen(ar, NOTICE) + "\n\nحفلة في الفناء يوم السبت"]
    assert notices(li) == [seen(zh, IN_ITALIAN) + "\n\nFesta nel cortile <sabato> alle 16!"]
    assert notices(marco) == [seen(it, NOTICE) + "\n\nFesta nel cortile <sabato> alle 16!"]
    assert notices(other) == [] and notices(op) == []

    report = it._("✅ Notice #{id} has been sent.", id=1)
    await eventually(lambda: any(m.text and m.text.startswith(read(report)) for m in op.messages))
    final = op.messages[-1].text or ""
    assert read(it._("Reached: {n}", n=3)) in final
    assert read(it._("Blocked the bot: {n}", n=0)) in final
    progress = next(m for m in op.messages if m.text and m.text.startswith("📤"))
    assert progress.edited
    assert progress.text == seen(
        it, "📤 Notice #{id}: finished, {sent} of {total} reached.", id=1, sent=3, total=3
    )


async def test_faults_lose_nothing_and_blocked_residents_are_marked(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    op = await operator(core, fake)
    people = [await linked(core, fake, 6000 + i, "it") for i in range(6)]
    await linked(core, fake, 6006, "it")
    del fake.chats[6006]  # Telegram no longer knows this chat: it fails at once, no retry
    fake.block(6005)
    fake.fail("sendMessage", status=429, retry_after=1, times=1, chat_id=6000)
    fake.fail("sendMessage", status=502, times=2, chat_id=6001)
    fake.fail_timeout("sendMessage", times=1, chat_id=6002)
    await op.send("/broadcast")
    await op.press(core.catalogs.translator("it")._("Everyone linked"))
    await op.send("Avviso importante")
    await op.press(core.catalogs.translator("it")._("✅ Send now ({n})", n=8))

    async def retried() -> bool:
        now = await statuses(core)
        if "sending" not in now:  # idle, waiting for a backoff on the pinned clock: move it on
            clock.advance(timedelta(seconds=5))
            harness.app.sender.wake()
        return "pending" not in now and "sending" not in now

    await eventually_async(retried)
    for person in people[:5]:
        assert len(notices(person)) == 1, person.id
    assert sorted(await statuses(core)) == ["blocked", "failed"] + ["sent"] * 6
    async with core.db.session() as session:
        failed = await session.execute(
            select(Delivery.attempts, Delivery.last_error).where(
                Delivery.status == DeliveryStatus.FAILED
            )
        )
        assert list(failed) == [(1, "chat_not_found")]
    blocked = await residents.find(core, 6005)
    assert blocked is not None and blocked.unreachable
    # the report names who was not reached, so an operator can phone them
    await op.send("/broadcasts")
    await op.press(core.catalogs.translator("it")._("Open #{id}", id=1))
    assert "Resident 6005 T6005 — " in (op.last.text or "")
    # coming back with /start makes the resident reachable again
    fake.unblock(6005)
    await people[5].send("/start")
    assert not (await residents.find(core, 6005)).unreachable


async def eventually_async(condition, seconds: float = 10.0) -> None:
    import asyncio

    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not become true in time")


async def test_quiet_hours_hold_non_urgent_notices_and_opt_out_holds_all_but_urgent(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    op = await operator(core, fake)
    awake = await linked(core, fake, 7001, "it")
    stopped = await linked(core, fake, 7002, "it")
    await stopped.send("/stop")
    clock.set(datetime(2026, 11, 25, 21, 30, tzinfo=ROME))
    it = core.catalogs.translator("it")
    for text, urgent in (("Festa domani", False), ("Acqua interrotta stanotte", True)):
        await op.send("/broadcast")
        await op.press(it._("Everyone linked"))
        await op.send(text)
        if urgent:
            await op.press(it._("⚠️ Mark as urgent"))
        await op.press(it._("✅ Send now ({n})", n=3 if urgent else 2))
    await eventually(lambda: len(notices(awake)) == 1 and len(notices(stopped)) == 1)
    assert "Acqua interrotta stanotte" in notices(awake)[0]
    assert "Acqua interrotta stanotte" in notices(stopped)[0]
    quiet = "It is quiet time: the notice goes out from {time}, when residents are not disturbed."
    assert seen(it, quiet, time="09:00") in [m.text for m in op.messages]

    await settled(core)
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=ROME))
    harness.app.sender.wake()
    await eventually(lambda: len(notices(awake)) == 2)
    assert "Festa domani" in notices(awake)[1]
    await settled(core)
    async with core.db.session() as session:
        held_back = await session.execute(
            select(Delivery.status, Delivery.last_error)
            .join(Resident, Resident.id == Delivery.resident_id)
            .where(Resident.telegram_user_id == 7002, Delivery.kind == "broadcast")
            .order_by(Delivery.id)
        )
        assert [tuple(row) for row in held_back] == [
            (DeliveryStatus.SKIPPED, "opted_out"),
            (DeliveryStatus.SENT, None),
        ]
    assert len(notices(stopped)) == 1


async def test_scheduled_notices_go_out_at_their_time_and_can_be_cancelled(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    op = await operator(core, fake)
    marco = await linked(core, fake, 5101, "it", "Marco Rossi")
    it = core.catalogs.translator("it")
    for text, when in (("Assemblea stasera", "25/11 18:00"), ("Mercatino", "domani 10:00")):
        await op.send("/broadcast")
        await op.press(it._("Everyone linked"))
        await op.send(text)
        await op.press(it._("🕒 Send later"))
        if text == "Mercatino":
            await op.send("ieri alle tre")
            assert op.last.text == seen(
                it, "I could not read that date. Write it like this: 25/12 18:30."
            )
            await op.send("01/01/2020 10:00")
            assert op.last.text == seen(
                it, "That time has already passed. Please write a later one."
            )
        await op.send(when)
    tomorrow = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)
    assert op.last.text == seen(
        it,
        "Notice #{id} will go out on {when}. /broadcasts lists it, and you can cancel it there.",
        id=2,
        when=it.moment(tomorrow),
    )
    assert it.moment(tomorrow) == "giovedì 26 novembre 2026 10:00"

    await op.send("/broadcasts")
    listing = op.last.text or ""
    assert "🕒 #1" in listing and "🕒 #2" in listing
    assert (
        read(
            it._(
                "scheduled for {when}",
                when=it.datetime(datetime(2026, 11, 25, 18, 0, tzinfo=ROME), "short"),
            )
        )
        in listing
    )
    await op.press(it._("Open #{id}", id=2))
    await op.press(it._("🗑 Cancel this notice"))
    assert op.last.text == seen(it, "Notice #{id} is cancelled. Nothing was sent.", id=2)

    clock.set(datetime(2026, 11, 25, 18, 0, 30, tzinfo=ROME))
    await eventually(lambda: notices(marco))
    assert notices(marco) == [seen(it, NOTICE) + "\n\nAssemblea stasera"]
    await settled(core)  # outcomes written before the pinned clock jumps past the lease
    clock.set(datetime(2026, 11, 26, 10, 30, tzinfo=ROME))
    await eventually(
        lambda: any("#1" in (m.text or "") and "✅" in (m.text or "") for m in op.messages)
    )
    await settled(core)
    assert len(notices(marco)) == 1  # the cancelled one never went
    await op.send("/broadcasts")
    assert "🚫 #2" in (op.last.text or "")


async def test_residents_cannot_start_see_or_steer_broadcasts(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    op = await operator(core, fake)
    amina = await linked(core, fake, 5201, "ar", "Amina Haddad")
    ar, it = core.catalogs.translator("ar"), core.catalogs.translator("it")
    unknown = seen(ar, "I don't know this command. Send /help to see what I can do.")
    for command in ("/broadcast", "/broadcasts"):
        await amina.send(command)
        assert amina.last.text == unknown
    # an operator's draft and a sent notice exist; forged buttons from a resident do nothing
    await op.send("/broadcast")
    await op.press(it._("Everyone linked"))
    await op.send("Riunione")
    before = len(amina.messages)
    for data in ("bc:send", "bc:urgent", "bc:aud:linked", "bc:open:1", "bc:drop:1", "bc:cancel"):
        await amina.press_data(data)
        assert fake.callback_answers[-1].get("text") == read(
            ar._("This button is no longer active.")
        )
    assert len(amina.messages) == before
    async with core.db.session() as session:
        assert await session.scalar(select(Delivery.id)) is None  # nothing was sent
    # and a resident is never offered the operator commands in the menu
    assert all(c["command"] != "broadcast" for c in fake.commands[('{"type": "default"}', "ar")])


async def test_an_expired_message_is_not_sent_late_and_operators_see_why(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    op = await operator(core, fake)
    late = await linked(core, fake, 5301, "it", "Paolo Verdi")
    it = core.catalogs.translator("it")
    clock.set(datetime(2026, 11, 25, 22, 0, tzinfo=ROME))  # quiet hours: it waits
    draft = await broadcasts.new_draft(core, (await residents.find(core, 9001)).id, "linked")
    await broadcasts.set_text(core, draft.id, "Festa alle 23", "Festa alle 23")
    await broadcasts.send_now(core, draft.id)
    async with core.db.session.begin() as session:  # an expiry, as reminders will carry
        await session.execute(
            update(Delivery)
            .where(Delivery.kind == "broadcast")
            .values(expires_at=datetime(2026, 11, 25, 23, 0, tzinfo=ROME))
        )
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=ROME))
    harness.app.sender.wake()
    await eventually(lambda: any((m.text or "").startswith("✅") for m in op.messages))
    assert notices(late) == []
    await op.send("/broadcasts")
    await op.press(it._("Open #{id}", id=draft.id))
    detail = op.last.text or ""
    assert read(it._("Expired: {n}", n=2)) in detail  # the operator is linked too
    assert "Paolo Verdi T5301 — " + read(it._("expired before it could be sent")) in detail


async def test_a_notice_is_rendered_in_the_language_the_resident_has_when_it_goes_out(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    await operator(core, fake)
    amina = await linked(core, fake, 5401, "it", "Amina Haddad")
    author = (await residents.find(core, 9001)).id
    draft = await broadcasts.new_draft(core, author, "role:resident")
    await broadcasts.set_text(core, draft.id, "Corso di cucito", "Corso di cucito")
    await broadcasts.schedule(core, draft.id, datetime(2026, 11, 25, 12, 0, tzinfo=ROME))
    await amina.send("/language")
    await amina.press("العربية")
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=ROME))
    await eventually(lambda: notices(amina))
    ar = core.catalogs.translator("ar")
    assert notices(amina) == [seen(ar, IN_ITALIAN) + "\n\nCorso di cucito"]


async def test_replies_to_residents_do_not_wait_behind_a_broadcast(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    await operator(core, fake)
    for i in range(40):
        await linked(core, fake, 8100 + i, "it")
    harness.app.sender.limiter.interval = 0.5  # a slow broadcast: two messages a second
    author = (await residents.find(core, 9001)).id
    draft = await broadcasts.new_draft(core, author, "linked")
    await broadcasts.set_text(core, draft.id, "Avviso", "Avviso")
    await broadcasts.send_now(core, draft.id)
    harness.app.sender.wake()
    await eventually(lambda: len(fake.calls_to("sendMessage")) >= 2)
    asking = fake.user(8139, language_code="it")
    await asking.send("/help")  # answered at once, while the notice is still going out
    it = core.catalogs.translator("it")
    assert asking.last.text == read(help_text(it, core.settings.office_contact))
    assert (await statuses(core)).count("sent") < 10  # most of the notice is still to go
    # a clean stop hands back what was claimed but not sent, for the next start
    await harness.stop()
    left = await statuses(core)
    assert "sending" not in left and left.count("pending") > 30
