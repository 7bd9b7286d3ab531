"""What every handler uses: the typed context, who is writing, the main menu keyboard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, ClassVar

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackContext, ConversationHandler, ExtBot, filters
from telegram.ext._utils.types import ConversationKey

from bot.core import Core
from bot.i18n import N_, Catalogs, Translator
from bot.models import Resident
from bot.services import residents

MENU_ITEMS = {
    "training": N_("📚 Training"),
    "payments": N_("💶 My payments"),
    "events": N_("🎉 Events"),
    "language": N_("🌐 Language"),
    "help": N_("❓ Help"),
}
MENU_ROWS = [["training", "payments"], ["events", "language"], ["help"]]


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The callback context with typed access to the core services."""

    @property
    def core(self) -> Core:
        return self.application.bot_data["core"]


def core_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Core:
    return application.bot_data["core"]


class Conversation(ConversationHandler[BotContext]):
    """A conversation that is the only one open in its chat, and that ends when left idle.

    All conversations share handler group 0, so one left half-way would take the typed answers
    meant for the question on screen: starting a conversation ends the others. PTB's own
    timeout is neither persisted nor on our clock, so idleness is checked before each update
    (`expire_idle`); after a restart, stale states are dropped when loaded.
    """

    def __init__(self, *args: Any, idle: timedelta | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.idle = idle  # None: the configured conversation time to live
        self.last_seen: dict[ConversationKey, datetime] = {}

    async def handle_update(  # type: ignore[override]
        self, update: Update, application: Any, check_result: Any, context: BotContext
    ) -> object | None:
        _, key, handler, _ = check_result
        if handler in self.entry_points:
            for other in conversations(application):
                if other is not self:
                    other.end(key)
        result = await super().handle_update(update, application, check_result, context)
        if key in self._conversations:
            self.last_seen[key] = core_of(application).clock.now()
        else:
            self.last_seen.pop(key, None)
        return result

    def end(self, key: ConversationKey) -> None:
        self.last_seen.pop(key, None)
        if key in self._conversations:
            self._update_state(self.END, key)

    def expire(self, key: ConversationKey, now: datetime, ttl: timedelta) -> None:
        if key in self._conversations:
            seen = self.last_seen.setdefault(key, now)  # loaded after a restart: from now on
            if now - seen > (self.idle or ttl):
                self.end(key)


def conversations(application: Application[Any, Any, Any, Any, Any, Any]) -> list[Conversation]:
    groups = application.handlers.values()
    return [handler for group in groups for handler in group if isinstance(handler, Conversation)]


def expire_idle(application: Application[Any, Any, Any, Any, Any, Any], update: object) -> None:
    """End this chat's conversations left idle too long, before the update is read."""
    if isinstance(update, Update) and update.effective_chat and update.effective_user:
        key = (update.effective_chat.id, update.effective_user.id)
        core = core_of(application)
        for conversation in conversations(application):
            conversation.expire(key, core.clock.now(), core.settings.conversation_ttl)


async def who(update: Update, context: BotContext) -> tuple[Resident, Translator]:
    """The resident writing in this private chat (created on first contact) and their language."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    resident = await residents.touch(context.core, user.id, chat.id, user.language_code)
    return resident, context.core.catalogs.translator(resident.locale)


def main_menu(t: Translator) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(t._(MENU_ITEMS[action])) for action in row] for row in MENU_ROWS]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


async def show_menu(update: Update, t: Translator, text: str) -> None:
    await reply(update, text, reply_markup=main_menu(t))


def menu_action(core: Core, text: str) -> str | None:
    """Which menu button this text is, in any language (a keyboard may predate a change)."""
    return _menu_labels(core.catalogs).get(text)


@lru_cache(maxsize=4)
def _menu_labels(catalogs: Catalogs) -> dict[str, str]:
    """Label -> action for every language, built once per set of catalogs."""
    return {t._(msgid): action for t in catalogs.all() for action, msgid in MENU_ITEMS.items()}


class MenuButton(filters.MessageFilter):
    """Text that is the menu button of `action`, in any language: a conversation can take its
    own menu button as an entry point. The labels are learnt at start (`learn_menu`)."""

    labels: ClassVar[dict[str, frozenset[str]]] = {}

    def __init__(self, action: str) -> None:
        super().__init__(name=f"MenuButton({action})")
        self.action = action

    def filter(self, message: Message) -> bool:
        return message.text is not None and message.text in self.labels.get(self.action, ())


def learn_menu(catalogs: Catalogs) -> None:
    MenuButton.labels = {
        action: frozenset(t._(msgid) for t in catalogs.all())
        for action, msgid in MENU_ITEMS.items()
    }


def buttons(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def callback_parts(update: Update) -> list[str]:
    """Callback data is short and structured (`area:action:arg`); it is user input, check it."""
    query = update.callback_query
    assert query is not None and query.data is not None
    return query.data.split(":")


async def reply(update: Update, text: str, **kwargs: Any) -> Message:
    """Answer in the chat of the update, whether it came from a message or a button."""
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, parse_mode=ParseMode.HTML, **kwargs)


async def edit(update: Update, text: str) -> None:
    """Replace the text of the message whose button was pressed (its buttons go away)."""
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)


async def answer_query(update: Update, text: str | None = None) -> None:
    """Answer the button press, if this update is one (Telegram shows a spinner until then)."""
    if update.callback_query is not None:
        await update.callback_query.answer(text)


async def remove_buttons(update: Update) -> None:
    """Take the buttons off the message whose button was pressed, so it is not pressed twice."""
    query = update.callback_query
    # A second tap on a slow phone finds the buttons gone already: nothing to take off.
    if query is not None and getattr(query.message, "reply_markup", None):
        await query.edit_message_reply_markup(None)


def typed(update: Update) -> str:
    assert update.message is not None and update.message.text is not None
    return update.message.text


async def unknown_command(update: Update, t: Translator) -> None:
    await reply(update, t._("I don't know this command. Send /help to see what I can do."))


def operators_only(
    callback: Callable[[Update, BotContext, Resident, Translator], Awaitable[Any]],
) -> Callable[[Update, BotContext], Awaitable[Any]]:
    """Check the role in the database on every call; anyone else gets the ordinary answer."""

    @wraps(callback)
    async def checked(update: Update, context: BotContext) -> Any:
        resident, t = await who(update, context)
        if not resident.is_operator:
            if update.callback_query is not None:  # forged, or the role was taken away
                await update.callback_query.answer(t._(INACTIVE))
            else:
                await unknown_command(update, t)
            return None
        return await callback(update, context, resident, t)

    return checked


INACTIVE = N_("This button is no longer active.")
ID = r"\d{1,9}"  # a row id in callback data; longer is forged and would overflow the column
QUIET_TIME = N_(
    "It is quiet time: the notice goes out from {time}, when residents are not disturbed."
)


def cancel_row(t: Translator, prefix: str) -> list[tuple[str, str]]:
    return [(t._("❌ Cancel"), f"{prefix}:cancel")]


def nav_row(t: Translator, prefix: str, step: str) -> list[tuple[str, str]]:
    """Back and Cancel of a form. Back names its question, so a second tap (or an older
    question's Back) goes back once."""
    return [(t._("⬅️ Back"), f"{prefix}:back:{step}"), (t._("❌ Cancel"), f"{prefix}:cancel")]


def language_rows(catalogs: Catalogs, prefix: str) -> list[list[tuple[str, str]]]:
    """The languages other than the default one, two a row, for a per-language version."""
    codes = [code for code in catalogs.locales if code != catalogs.default]
    return [
        [(catalogs.native_name(code), f"{prefix}:{code}") for code in codes[i : i + 2]]
        for i in range(0, len(codes), 2)
    ]


def wake_sender(context: BotContext) -> None:
    """Notices were enqueued: send them now rather than at the sender's next poll."""
    sender = getattr(context.application, "sender", None)
    if sender is not None:
        sender.wake()
