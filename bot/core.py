"""What every service needs, built once per process: settings, database, catalogs, clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config import Settings
from bot.db import Database
from bot.i18n import Catalogs


@dataclass
class Core:
    settings: Settings
    db: Database
    catalogs: Catalogs
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def create(cls, settings: Settings, clock: Clock | None = None) -> Core:
        catalogs = Catalogs(settings.locales_dir, settings.default_locale, settings.tz)
        return cls(settings, Database(settings.database_url), catalogs, clock or Clock())

    async def close(self) -> None:
        await self.db.dispose()
