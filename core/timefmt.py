"""Times as people read them: one zone, one language, and every time of day names its zone.

Every time a person reads (emails, customer pages) is written by a `TimeFormatter`, so that on a
fall-back night 01:00 BST and 01:00 GMT never read alike. A zone is named by its abbreviation
where it has a real one (GMT/BST, CET/CEST, EST/EDT), else by its offset in the language's words
("GMT+11", "GMT+5:30", "UTC-3" in French): the tz database writes "+11" for zones that have no
abbreviation, and that is no name. Dates alone (a day in a picker) carry no zone.

The zone and the language are given explicitly, so one page can later write the same instant for
the location and for a visitor elsewhere, in the visitor's language.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from typing import TypeGuard
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, match_skeleton

DEFAULT_LOCALE = "en"


@functools.lru_cache(maxsize=128)
def _locale(identifier: str) -> Locale:
    """The babel locale of an identifier such as `en_GB` or `de-DE` (English when unknown)."""
    try:
        return Locale.parse((identifier or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


def _is_abbreviation(name: str | None) -> TypeGuard[str]:
    """True for a real zone abbreviation ("BST", "UTC"); false for the tz database's numeric
    stand-ins ("+11", "-03", "+0530") and for nothing at all."""
    return name is not None and any(c.isalpha() for c in name)


@functools.lru_cache(maxsize=256)
def _day_pattern(locale: Locale, skeleton: str, wide: bool = False) -> str:
    """The language's pattern for a skeleton; `wide` spells the weekday out ("Sunday", not "Sun"),
    as CLDR's pattern tables hold only the short weekday for these skeletons."""
    pattern = locale.datetime_skeletons[match_skeleton(skeleton, locale.datetime_skeletons)].pattern
    if not wide:
        return pattern
    parts = pattern.split("'")  # even parts are pattern letters, odd ones quoted text
    return "'".join(
        re.sub(r"(?<![Ec])[Ec]{1,3}(?![Ec])", "EEEE", part) if i % 2 == 0 else part for i, part in enumerate(parts)
    )


class TimeFormatter:
    """Writes instants in one zone and one language. Named formats, never raw patterns, so that
    every page and email reads alike and translations follow the locale."""

    def __init__(self, zone: str | ZoneInfo, locale: str = DEFAULT_LOCALE) -> None:
        self.zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        self.locale = _locale(locale)

    @classmethod
    def of(cls, location) -> TimeFormatter:
        """The formatter of a location (anything with `timezone` and `locale`): its zone, its language."""
        return cls(location.timezone, getattr(location, "locale", None) or DEFAULT_LOCALE)

    def local(self, instant: dt.datetime) -> dt.datetime:
        """The instant in this zone (a naive datetime is refused: it names no instant)."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"{instant!r} has no UTC offset")
        return instant.astimezone(self.zone)

    def zone_name(self, instant: dt.datetime) -> str:
        """The zone at that instant: "BST", "CET", or where it has no abbreviation "GMT+11"."""
        local = self.local(instant)
        name = local.tzname()
        return name if _is_abbreviation(name) else self.offset(instant)

    def offset(self, instant: dt.datetime) -> str:
        """The zone's offset from UTC at that instant in the language's words: "GMT+11", "GMT+5:30", "GMT"."""
        offset = self.local(instant).utcoffset()
        assert offset is not None  # local() is aware, in a ZoneInfo
        minutes = int(offset.total_seconds() // 60)
        hours, rest = divmod(abs(minutes), 60)
        text = "" if minutes == 0 else f"{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")
        return self.locale.zone_formats["gmt"] % text

    def datetime(self, instant: dt.datetime) -> str:
        """Date and time with the zone: "Sunday, October 31, 2027, 1:00 AM BST"."""
        return self._join(self.date(instant), self.time(instant))

    def date(self, value: dt.date | dt.datetime) -> str:
        """The full local date, no zone: "Sunday, October 31, 2027" (an instant's date in this zone)."""
        return format_date(self._day_of(value), "full", locale=self.locale)

    def time(self, instant: dt.datetime) -> str:
        """The time of day with its zone: "1:00 AM BST"."""
        return f"{self.clock(instant)} {self.zone_name(instant)}"

    def clock(self, instant: dt.datetime) -> str:
        """The bare time of day, "1:00 AM": only where the zone is named nearby (a picker's times
        under a heading that names it)."""
        local = self.local(instant)
        return format_time(local, "short", tzinfo=self.zone, locale=self.locale)

    def span(self, start: dt.datetime, end: dt.datetime) -> str:
        """From start to end, the zone named once when it holds throughout: "Sunday, October 31,
        2027, 10:00 AM – 10:30 AM GMT"; "..., 1:30 AM BST – 1:00 AM GMT" across a change."""
        same_day = self._day_of(start) == self._day_of(end)
        if same_day and self.zone_name(start) == self.zone_name(end):
            return self._join(self.date(start), f"{self.clock(start)} – {self.time(end)}")
        return f"{self.datetime(start)} – {self.time(end) if same_day else self.datetime(end)}"

    def day(self, value: dt.date | dt.datetime) -> str:
        """A day without its year, for a picker's heading: "Sunday, October 31"."""
        return format_date(self._day_of(value), _day_pattern(self.locale, "MMMMEd", wide=True), locale=self.locale)

    def day_short(self, value: dt.date | dt.datetime) -> str:
        """A day in few letters, for a picker's day buttons: "Sun, Oct 31"."""
        return format_date(self._day_of(value), _day_pattern(self.locale, "MMMEd"), locale=self.locale)

    def zones(self, instants: Iterable[dt.datetime]) -> list[str]:
        """The zone names of some instants, each once, in order: ["BST", "GMT"] on a fall-back day."""
        return list(dict.fromkeys(self.zone_name(i) for i in instants))

    def _day_of(self, value: dt.date | dt.datetime) -> dt.date:
        return self.local(value).date() if isinstance(value, dt.datetime) else value

    def _join(self, date: str, time: str) -> str:
        """A date and a time as the language joins them ("{1}, {0}" in English)."""
        pattern = str(self.locale.datetime_formats["full"]).replace("'", "")
        return pattern.replace("{1}", date).replace("{0}", time)
