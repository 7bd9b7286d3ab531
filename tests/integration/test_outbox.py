"""The outbox on the real database: dedupe keys, claims, leases after a crash, quiet hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.core import Core
from bot.delivery import outbox
from bot.fakeapi import FakeBotAPI
from bot.models import Delivery, DeliveryStatus, Resident
from bot.services import residents
from tests.conftest import ROME
from tests.support import linked


async def enqueue(core: Core, resident_id: int, key: str, urgent: bool = False) -> bool:
    async with core.db.session.begin() as session:
        return await outbox.enqueue(
            session,
            resident_id=resident_id,
            kind="broadcast",
            key=key,
            urgent=urgent,
            now=core.clock.now(),
        )


async def resident_ids(core: Core) -> list[int]:
    async with core.db.session() as session:
        return list(await session.scalars(select(Resident.id).order_by(Resident.id)))


async def test_the_same_message_is_enqueued_once(core: Core, fake: FakeBotAPI):
    await linked(core, fake, 1, "it")
    await linked(core, fake, 2, "ar")
    first, second = await resident_ids(core)
    assert await enqueue(core, first, "reminder:7:first")
    assert not await enqueue(core, first, "reminder:7:first")
    everyone = select(Resident.id)
    async with core.db.session.begin() as session:
        added = await outbox.enqueue_select(
            session, everyone, kind="broadcast", key_prefix="b:1:", now=core.clock.now()
        )
        again = await outbox.enqueue_select(
            session, everyone, kind="broadcast", key_prefix="b:1:", now=core.clock.now()
        )
    assert (added, again) == (2, 0)
    async with core.db.session() as session:
        keys = set(await session.scalars(select(Delivery.dedupe_key)))
    assert keys == {"reminder:7:first", f"b:1:{first}", f"b:1:{second}"}


async def test_a_claim_left_by_a_dead_process_is_taken_again_after_the_lease(
    core: Core, fake: FakeBotAPI, clock
):
    await linked(core, fake, 1, "it")
    (resident,) = await resident_ids(core)
    await enqueue(core, resident, "k1")
    claimed = await outbox.claim(core, 10)
    assert [row.status for row in claimed] == [DeliveryStatus.SENDING]
    assert claimed[0].resident.chat_id == 1
    assert await outbox.claim(core, 10) == []  # held: nobody else takes it
    clock.advance(core.settings.send_lease - timedelta(seconds=1))
    assert await outbox.claim(core, 10) == []
    clock.advance(timedelta(seconds=2))  # the claimer never wrote back: it died
    assert [row.id for row in await outbox.claim(core, 10)] == [claimed[0].id]


async def test_at_night_only_urgent_messages_are_claimed_and_expiry_is_applied(
    core: Core, fake: FakeBotAPI, clock
):
    await linked(core, fake, 1, "it")
    (resident,) = await resident_ids(core)
    clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=ROME))
    await enqueue(core, resident, "normal")
    await enqueue(core, resident, "urgent", urgent=True)
    async with core.db.session.begin() as session:
        await outbox.enqueue(
            session,
            resident_id=resident,
            kind="broadcast",
            key="stale",
            now=clock.now(),
            expires_at=clock.now() + timedelta(hours=1),
        )
    (urgent,) = await outbox.claim(core, 10)
    assert urgent.dedupe_key == "urgent"
    await outbox.record(
        core, [outbox.Outcome(urgent.id, DeliveryStatus.SENT, 1, clock.now(), sent_at=clock.now())]
    )
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=ROME))
    assert [row.dedupe_key for row in await outbox.claim(core, 10)] == ["normal"]
    async with core.db.session() as session:
        expired = await session.scalar(
            select(func.count()).where(
                Delivery.status == DeliveryStatus.EXPIRED, Delivery.last_error == "expired"
            )
        )
    assert expired == 1


async def test_always_on_kinds_are_enqueued_as_urgent(core: Core, fake: FakeBotAPI):
    from bot.services import broadcasts, plans

    await linked(core, fake, 1, "it")
    (resident,) = await resident_ids(core)
    async with core.db.session.begin() as session:
        now = core.clock.now()
        await outbox.enqueue(
            session, resident_id=resident, kind=broadcasts.REPORT, key="r", now=now
        )
        await outbox.enqueue(session, resident_id=resident, kind="broadcast", key="b", now=now)
        await outbox.enqueue_select(
            session, select(Resident.id), kind=plans.ALERT, key_prefix="a:", now=now
        )
    async with core.db.session() as session:
        rows = await session.execute(select(Delivery.kind, Delivery.urgent))
        urgent = {kind: flag for kind, flag in rows}
    assert urgent == {broadcasts.REPORT: True, "broadcast": False, plans.ALERT: True}


async def test_outcomes_are_written_even_if_a_row_went_with_a_deleted_chat(
    core: Core, fake: FakeBotAPI
):
    """/delete erases a chat without a tenant record, and its deliveries with it, perhaps
    while one is in flight: the batch of outcomes must still be written (a failing batch is
    retried for ever, the other rows stay 'sending' and go out twice after the lease)."""
    await linked(core, fake, 1, "it")
    guest = await residents.touch(core, 2, 2, "it")
    await residents.give_consent(core, guest.id, "Olena")
    first, second = await resident_ids(core)
    await enqueue(core, first, "k1")
    await enqueue(core, second, "k2")
    claimed = await outbox.claim(core, 10)
    assert len(claimed) == 2
    await residents.forget(core, 2)  # the guest's row is gone
    now = core.clock.now()
    await outbox.record(
        core, [outbox.Outcome(row.id, DeliveryStatus.SENT, 1, now, sent_at=now) for row in claimed]
    )
    async with core.db.session() as session:
        statuses = list(await session.scalars(select(Delivery.status)))
    assert statuses == [DeliveryStatus.SENT]
