"""Telegram conversations and menus. Thin: parse, call a service in bot/, render."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from handlers import (
    broadcast,
    common,
    courses,
    event_admin,
    event_new,
    events,
    fallback,
    language,
    menu,
    onboarding,
    operator,
    payments,
    plans,
    privacy,
    training,
)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    common.learn_menu(common.core_of(application).catalogs)
    # Order matters within the group: conversations first, the catch-alls last.
    application.add_handler(onboarding.handler())
    modules = (language, privacy, operator, broadcast, event_new, event_admin, events)
    # payments before training: its note step must see a menu button before the training
    # form's entry point (the Training button) does.
    modules += (payments, training, courses, plans)
    for module in (*modules, menu, fallback):
        application.add_handlers(module.handlers())
