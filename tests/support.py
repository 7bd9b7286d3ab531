"""Helpers for the tests: the application harness, factories, and what a person reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from telegram import Update

from bot.app import build
from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeUser, parse_html
from bot.i18n import Translator
from bot.models import (
    Course,
    Delivery,
    DeliveryStatus,
    Enrollment,
    EnrollmentStatus,
    Instalment,
    PlanStatus,
    RepaymentPlan,
    Resident,
    Role,
)
from bot.services import residents, training


class Harness:
    """The real Application wired to the fake Bot API; `restart()` is a process restart."""

    def __init__(self, core: Core, fake: FakeBotAPI) -> None:
        self.core, self.fake = core, fake
        self.errors: list[BaseException] = []
        self.app: Any = None

    async def start(self) -> None:
        self.app = build(self.core, request=self.fake)

        async def record(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.app.add_error_handler(record)
        self.fake.deliver = self.deliver
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        await self.app.start()

    async def deliver(self, payload: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(payload, self.app.bot))

    async def stop(self) -> None:
        if self.app is not None and self.app.updater and self.app.updater.running:
            await self.app.updater.stop()
        if self.app is not None and self.app.running:
            await self.app.stop()
        if self.app is not None:
            await self.app.shutdown()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def check(self) -> None:
        """Nothing the bot did may have failed, even where PTB only logged it."""
        assert self.errors == [], self.errors
        assert self.fake.violations == [], self.fake.violations


async def tenant(core: Core, code: str = "A101", name: str = "Amina Haddad") -> Resident:
    """A tenant record, as the municipality's data would create it."""
    return await residents.add_record(core, code, name, building="A", stair="1", unit="3")


STAFF_ID = 8800  # the Telegram id of the operator the factories act as


async def staff(core: Core, telegram_user_id: int = STAFF_ID) -> Resident:
    """An operator (made once, as `qmondo-bot operator add` does), for services that check it."""
    return await residents.set_role(core, telegram_user_id, Role.OPERATOR)


async def linked(
    core: Core,
    fake: FakeBotAPI,
    user_id: int,
    locale: str = "it",
    name: str | None = None,
    building: str = "A",
    **fields: Any,
) -> FakeUser:
    """A resident who started the bot, agreed to the privacy notice and linked the chat."""
    now = core.clock.now()
    name = name or f"Resident {user_id}"
    async with core.db.session.begin() as session:
        session.add(
            Resident(
                telegram_user_id=user_id,
                chat_id=user_id,
                display_name=name.split()[0],
                full_name=name,
                locale=locale,
                consent_at=now,
                tenant_code=f"T{user_id}",
                building=building,
                linked_at=now,
                created_at=now,
                **fields,
            )
        )
    return fake.user(user_id, first_name=name.split()[0], language_code=locale)


def seen(t: Translator, msgid: str, **params: object) -> str:
    """What the resident reads: the translated text, HTML parsed away."""
    return read(t._(msgid, **params))


def read(html: str) -> str:
    """Telegram HTML as the person sees it."""
    return parse_html(html).text


async def eventually(condition: Callable[[], object], seconds: float = 4.0) -> None:
    """Wait for work the bot does on its own (polling, webhook) to show."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition did not become true in time")


async def settled(core: Core) -> None:
    """Wait until the sender has written the outcome of every row it claimed."""

    async def busy() -> bool:
        async with core.db.session() as session:
            return bool(
                await session.scalar(
                    select(func.count()).where(Delivery.status == DeliveryStatus.SENDING)
                )
            )

    for _ in range(200):
        if not await busy():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the sender did not settle in time")


async def plan(
    core: Core,
    tenant_code: str,
    instalments: list[tuple[date, int]],
    reference: str | None = None,
) -> RepaymentPlan:
    """An active repayment plan for a tenant record: (due date, cents) per instalment."""
    now = core.clock.now()
    async with core.db.session.begin() as session:
        resident_id = await session.scalar(
            select(Resident.id).where(Resident.tenant_code == tenant_code)
        )
        assert resident_id is not None, tenant_code
        created = RepaymentPlan(
            resident_id=resident_id,
            reference=reference or f"PR-{tenant_code}",
            signed_on=now.date(),
            total_cents=sum(cents for _, cents in instalments),
            status=PlanStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            instalments=[
                Instalment(number=n, due_on=due, amount_cents=cents, paid_cents=0)
                for n, (due, cents) in enumerate(instalments, start=1)
            ],
        )
        session.add(created)
    return created


# -- job training ----------------------------------------------------------------------------

COURSE_START = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Rome"))


async def course(core: Core, title: str = "Cucina professionale", **fields: Any) -> Course:
    """An open course starting on COURSE_START, two places, for linked residents only."""
    values = {
        "title": title,
        "description": "Corso base di cucina, con attestato",
        "provider": "AFOL Metropolitana",
        "place": "Via Rizzoli 8, Milano",
        "starts_at": COURSE_START,
        "schedule": "lunedì e mercoledì 9-12",
        "capacity": 2,
        "allow_unlinked": False,
    } | fields
    return await training.create_course(core, values, operator_id=(await staff(core)).id)


def intake(name: str = "Test Person") -> training.Form:
    """The answers of a sign-up form."""
    return training.Form(name, "+393331234567", ["morning"], "middle", "kitchen")


async def filled(core: Core, user: FakeUser, t: Translator, title: str) -> None:
    """Go through the whole form with the quickest answers, up to the confirmation."""
    await user.send(t._("📚 Training"))
    await user.press(title)
    await user.press(t._("✅ Yes"))
    await user.send_contact("+39 333 123 4567")
    await user.press("⬜ " + t._("Afternoons"))
    await user.press(t._("Done"))
    await user.press(t._("Primary school"))
    await user.press(t._("Any work"))
    await user.press(t._("Skip"))


def texts(user: FakeUser) -> list[str]:
    return [m.text or m.caption or "" for m in user.messages]


async def enrollment_statuses(core: Core) -> dict[str, str]:
    async with core.db.session() as session:
        rows = await session.execute(select(Enrollment.name, Enrollment.status))
        return {name: EnrollmentStatus(status).value for name, status in rows}
