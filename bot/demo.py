"""`qmondo-bot demo`: chat with the real bot in a terminal, with no token and no network.

A throwaway SQLite database is seeded with a few tenant records and an operator; the real
Application talks to the in-process fake Bot API. Buttons are shown as numbered choices: type
the number to press one. Lines starting with ':' steer the demo (:operator, :resident, :quit).
Reads stdin line by line, so it can be scripted: printf '/start\\n5\\n1\\n' | qmondo-bot demo
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from bot import logs, migrate
from bot.app import build
from bot.config import Settings
from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeMessage, FakeUser
from bot.models import EventKind, Role
from bot.services import event_drafts, linking, plan_import, residents, training

BOT_USERNAME = "qmondo_demo_bot"
RESIDENT_ID, OPERATOR_ID = 5001, 9001
TENANTS = [
    ("A101", "Amina Haddad", "A", "1", "3"),
    ("B205", "Marco Rossi", "B", "2", "5"),
    ("C310", "Li Wei", "C", "3", "10"),
]
DEMO_COURSE = {
    "title": "Aiuto cuoco",
    "description": "Corso pratico di cucina, con attestato",
    "provider": "AFOL Metropolitana",
    "place": "Via Rizzoli 8, Milano",
    "schedule": "lunedì e mercoledì 9-12",
    "capacity": 1,
    "allow_unlinked": False,
}
HELP = """\
QMondo bot demo: you are a resident chatting with the bot. Type messages or commands
(/start, /help, /language, /link CODE, /training, /events, /privacy, /delete); type a number
to press a button.
  :operator   switch to the operator's chat (try /linkcode B205, /courses, /newevent, /events,
              /plans A101, /overdue)
  :resident   switch back to the resident
  :quit       leave the demo
A link code for tenant A101 (Amina Haddad, who has a repayment plan): {code}
"""


class Terminal:
    """Prints what the current user's chat shows and turns numbers into button presses."""

    def __init__(self, fake: FakeBotAPI, out: TextIO) -> None:
        self.fake, self.out = fake, out
        self.users = {
            "resident": fake.user(RESIDENT_ID, first_name="Amina", language_code="it"),
            "operator": fake.user(OPERATOR_ID, first_name="Giulia", language_code="it"),
        }
        self.user: FakeUser = self.users["resident"]
        fake.on_message = self.show

    def show(self, chat_id: int, message: FakeMessage) -> None:
        if chat_id != self.user.id or message.from_user:
            return
        mark = "(edited) " if message.edited else ""
        body = message.text or message.caption or ""
        if message.photo is not None:
            body = f"[picture: QR code]\n{body}"
        self.out.write(f"\nbot › {mark}{body}\n")
        choices = self.choices(message)
        if choices:
            self.out.write(
                "      " + "   ".join(f"[{i}] {c}" for i, c in enumerate(choices, 1)) + "\n"
            )
        self.out.flush()

    def choices(self, message: FakeMessage | None = None) -> list[str]:
        message = message or self.user.last
        if message is not None and message.inline_keyboard:
            return message.buttons
        return self.user.keyboard

    async def handle(self, line: str) -> bool:
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            return self.steer(line[1:])
        self.out.write(f"\n{self.role()} › {line}\n")
        choices = self.choices()
        if line.isdigit() and 1 <= int(line) <= len(choices):
            label = choices[int(line) - 1]
            last = self.user.last
            if last is not None and last.inline_keyboard:
                await self.user.press(label)
            else:
                await self.user.tap(label)
        else:
            await self.user.send(line)
        return True

    def steer(self, command: str) -> bool:
        if command == "quit":
            return False
        if command in self.users:
            self.user = self.users[command]
            self.out.write(f"\n--- now chatting as the {command} ---\n")
        else:
            self.out.write("commands: :operator :resident :quit\n")
        return True

    def role(self) -> str:
        return next(name for name, user in self.users.items() if user is self.user)


async def seed(core: Core) -> str:
    for code, name, building, stair, unit in TENANTS:
        await residents.add_record(core, code, name, building, stair, unit)
    operator = await residents.set_role(core, OPERATOR_ID, Role.OPERATOR)
    first_session = datetime.combine(
        core.clock.now().astimezone(core.settings.tz).date() + timedelta(days=7),
        time(9, 30),
        tzinfo=core.settings.tz,
    )
    await training.create_course(
        core, {**DEMO_COURSE, "starts_at": first_session}, operator_id=operator.id
    )
    await seed_plan(core)
    await seed_event(core, first_session.date() - timedelta(days=2))
    return (await linking.issue(core, "A101")).display


async def seed_event(core: Core, day: date) -> None:
    """A festival for everyone linked, published before the demo's resident links: they find
    it under Events once linked, as anyone who joins after the invitations went out."""
    operator = await residents.find(core, OPERATOR_ID)
    assert operator is not None
    draft = await event_drafts.new_draft(core, operator.id, EventKind.SOCIAL)
    await event_drafts.set_title(core, draft.id, "Festa del cortile")
    await event_drafts.set_description(core, draft.id, "Musica e cibo da tutto il mondo")
    start = datetime.combine(day, time(17, 0), core.settings.tz)
    await event_drafts.set_start(core, draft.id, start)
    await event_drafts.set_place(core, draft.id, "Cortile della scala B")
    await event_drafts.set_audience(core, draft.id, "linked")
    await event_drafts.publish(core, draft.id, operator.id)


async def seed_plan(core: Core) -> None:
    """A101's repayment plan, through the real import: one instalment paid, one partly paid and
    late, two to come, so "My payments" shows every state."""
    today = core.clock.now().astimezone(core.settings.tz).date()
    dues = [today + timedelta(days=days) for days in (-40, -5, 25, 55)]
    signed = (today - timedelta(days=60)).strftime("%d/%m/%Y")
    header = "Codice inquilino;Nominativo;Numero piano;Data firma;Importo totale;Rata;Scadenza;"
    rows = [
        f"A101;Amina Haddad;PR-DEMO-1;{signed};1.200,00;{n};{due:%d/%m/%Y};300,00"
        for n, due in enumerate(dues, 1)
    ]
    paid = (today - timedelta(days=6)).strftime("%d/%m/%Y")
    payments = [
        "Codice inquilino;Numero piano;Data pagamento;Importo pagato;Riferimento pagamento",
        f"A101;PR-DEMO-1;{paid};420,00;DEMO-1",
    ]
    for name, lines in (("plans.csv", [header + "Importo rata", *rows]), ("pay.csv", payments)):
        summary = await plan_import.run(core, name, "\n".join(lines).encode(), apply=True)
        assert summary.applied, summary.errors


async def main(stdin: TextIO, stdout: TextIO) -> int:
    logs.setup(None, level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="qmondo-demo-") as tmp:
        settings = Settings(
            telegram_token="123456:DEMO",
            database_url=f"sqlite:///{Path(tmp) / 'demo.sqlite3'}",
            bot_username=BOT_USERNAME,
        )
        await migrate.upgrade(settings.database_url)
        core = Core.create(settings)
        code = await seed(core)
        fake = FakeBotAPI(bot_username=BOT_USERNAME)
        application = build(core, request=fake)

        async def deliver(payload: dict[str, Any]) -> None:
            await application.process_update(Update.de_json(payload, application.bot))

        fake.deliver = deliver
        terminal = Terminal(fake, stdout)
        stdout.write(HELP.format(code=code))
        async with application:
            assert application.post_init is not None
            await application.post_init(application)
            await application.start()
            while line := await asyncio.to_thread(stdin.readline):
                if not await terminal.handle(line):
                    break
            await application.stop()
        await core.close()
    return 0
