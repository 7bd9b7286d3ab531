"""Calendar files (.ics) a resident adds to the phone's calendar: one event, in Europe/Rome
time with its VTIMEZONE, so phones in any zone show the right hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable per event, so a second download updates the entry instead of doubling it
    title: str
    start: datetime  # timezone-aware
    end: datetime
    location: str = ""
    description: str = ""
    geo: tuple[float, float] | None = None
    sequence: int = 0  # raised at every change, so a calendar takes the new file as an update


def calendar_file(event: CalendarEvent, tz: ZoneInfo, now: datetime) -> bytes:
    entry = Event()
    entry.add("uid", f"{event.uid}@qmondo")
    entry.add("dtstamp", now.astimezone(UTC))
    entry.add("sequence", event.sequence)
    entry.add("dtstart", event.start.astimezone(tz))
    entry.add("dtend", event.end.astimezone(tz))
    entry.add("summary", event.title)
    if event.location:
        entry.add("location", event.location)
    if event.description:
        entry.add("description", event.description)
    if event.geo:
        entry.add("geo", event.geo)
    calendar = Calendar()
    calendar.add("prodid", "-//QMondo Bot//Mezzetta//IT")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(entry)
    calendar.add_missing_timezones()
    return calendar.to_ical()
