"""The bot never dies on a message, answers what it cannot read, and logs nothing personal."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from bot import logs
from bot.core import Core
from bot.fakeapi import FakeBotAPI
from bot.models import Role
from bot.services import event_drafts, linking, residents
from tests.support import Harness, course, eventually, filled, linked, plan, seen, tenant


async def test_files_and_contacts_get_a_plain_answer(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = fake.user(8201, first_name="Amina", language_code="it")
    it = core.catalogs.translator("it")
    await user.send_document("lettera.pdf", b"%PDF-1.4", "application/pdf")
    assert user.last.text == seen(it, "I can only read text and buttons. Send /start to begin.")
    await user.send("/start")
    await user.press("Italiano")
    await user.press(it._("✅ I agree"))
    await user.press(it._("Skip"))
    await user.send_contact("+39 333 1234567", "Amina")
    assert user.last.text == seen(
        it, "I can only read text and buttons. Please use the buttons below."
    )
    assert user.keyboard  # the menu is offered again


async def test_a_failed_send_is_apologised_for_and_the_next_message_works(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = fake.user(8202, first_name="Amina", language_code="es")
    fake.fail("sendMessage", status=502, times=1)
    await user.send("/start")
    es = core.catalogs.translator("es")
    assert user.last.text == seen(es, "Sorry, something went wrong. Please try again.")
    assert len(harness.errors) == 1  # recorded, then forgiven: this test caused it
    harness.errors.clear()
    await user.send("/start")
    assert user.buttons[0] == "Italiano"


@pytest.fixture
def library_levels():
    saved = {name: logging.getLogger(name).level for name in logs.LIBRARY_FLOORS}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


async def test_logs_carry_no_names_texts_codes_or_token(
    harness: Harness, core: Core, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture,
    library_levels: None,
):
    logs.limit_libraries(logging.DEBUG)  # as `qmondo-bot run` does, even at the most verbose
    caplog.set_level(logging.DEBUG)
    await tenant(core, "A101", "Zuleika Marchetti")
    issued = await linking.issue(core, "A101")
    user = fake.user(8203, first_name="Zuleika", language_code="it")
    fake.fail("sendMessage", status=502, times=1)  # an error path, which logs
    await user.send(f"/start {issued.code}")
    harness.errors.clear()
    await user.send(f"/start {issued.code}")
    await user.press("Italiano")
    await user.press(core.catalogs.translator("it")._("✅ I agree"))
    await user.send("il mio numero è 3331234567")
    logged = caplog.text
    assert logged  # something was logged, so the check below means something
    for secret in ("Zuleika", "Marchetti", issued.code, "3331234567", core.settings.telegram_token):
        assert secret not in logged


async def test_logs_carry_no_amounts_phones_or_notes_of_plans_and_sign_ups(
    harness: Harness, core: Core, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture,
    library_levels: None,
):
    logs.limit_libraries(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    it = core.catalogs.translator("it")
    zuleika = await linked(core, fake, 8301, "it", "Zuleika Marchetti")
    await plan(core, "T8301", [(date(2026, 11, 5), 123456)])  # 20 days late
    operator = await linked(core, fake, 8302, "it", "Giulia Operatrice")
    await residents.set_role(core, 8302, Role.OPERATOR)
    await course(core)
    fake.fail("sendMessage", status=502, times=1)  # an error path, which logs
    await zuleika.send("/payments")
    harness.errors.clear()
    await zuleika.send("/payments")
    await zuleika.press(it._("📞 I cannot pay / call me"))
    await zuleika.send("Ho perso il lavoro a ottobre")
    await eventually(lambda: any("Zuleika" in (m.text or "") for m in operator.messages))
    await filled(core, zuleika, it, "Cucina professionale")  # shares +39 333 123 4567
    await zuleika.press(it._("✅ Confirm"))
    await operator.send("/plans Marchetti")
    logged = caplog.text
    assert logged
    for secret in ("Zuleika", "Marchetti", "1.234,56", "123456", "3331234567", "perso il lavoro"):
        assert secret not in logged, secret
    harness.check()


async def test_a_new_conversation_ends_the_one_left_open(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    """An answer goes to the question on screen, not to a conversation left half-way."""
    await residents.set_role(core, 9001, Role.OPERATOR)  # as `qmondo-bot operator add` does
    op = fake.user(9001, first_name="Giulia", language_code="it")
    it = core.catalogs.translator("it")
    await op.send("/start")  # the language question, left unanswered
    await op.send("/newevent")
    await op.press(it._("🎉 Social event"))
    await op.send("Torneo di calcetto")
    assert op.last.text == seen(
        it, "Now a short description in Italian: what happens, who it is for."
    )
    await op.send("/newcourse")  # the event's description is left unwritten
    await op.send("Aiuto cuoco")
    assert op.last.text == seen(it, "A short description, in simple words?")
    await harness.restart()  # the ended conversations stay ended
    await op.send("Corso pratico di cucina")
    assert op.last.text == seen(it, "Who runs it?")
    operator = await residents.find(core, 9001)
    assert operator is not None
    draft = await event_drafts.draft(core, operator.id)
    assert draft is not None and draft.descriptions == {}
    harness.check()
