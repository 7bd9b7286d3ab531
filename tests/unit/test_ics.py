"""A calendar file parses with a calendar library and carries the event's Rome time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.ics import CalendarEvent, calendar_file

ROME = ZoneInfo("Europe/Rome")


def test_summer_event_keeps_rome_time_and_timezone():
    start = datetime(2027, 6, 12, 18, 30, tzinfo=ROME)
    data = calendar_file(
        CalendarEvent(
            "event-7",
            "Festa del cortile",
            start,
            start + timedelta(hours=2),
            "Cortile via Boccaccio",
            "Musica e cena",
            (45.41, 9.07),
        ),
        ROME,
        datetime(2027, 6, 1, tzinfo=UTC),
    )
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == start
    assert event.decoded("dtstart").utcoffset() == timedelta(hours=2)
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(hours=2)
    assert str(event["summary"]) == "Festa del cortile"
    assert str(event["location"]) == "Cortile via Boccaccio"
    assert str(event["uid"]) == "event-7@qmondo"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Rome"]
    assert b"DTSTART;TZID=Europe/Rome:20270612T183000" in data


def test_winter_event_is_one_hour_ahead_of_utc():
    start = datetime(2027, 1, 15, 9, 0, tzinfo=ROME)
    data = calendar_file(
        CalendarEvent("course-3", "Corso", start, start + timedelta(hours=3)),
        ROME,
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    [event] = Calendar.from_ical(data).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(UTC) == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    assert "location" not in event
