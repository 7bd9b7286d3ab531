"""Onboarding through the real Application: language, consent, menu; restarts; refusal; deletion."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.core import Core
from bot.fakeapi import FakeBotAPI, FakeUser
from bot.i18n import RLM, Translator
from bot.models import ConversationState, Resident
from bot.services import residents
from handlers import menu, privacy
from handlers.commands import RESIDENT_COMMANDS
from handlers.common import MENU_ITEMS, MENU_ROWS
from tests.support import Harness, read, seen


def menu_labels(t: Translator) -> list[str]:
    return [t._(MENU_ITEMS[action]) for row in MENU_ROWS for action in row]


def commands_for(fake: FakeBotAPI, chat_id: int | None = None, language: str = "") -> list[str]:
    scope = {"type": "chat", "chat_id": chat_id} if chat_id else {"type": "default"}
    return [c["description"] for c in fake.commands[(json.dumps(scope, sort_keys=True), language)]]


async def onboard(core: Core, user: FakeUser, locale: str) -> Translator:
    await user.send("/start")
    await user.press(core.catalogs.native_name(locale))
    t = core.catalogs.translator(locale)
    await user.press(t._("✅ I agree"))
    await user.press(t._("Skip"))
    return t


@pytest.mark.parametrize("locale", ["it", "ar", "zh", "uk", "fil", "en"])
async def test_a_resident_is_onboarded_in_their_language(
    harness: Harness, core: Core, fake: FakeBotAPI, locale: str
):
    user = fake.user(7001, first_name="Amina", language_code="en")
    await user.send("/start")
    english = core.catalogs.translator("en")
    hello = "Hello! I am the QMondo assistant. Choose your language:"
    assert user.last.text == seen(english, hello)
    assert user.buttons == [core.catalogs.native_name(code) for code in core.catalogs.locales]

    await user.press(core.catalogs.native_name(locale))
    t = core.catalogs.translator(locale)
    assert user.last.text == read(privacy.notice(t) + "\n\n" + t._("Do you agree?"))
    assert user.buttons == [t._("✅ I agree"), t._("❌ No, thanks")]

    await user.press(t._("✅ I agree"))
    assert [m.text for m in user.messages[-2:]] == [
        seen(t, "Thank you!"),
        seen(t, "Do you have a personal code from the QMondo office? Type it here, or scan "
                "the QR code on your letter. If you have no code, tap Skip."),
    ]
    await user.press(t._("Skip"))
    assert user.last.text == seen(t, "No problem. You can link your record later with /link.")
    assert user.keyboard == menu_labels(t)

    resident = await residents.find(core, 7001)
    assert resident is not None and resident.consent_at is not None
    assert (resident.locale, resident.display_name) == (locale, "Amina")
    # Telegram shows the menu of the app's language (English here): the chat gets the chosen one.
    assert commands_for(fake, 7001) == [t._(d) for _, d in RESIDENT_COMMANDS]


async def test_languages_read_in_their_own_script(harness: Harness, core: Core, fake: FakeBotAPI):
    arabic = await onboard(core, fake.user(7002, first_name="Amina"), "ar")
    text = fake.chat(7002).messages[-1].text
    assert arabic.rtl
    strong = text.lstrip(RLM)[0]
    assert "\u0600" <= strong <= "\u06ff", "an Arabic message must start with Arabic text"
    await onboard(core, fake.user(7003, first_name="Li"), "zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in fake.chat(7003).messages[-1].text)
    await onboard(core, fake.user(7004, first_name="Olena"), "it")
    assert "/link" in fake.chat(7004).messages[-1].text
    assert fake.chat(7004).messages[-1].text != fake.chat(7003).messages[-1].text


async def test_the_first_question_uses_the_telegram_language(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = fake.user(7005, first_name="Oksana", language_code="uk")
    await user.send("/start")
    ukrainian = core.catalogs.translator("uk")
    hello = "Hello! I am the QMondo assistant. Choose your language:"
    assert user.last.text == seen(ukrainian, hello)


async def test_a_restart_mid_onboarding_resumes_where_the_resident_was(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = fake.user(7010, first_name="Amina", language_code="ar")
    await user.send("/start")
    await user.press("Español")
    async with core.db.session() as session:
        stored = await session.scalar(select(ConversationState.state))
    assert stored == "onboarding:consent"

    await harness.restart()  # a new Application: conversation states come from the database
    t = core.catalogs.translator("es")
    await user.press(t._("✅ I agree"))
    assert user.last.text == seen(
        t,
        "Do you have a personal code from the QMondo office? Type it here, or scan the QR code "
        "on your letter. If you have no code, tap Skip.",
    )


async def test_stale_conversations_expire_after_a_restart(
    harness: Harness, core: Core, fake: FakeBotAPI, clock
):
    user = fake.user(7011, first_name="Amina", language_code="it")
    await user.send("/start")
    clock.advance(core.settings.conversation_ttl * 2)
    await harness.restart()
    await user.send("ciao")  # no longer in the language question: an ordinary message
    it = core.catalogs.translator("it")
    assert user.last.text == seen(it, "Send /start to begin.")


async def test_typing_instead_of_tapping_repeats_the_hint(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = fake.user(7012, first_name="Amina", language_code="fr")
    await user.send("/start")
    await user.send("bonjour")
    fr = core.catalogs.translator("fr")
    assert user.last.text == seen(fr, "Please tap one of the buttons above.")
    await user.press("Français")  # the question is still answerable
    assert fr._("✅ I agree") in user.buttons


async def test_refusing_consent_keeps_only_the_refusal(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    user = fake.user(7020, first_name="Amina Haddad", language_code="it")
    await user.send("/start")
    await user.press("Italiano")
    it = core.catalogs.translator("it")
    await user.press(it._("❌ No, thanks"))
    assert user.last.text == seen(
        it, "OK. We have not saved your data. If you change your mind, send /start."
    )
    resident = await residents.find(core, 7020)
    assert resident is not None
    assert resident.consent_at is None and resident.consent_refused_at is not None
    assert resident.display_name is None and resident.tenant_code is None
    # the menu is not open to them, but help is
    await user.send("/help")
    assert user.last.text == read(menu.help_text(it, ""))
    assert user.keyboard == []


async def test_a_forged_language_is_refused(harness: Harness, core: Core, fake: FakeBotAPI):
    user = fake.user(7030, first_name="Amina", language_code="it")
    await user.send("/start")
    await user.press_data("lang:xx")
    assert fake.callback_answers[-1]["text"] == core.catalogs.translator("it")._(
        "This language is not available."
    )
    resident = await residents.find(core, 7030)
    assert resident is not None and resident.locale == "it"


async def test_language_can_be_changed_any_time(harness: Harness, core: Core, fake: FakeBotAPI):
    user = fake.user(7040, first_name="Amina", language_code="it")
    await onboard(core, user, "it")
    it, ar = core.catalogs.translator("it"), core.catalogs.translator("ar")
    await user.tap(it._("🌐 Language"))
    await user.press("العربية")
    assert user.last.text == seen(ar, "Done. I will write to you in this language.")
    assert user.keyboard == menu_labels(ar)
    # an old keyboard in the previous language still works
    await user.send(it._("❓ Help"))
    assert user.last.text == read(menu.help_text(ar, ""))


async def test_command_menus_are_published_per_language(harness: Harness, fake: FakeBotAPI):
    core: Core = harness.core
    it = core.catalogs.translator("it")
    assert commands_for(fake) == [it._(d) for _, d in RESIDENT_COMMANDS]
    for t in core.catalogs.all():
        if t.locale != "fil":  # Telegram takes two-letter codes only; fil gets per-chat menus
            assert commands_for(fake, language=t.locale) == [t._(d) for _, d in RESIDENT_COMMANDS]


async def test_group_chats_get_no_data_and_create_nobody(
    harness: Harness, core: Core, fake: FakeBotAPI
):
    member = fake.user(7050, first_name="Marco", language_code="it").in_group(-100500)
    await member.send("/start")
    assert fake.chat(-100500).messages[-1].text == seen(
        core.catalogs.translator("it"), "Please write to me in a private chat."
    )
    async with core.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Resident)) == 0


async def test_delete_erases_the_chat_data(harness: Harness, core: Core, fake: FakeBotAPI):
    user = fake.user(7060, first_name="Amina", language_code="it")
    t = await onboard(core, user, "it")
    await user.send("/delete")
    await user.press(t._("🗑 Yes, delete"))
    assert user.last.text == seen(
        t, "Your data has been deleted. Goodbye! Send /start if you want to come back."
    )
    assert user.keyboard == []
    assert await residents.find(core, 7060) is None
    assert (json.dumps({"type": "chat", "chat_id": 7060}, sort_keys=True), "") not in fake.commands


async def test_unknown_commands_get_a_clear_answer(harness: Harness, core: Core, fake: FakeBotAPI):
    user = fake.user(7070, first_name="Amina", language_code="es")
    await user.send("/pagamenti")
    assert user.last.text == seen(
        core.catalogs.translator("es"),
        "I don't know this command. Send /help to see what I can do.",
    )
