"""The fake Telegram Bot API, exercised through the real python-telegram-bot stack."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.fakeapi import FakeBotAPI, load_spec, parse_html

USER = 42


@pytest.fixture
def fake() -> FakeBotAPI:
    return FakeBotAPI()


@pytest_asyncio.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = Bot("123:ABC", request=fake, get_updates_request=fake)
    await bot.initialize()
    yield bot
    await bot.shutdown()


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in buttons]])


def seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else value


@pytest.mark.asyncio
async def test_get_me_is_the_configured_bot(bot: Bot) -> None:
    assert bot.username == "qmondo_demo_bot"
    assert bot.id == 1000
    assert bot.can_join_groups is True


@pytest.mark.asyncio
async def test_send_message_with_inline_keyboard_is_recorded(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER, "Amina", language_code="ar")
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Sì", callback_data="yes")],
            [InlineKeyboardButton("Sito", url="https://example.org")],
        ]
    )
    sent = await bot.send_message(
        USER, "<b>Ciao</b> Amina &amp; co", parse_mode="HTML", reply_markup=markup
    )

    assert sent.text == "Ciao Amina & co"
    assert sent.entities[0].type == "bold"
    assert sent.reply_markup == markup
    [message] = fake.chat(USER).messages
    assert message.text == "Ciao Amina & co"
    assert message.raw_text == "<b>Ciao</b> Amina &amp; co"
    assert message.parse_mode == "HTML"
    assert message.inline_keyboard == [[("Sì", "yes")], [("Sito", "https://example.org")]]
    assert not message.from_user
    assert user.last is message
    assert user.buttons == ["Sì", "Sito"]
    assert fake.spec.validate_object("Message", message.raw) == []
    assert fake.calls_to("sendMessage")[0]["chat_id"] == USER
    assert fake.violations == []


@pytest.mark.asyncio
async def test_message_ids_increase_per_chat(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(1)
    fake.user(2)
    ids = [(await bot.send_message(chat, "x")).message_id for chat in (1, 1, 2)]
    assert ids == [1, 2, 1]


@pytest.mark.asyncio
async def test_text_limit_counts_utf16_after_html_parsing(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(USER, "😀" * 2048)  # 2 UTF-16 units each
    assert fake.violations == []

    with pytest.raises(BadRequest):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "😀" * 2049)
    assert len(fake.violations) == 2
    assert "4097 characters" in fake.violations[0]
    assert len(fake.chat(USER).messages) == 3


@pytest.mark.asyncio
async def test_callback_data_over_64_bytes_is_a_violation(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    await bot.send_message(USER, "ok", reply_markup=keyboard(("a", "x" * 64)))
    assert fake.violations == []
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "no", reply_markup=keyboard(("a", "x" * 65)))
    assert len(fake.violations) == 1
    assert "callback_data" in fake.violations[0]


@pytest.mark.asyncio
async def test_unknown_parameter_is_a_violation(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    with pytest.raises(BadRequest, match="nope"):
        await bot.send_message(USER, "hi", api_kwargs={"nope": 1})
    assert len(fake.violations) == 1
    assert fake.chat(USER).messages == []


@pytest.mark.asyncio
async def test_wrong_value_type_is_a_violation(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "hi", api_kwargs={"disable_notification": "yes"})
    assert "expected Boolean" in fake.violations[0]


@pytest.mark.asyncio
async def test_unknown_method_is_not_found(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})
    assert fake.violations == ["sendTelepathy: no such Bot API method"]


@pytest.mark.parametrize(
    "text",
    [
        "a < b",
        "<b>unclosed",
        "x &nbsp; y",
        "<b><i>x</b></i>",
        "<span>s</span>",
        "<br>",
        "a & b",
        "a > b",
    ],
)
@pytest.mark.asyncio
async def test_invalid_html_is_rejected(fake: FakeBotAPI, bot: Bot, text: str) -> None:
    fake.user(USER)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, text, parse_mode="HTML")
    assert len(fake.violations) == 1


@pytest.mark.asyncio
async def test_valid_html_is_accepted(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><del>d</del>"
        '<span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
        '<a href="https://example.org/?a=1&amp;b=2">link</a> <code>c</code>'
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>quote</blockquote> &lt;&gt;&quot;&#39;&#x41;"
    )
    sent = await bot.send_message(USER, text, parse_mode="HTML")
    assert sent.text.endswith(" <>\"'A")
    assert fake.violations == []
    assert parse_html("<b>a</b>").entities == [{"type": "bold", "offset": 0, "length": 1}]


@pytest.mark.asyncio
async def test_invalid_bot_commands_are_violations(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Start", "Begin")])
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("start", "Begin")], language_code="fil")
    assert len(fake.violations) == 2
    assert "command" in fake.violations[0]
    assert "language_code" in fake.violations[1]


@pytest.mark.asyncio
async def test_commands_with_chat_scope_are_accepted(fake: FakeBotAPI, bot: Bot) -> None:
    commands = [BotCommand("start", "Begin"), BotCommand("help_me", "Help")]
    assert await bot.set_my_commands(commands, scope=BotCommandScopeChat(USER), language_code="it")
    assert await bot.set_my_commands(commands)
    stored = await bot.get_my_commands(scope=BotCommandScopeChat(USER), language_code="it")
    assert [c.command for c in stored] == ["start", "help_me"]
    assert fake.violations == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.asyncio
async def test_injected_429_raises_retry_after(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    fake.fail("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "hi")
    assert seconds(info.value.retry_after) == 3
    await bot.send_message(USER, "hi")  # times=1: the next call goes through
    assert len(fake.chat(USER).messages) == 1
    assert fake.violations == []


@pytest.mark.asyncio
async def test_injected_502_raises_network_error(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    fake.fail("sendMessage", status=502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as info:
            await bot.send_message(USER, "hi")
        assert not isinstance(info.value, BadRequest)
    await bot.send_message(USER, "hi")
    assert [status for _, status, _ in fake.errors] == [502, 502]
    assert fake.violations == []


@pytest.mark.asyncio
async def test_injected_timeout_raises_timed_out(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    fake.fail_timeout("sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "lost")
    assert fake.chat(USER).messages == []
    fake.fail_timeout("sendMessage", delivered=True)  # sent, but the answer was lost
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "sent")
    assert [m.text for m in fake.chat(USER).messages] == ["sent"]


@pytest.mark.asyncio
async def test_blocked_user_raises_forbidden(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    fake.block(USER)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(USER, "hi")
    fake.unblock(USER)
    await bot.send_message(USER, "hi again")
    assert len(fake.chat(USER).messages) == 1
    assert fake.violations == []


@pytest.mark.asyncio
async def test_unknown_chat_raises_chat_not_found(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(777, "hi")
    assert fake.violations == []


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.asyncio
async def test_flood_cap_answers_429() -> None:
    fake = FakeBotAPI(cap_per_second=2)
    capped = Bot("123:ABC", request=fake)
    await capped.initialize()
    fake.user(USER)
    await capped.send_message(USER, "1")
    await capped.send_message(USER, "2")
    with pytest.raises(RetryAfter) as info:
        await capped.send_message(USER, "3")
    assert seconds(info.value.retry_after) == 1


@pytest.mark.asyncio
async def test_edit_message_in_place(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER)
    sent = await bot.send_message(USER, "Step 1", reply_markup=keyboard(("Next", "next")))
    edited = await bot.edit_message_text(
        "<i>Step 2</i>",
        USER,
        sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard(("Back", "b")),
    )
    assert edited.text == "Step 2"
    [message] = user.messages
    assert (message.text, message.edited, message.buttons) == ("Step 2", True, ["Back"])

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<i>Step 2</i>",
            USER,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard(("Back", "b")),
        )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    await bot.edit_message_reply_markup(USER, sent.message_id)  # removes the keyboard
    assert message.inline_keyboard == []
    assert len(fake.violations) == 2


@pytest.mark.asyncio
async def test_reply_to_a_missing_message_fails(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER)
    await user.send("domanda")
    sent = await bot.send_message(USER, "risposta", reply_parameters=ReplyParameters(1))
    assert sent.reply_to_message.text == "domanda"
    with pytest.raises(BadRequest, match=r"(?i)replied not found"):
        await bot.send_message(USER, "x", reply_parameters=ReplyParameters(99))
    assert len(fake.violations) == 1


@pytest.mark.asyncio
async def test_delete_message_marks_it_deleted(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER)
    sent = await bot.send_message(USER, "bye")
    assert await bot.delete_message(USER, sent.message_id)
    assert fake.chat(USER).messages[0].deleted
    assert user.messages == []


@pytest.mark.asyncio
async def test_press_existing_button_delivers_callback(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER, "Amina")
    await bot.send_message(USER, "Choose", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    with pytest.raises(AssertionError, match="Maybe"):
        await user.press("Maybe")
    await user.press("No")
    [update] = await bot.get_updates()
    assert update.callback_query.data == "n"
    assert update.callback_query.message.text == "Choose"
    assert await update.callback_query.answer("Noted")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.callback_query.answer()  # a query can be answered once
    assert fake.callback_answers[0]["text"] == "Noted"
    assert fake.unanswered_callback_queries == []


@pytest.mark.asyncio
async def test_press_without_any_keyboard_fails(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER)
    await bot.send_message(USER, "no buttons here")
    with pytest.raises(AssertionError):
        await user.press("Yes")
    assert fake.updates == []


@pytest.mark.asyncio
async def test_reply_keyboard_tap_and_remove(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER)
    markup = ReplyKeyboardMarkup([[KeyboardButton("Italiano"), KeyboardButton("English")]])
    await bot.send_message(USER, "Lingua?", reply_markup=markup)
    assert user.keyboard == ["Italiano", "English"]
    with pytest.raises(AssertionError):
        await user.tap("Deutsch")
    await user.tap("English")
    assert fake.updates[-1]["message"]["text"] == "English"
    assert fake.chat(USER).messages[-1].from_user
    await bot.send_message(USER, "Ok", reply_markup=ReplyKeyboardRemove())
    assert user.keyboard == []
    assert fake.chat(USER).keyboard is None
    assert user.last.keyboard_removed


@pytest.mark.asyncio
async def test_document_roundtrip(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER)
    await user.send_document("ricevuta.pdf", b"%PDF-1.4 fake", "application/pdf")
    [update] = await bot.get_updates()
    document = update.message.document
    assert document.file_name == "ricevuta.pdf"
    file = await bot.get_file(document.file_id)
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == b"%PDF-1.4 fake"

    sent = await bot.send_document(
        USER, b"report", filename="report.txt", caption="<b>R</b>", parse_mode="HTML"
    )
    assert sent.caption == "R"
    assert fake.chat(USER).messages[-1].document == ("report.txt", b"report")
    await bot.send_document(USER, sent.document.file_id)  # reuse by file_id
    with pytest.raises(BadRequest):
        await bot.send_document(USER, "no-such-file-id")
    assert len(fake.violations) == 1


@pytest.mark.asyncio
async def test_send_photo_records_bytes(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER)
    sent = await bot.send_photo(USER, b"\x89PNG fake", caption="QR", protect_content=True)
    message = fake.chat(USER).messages[-1]
    assert (message.photo, message.caption, message.protect_content) == (
        b"\x89PNG fake",
        "QR",
        True,
    )
    assert sent.photo[0].width > 0
    album = await bot.send_media_group(USER, [InputMediaPhoto(b"a"), InputMediaPhoto(b"b")])
    assert [m.media_group_id for m in album] == [album[0].media_group_id] * 2
    assert [m.photo for m in fake.chat(USER).messages[-2:]] == [b"a", b"b"]
    assert fake.violations == []


@pytest.mark.asyncio
async def test_other_sends_and_get_chat_get_realistic_results(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user(USER, "Amina")
    sent = await bot.send_location(USER, 45.43, 9.07)
    assert sent.chat.id == USER
    assert len(fake.chat(USER).messages) == 1
    chat = await bot.get_chat(USER)
    assert (chat.id, chat.type, chat.first_name) == (USER, "private", "Amina")
    assert await bot.send_chat_action(USER, "typing") is True
    assert fake.violations == []


@pytest.mark.asyncio
async def test_get_updates_returns_enqueued_update(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER, "Amina", language_code="ar")
    await user.send("/start ref_1")
    [update] = await bot.get_updates(timeout=1)
    assert update.message.text == "/start ref_1"
    assert update.message.from_user.language_code == "ar"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


@pytest.mark.asyncio
async def test_get_updates_long_poll_wakes_on_new_update(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(USER)
    poll = asyncio.create_task(bot.get_updates(timeout=1))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await user.send("hello")
    updates = await asyncio.wait_for(poll, 0.5)
    assert updates[0].message.text == "hello"


@pytest.mark.asyncio
async def test_group_user_and_contact(fake: FakeBotAPI, bot: Bot) -> None:
    member = fake.user(USER, "Amina").in_group(-100123, chat_type="supergroup", title="Mezzetta")
    await member.send("/help@qmondo_demo_bot")
    await fake.user(7, "Luca").send_contact("+390212345", "Luca")
    first, second = await bot.get_updates()
    assert first.message.chat.type == "supergroup"
    assert first.message.from_user.id == USER
    assert second.message.contact.phone_number == "+390212345"
    assert second.message.contact.user_id == 7
    await bot.send_message(-100123, "group reply")
    assert [m.text for m in member.messages] == ["group reply"]


@pytest.mark.asyncio
async def test_on_message_listener_and_latency() -> None:
    fake = FakeBotAPI(latency=0.01)
    seen: list[tuple[int, int]] = []
    fake.on_message = lambda chat_id, message: seen.append((chat_id, message.message_id))
    bot = Bot("123:ABC", request=fake)
    await bot.initialize()
    fake.user(USER)
    await bot.send_message(USER, "hi")
    assert seen == [(USER, 1)]


@pytest.mark.asyncio
async def test_application_end_to_end(fake: FakeBotAPI) -> None:
    """The real Application dispatches updates the fake delivers, and its answers land."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text("Benvenuta!", reply_markup=keyboard(("Go", "go")))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("Andiamo")

    app = ApplicationBuilder().token("123:ABC").request(fake).get_updates_request(fake).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    fake.deliver = lambda data: app.process_update(Update.de_json(data, app.bot))
    async with app:
        user = fake.user(USER, "Amina")
        await user.send("/start")
        assert user.last.text == "Benvenuta!"
        await user.press("Go")
        assert (user.last.text, user.last.edited, user.buttons) == ("Andiamo", True, [])
    assert fake.violations == []


def test_spec_is_checked_in_and_complete() -> None:
    spec = load_spec()
    assert spec.version.startswith("Bot API")
    assert spec.methods["sendMessage"]["params"]["text"] == {
        "types": ["String"],
        "required": True,
        "min": 1,
        "max": 4096,
        "unit": "characters",
    }
    assert "BotCommandScopeChat" in spec.types["BotCommandScope"]["subtypes"]
    assert spec.types["BotCommandScopeChat"]["fields"]["type"]["const"] == "chat"
    assert spec.validate_object("BotCommandScope", {"type": "chat", "chat_id": 1}) == []
    assert spec.validate_object("BotCommandScope", {"type": "chat"}) != []
