"""Who a notice goes to. Features register segments here (enrolled in a course, late with a
payment...), and the broadcast conversation offers them to operators.

An audience is stored as "segment" or "segment:option" (e.g. "language:ar", "building:B").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.i18n import N_, Translator
from bot.models import Resident, Role
from bot.services import DomainError

Options = Callable[[Core, AsyncSession, Translator], Awaitable[list[tuple[str, str]]]]


class UnknownAudience(DomainError):
    pass


@dataclass(frozen=True)
class Segment:
    name: str  # stable: stored with broadcasts and sent in callback data
    label: str  # msgid (N_), shown to operators
    # A condition on Resident, given the core (its clock: "late" is by today's date in Rome).
    members: Callable[[Core, str | None], ColumnElement[bool]]
    options: Options | None = None  # (value, label) choices, if the segment takes one


SEGMENTS: dict[str, Segment] = {}


def register(segment: Segment) -> Segment:
    SEGMENTS[segment.name] = segment
    return segment


def has_chat() -> ColumnElement[bool]:
    """Reachable at all: a private chat that accepted the privacy notice."""
    return and_(
        Resident.telegram_user_id.is_not(None),
        Resident.chat_id.is_not(None),
        Resident.consent_at.is_not(None),
    )


def parse(audience: str) -> tuple[Segment, str | None]:
    name, _, option = audience.partition(":")
    segment = SEGMENTS.get(name)
    if segment is None or (segment.options is None) != (option == ""):
        raise UnknownAudience(audience)
    return segment, option or None


def members(core: Core, audience: str) -> Select[tuple[int]]:
    segment, option = parse(audience)
    return select(Resident.id).where(has_chat(), segment.members(core, option))


async def options(core: Core, name: str, t: Translator) -> list[tuple[str, str]]:
    segment = SEGMENTS[name]
    if segment.options is None:
        return []
    async with core.db.session() as session:
        return await segment.options(core, session, t)


async def describe(core: Core, audience: str, t: Translator) -> str:
    """The audience as operators read it: "By language: العربية"."""
    try:
        segment, option = parse(audience)
    except UnknownAudience:
        return audience
    if option is None:
        return t._(segment.label)
    labels = dict(await options(core, segment.name, t))
    return t._("{segment}: {option}", segment=t._(segment.label), option=labels.get(option, option))


@dataclass
class Reach:
    """Who a notice would reach now: per language, and who would be left out."""

    by_locale: Counter[str] = field(default_factory=Counter)
    opted_out: int = 0
    unreachable: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_locale.values())


async def reach(core: Core, audience: str, urgent: bool) -> Reach:
    """Opted-out residents get only urgent notices; unreachable ones (blocked) nothing."""
    segment, option = parse(audience)
    result = Reach()
    async with core.db.session() as session:
        rows = await session.execute(
            select(Resident.locale, Resident.opted_out, Resident.unreachable, func.count())
            .where(has_chat(), segment.members(core, option))
            .group_by(Resident.locale, Resident.opted_out, Resident.unreachable)
        )
        for locale, opted_out, unreachable, count in rows:
            if unreachable:
                result.unreachable += count
            elif opted_out and not urgent:
                result.opted_out += count
            else:
                locale = locale if locale in core.catalogs.locales else core.catalogs.default
                result.by_locale[locale] += count
    return result


# -- the built-in segments -------------------------------------------------------------------


async def _languages(core: Core, session: AsyncSession, t: Translator) -> list[tuple[str, str]]:
    used = set(await session.scalars(select(Resident.locale).where(has_chat()).distinct()))
    return [
        (code, core.catalogs.native_name(code)) for code in core.catalogs.locales if code in used
    ]


async def _buildings(core: Core, session: AsyncSession, t: Translator) -> list[tuple[str, str]]:
    rows = await session.scalars(
        select(Resident.building)
        .where(Resident.building.is_not(None), Resident.tenant_code.is_not(None))
        .distinct()
        .order_by(Resident.building)
    )
    return [(building, building) for building in rows if building]


async def _roles(core: Core, session: AsyncSession, t: Translator) -> list[tuple[str, str]]:
    return [("resident", t._("Residents")), ("operator", t._("Operators"))]


def _role(core: Core, option: str | None) -> ColumnElement[bool]:
    if option == "operator":
        return Resident.role.in_([Role.OPERATOR, Role.ADMIN])
    return Resident.role == Role.RESIDENT


LINKED = register(
    Segment("linked", N_("Everyone linked"), lambda *_: Resident.tenant_code.is_not(None))
)
register(
    Segment("language", N_("By language"), lambda _, code: Resident.locale == code, _languages)
)
register(
    Segment(
        "building",
        N_("By building"),
        lambda _, building: and_(Resident.tenant_code.is_not(None), Resident.building == building),
        _buildings,
    )
)
register(Segment("role", N_("By role"), _role, _roles))
