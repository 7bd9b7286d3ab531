"""Onboarding: /start -> language -> privacy consent -> link code (optional) -> main menu.

/link enters at the code step. Conversation states are stored in the database, so a restart
resumes the resident where they were.

```mermaid
stateDiagram-v2
    [*] --> LANGUAGE: /start (no consent yet)
    [*] --> MENU: /start (consented)
    LANGUAGE --> CONSENT: language button
    CONSENT --> [*]: No thanks (only the refusal is kept)
    CONSENT --> CODE: I agree
    CONSENT --> MENU: I agree, deep-link code links
    [*] --> CODE: /link (no code given)
    CODE --> CODE: wrong, used or expired code
    CODE --> MENU: linked, Skip, or locked out
    MENU --> [*]
```
"""

from __future__ import annotations

import warnings

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.i18n import Translator
from bot.models import Resident
from bot.services import linking, residents
from bot.services.linking import LinkResult, Outcome
from handlers import language, menu, privacy
from handlers.common import (
    BotContext,
    Conversation,
    buttons,
    callback_parts,
    menu_action,
    reply,
    show_menu,
    who,
)

# Intended: buttons belong to the chat's conversation, not to one message (PTB warns anyway).
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)

LANGUAGE, CONSENT, CODE = "onboarding:language", "onboarding:consent", "onboarding:code"
END = ConversationHandler.END
PRIVATE = filters.ChatType.PRIVATE


async def start(update: Update, context: BotContext) -> str | int:
    """/start [CODE] (a QR code on a letter opens it with the code)."""
    return await enter(update, context, starting=True)


async def link(update: Update, context: BotContext) -> str | int:
    """/link [CODE]: link this chat to a tenant record."""
    return await enter(update, context, starting=False)


async def enter(update: Update, context: BotContext, starting: bool) -> str | int:
    resident, t = await who(update, context)
    if starting:
        resident = await residents.restart(context.core, resident.id)
    code = context.args[0] if context.args else None
    if resident.consent_at is None:
        if code:  # kept until the resident has agreed to the privacy notice
            await linking.hold_for_consent(context.core, resident.id, code)
        return await ask_language(update, context, t)
    if code:
        return await try_code(update, context, resident, t, code)
    if not starting:
        return await ask_code(update, t)
    await show_menu(update, t, t._("Welcome back! Choose from the menu below."))
    return END


async def ask_language(update: Update, context: BotContext, t: Translator) -> str:
    await reply(
        update,
        t._("Hello! I am the QMondo assistant. Choose your language:"),
        reply_markup=language.picker(context.core.catalogs),
    )
    return LANGUAGE


async def chose_language(update: Update, context: BotContext) -> str:
    applied = await language.apply(update, context)
    if applied is None:
        return LANGUAGE
    return await ask_consent(update, applied[1])


async def ask_consent(update: Update, t: Translator) -> str:
    await reply(
        update,
        privacy.notice(t) + "\n\n" + t._("Do you agree?"),
        reply_markup=buttons(
            [(t._("✅ I agree"), "consent:yes"), (t._("❌ No, thanks"), "consent:no")]
        ),
    )
    return CONSENT


async def answered_consent(update: Update, context: BotContext) -> str | int:
    resident, t = await who(update, context)
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    if callback_parts(update)[1] != "yes":
        await residents.refuse_consent(context.core, resident.id)
        await reply(
            update, t._("OK. We have not saved your data. If you change your mind, send /start.")
        )
        return END
    resident = await residents.give_consent(
        context.core, resident.id, update.effective_user.full_name
    )
    await reply(update, t._("Thank you!"))
    assert update.effective_chat is not None
    held = await linking.redeem_held(context.core, resident.id, update.effective_chat.id)
    if held is not None:
        return await report_link(update, t, held)
    return await ask_code(update, t)


async def ask_code(update: Update, t: Translator) -> str:
    await reply(
        update,
        t._(
            "Do you have a personal code from the QMondo office? Type it here, or scan the "
            "QR code on your letter. If you have no code, tap Skip."
        ),
        reply_markup=buttons([(t._("Skip"), "code:skip")]),
    )
    return CODE


async def typed_code(update: Update, context: BotContext) -> str | int:
    assert update.message is not None and update.message.text is not None
    if menu_action(context.core, update.message.text):  # a menu button, not a code
        await menu.chosen(update, context)
        return END
    resident, t = await who(update, context)
    return await try_code(update, context, resident, t, update.message.text)


async def try_code(
    update: Update, context: BotContext, resident: Resident, t: Translator, code: str
) -> str | int:
    assert update.effective_chat is not None
    result = await linking.redeem(context.core, resident.id, update.effective_chat.id, code)
    return await report_link(update, t, result)


async def report_link(update: Update, t: Translator, result: LinkResult) -> str | int:
    skip = buttons([(t._("Skip"), "code:skip")])
    match result.outcome:
        case Outcome.LINKED:
            assert result.resident is not None
            await show_menu(
                update,
                t,
                t._(
                    "Done! This chat is now linked to the tenant record of {name}.",
                    name=result.resident.name,
                ),
            )
            return END
        case Outcome.ALREADY_LINKED:
            await show_menu(update, t, t._("This chat is already linked to your tenant record."))
            return END
        case Outcome.OTHER_RECORD:
            await show_menu(
                update,
                t,
                t._(
                    "This chat is already linked to another tenant "
                    "record. Please ask the QMondo office."
                ),
            )
            return END
        case Outcome.LOCKED:
            assert result.locked_until is not None
            await show_menu(
                update,
                t,
                t._(
                    "Too many wrong codes. For your safety, try again after {time}.",
                    time=t.time(result.locked_until),
                ),
            )
            return END
        case Outcome.MALFORMED:
            await reply(
                update,
                t._("A code has 8 letters and numbers, like ABCD-2345. Please type it again."),
                reply_markup=skip,
            )
        case Outcome.USED:
            await reply(
                update,
                t._(
                    "This code was already used. Ask the QMondo office for a "
                    "new one, or type another code."
                ),
                reply_markup=skip,
            )
        case Outcome.EXPIRED:
            await reply(
                update,
                t._(
                    "This code has expired. Ask the QMondo office for a new "
                    "one, or type another code."
                ),
                reply_markup=skip,
            )
        case Outcome.WRONG:
            assert result.attempts_left is not None
            await reply(
                update,
                t.n_(
                    "This code is not right. Check it and try again. You have {n} try left.",
                    "This code is not right. Check it and try again. You have {n} tries left.",
                    result.attempts_left,
                ),
                reply_markup=skip,
            )
    return CODE


async def skipped_code(update: Update, context: BotContext) -> int:
    _, t = await who(update, context)
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    await show_menu(update, t, t._("No problem. You can link your record later with /link."))
    return END


async def use_the_buttons(update: Update, context: BotContext) -> None:
    """Typed text where a button is expected: say so; the question with its buttons stays above."""
    _, t = await who(update, context)
    await reply(update, t._("Please tap one of the buttons above."))


async def cancel(update: Update, context: BotContext) -> int:
    resident, t = await who(update, context)
    if resident.consent_at is None:
        await reply(update, t._("Stopped. Send /start when you want to begin."))
    else:
        await show_menu(update, t, t._("Stopped. Choose from the menu below."))
    return END


def handler() -> BaseHandler[Update, BotContext, object]:
    text = filters.TEXT & ~filters.COMMAND & PRIVATE
    return Conversation(
        entry_points=[
            CommandHandler("start", start, filters=PRIVATE),
            CommandHandler("link", link, filters=PRIVATE),
        ],
        states={
            LANGUAGE: [
                CallbackQueryHandler(chose_language, pattern=language.PATTERN),
                MessageHandler(text, use_the_buttons),
            ],
            CONSENT: [
                CallbackQueryHandler(answered_consent, pattern=r"^consent:(yes|no)$"),
                MessageHandler(text, use_the_buttons),
            ],
            CODE: [
                CallbackQueryHandler(skipped_code, pattern=r"^code:skip$"),
                MessageHandler(text, typed_code),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel, filters=PRIVATE)],
        allow_reentry=True,
        name="onboarding",
        persistent=True,
    )
