"""The one formatter of times people read (core.timefmt): every time of day names its zone, by
its abbreviation where it has a real one, else by its offset; dates alone carry none; the
language is the one given."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.timefmt import TimeFormatter

UTC = dt.UTC
NNBSP = "\u202f"  # CLDR's narrow no-break space before AM/PM
# 2027-10-31 in London: the clocks go back at 02:00 BST, so 01:00 happens twice.
FIRST_ONE_AM = dt.datetime(2027, 10, 31, 0, 0, tzinfo=UTC)  # 01:00 BST
SECOND_ONE_AM = dt.datetime(2027, 10, 31, 1, 0, tzinfo=UTC)  # 01:00 GMT


def test_the_two_one_oclocks_of_a_london_fall_back_night_read_differently():
    london = TimeFormatter("Europe/London", "en")
    assert london.datetime(FIRST_ONE_AM) == f"Sunday, October 31, 2027, 1:00{NNBSP}AM BST"
    assert london.datetime(SECOND_ONE_AM) == f"Sunday, October 31, 2027, 1:00{NNBSP}AM GMT"
    assert london.time(FIRST_ONE_AM) == f"1:00{NNBSP}AM BST" and london.time(SECOND_ONE_AM) == f"1:00{NNBSP}AM GMT"
    assert london.zones([FIRST_ONE_AM, FIRST_ONE_AM + dt.timedelta(minutes=30), SECOND_ONE_AM]) == ["BST", "GMT"]
    # The instant's own offset does not matter: the same instant written from New York reads the same.
    assert london.datetime(SECOND_ONE_AM.astimezone(ZoneInfo("America/New_York"))) == london.datetime(SECOND_ONE_AM)


def test_british_english_writes_the_24_hour_clock_with_the_zone():
    london = TimeFormatter(ZoneInfo("Europe/London"), "en_GB")
    assert london.datetime(FIRST_ONE_AM) == "Sunday, 31 October 2027, 01:00 BST"
    assert london.datetime(SECOND_ONE_AM) == "Sunday, 31 October 2027, 01:00 GMT"


@pytest.mark.parametrize(
    ("zone", "instant", "expected"),
    [
        ("Europe/Paris", dt.datetime(2027, 1, 15, 9, tzinfo=UTC), "10:00 CET"),
        ("Europe/Paris", dt.datetime(2027, 7, 15, 8, tzinfo=UTC), "10:00 CEST"),
        ("America/New_York", dt.datetime(2027, 1, 15, 15, tzinfo=UTC), "10:00 EST"),
        ("UTC", dt.datetime(2027, 1, 15, 10, tzinfo=UTC), "10:00 UTC"),
        # No abbreviation (the tz database says "+11", "-03", "+04"): the offset from GMT.
        ("Pacific/Noumea", dt.datetime(2027, 1, 14, 23, tzinfo=UTC), "10:00 GMT+11"),
        ("America/Sao_Paulo", dt.datetime(2027, 1, 15, 13, tzinfo=UTC), "10:00 GMT-3"),
        ("Etc/GMT-4", dt.datetime(2027, 1, 15, 6, tzinfo=UTC), "10:00 GMT+4"),
        # Half-hour and quarter-hour offsets keep their minutes.
        ("Asia/Kabul", dt.datetime(2027, 1, 15, 5, 30, tzinfo=UTC), "10:00 GMT+4:30"),
        ("Asia/Kathmandu", dt.datetime(2027, 1, 15, 4, 15, tzinfo=UTC), "10:00 GMT+5:45"),
        ("America/St_Johns", dt.datetime(2027, 1, 15, 13, 30, tzinfo=UTC), "10:00 NST"),
        ("Asia/Kolkata", dt.datetime(2027, 1, 15, 4, 30, tzinfo=UTC), "10:00 IST"),
    ],
)
def test_a_zone_is_named_by_its_abbreviation_or_else_its_offset(zone, instant, expected):
    assert TimeFormatter(zone, "en_GB").time(instant) == expected


def test_the_language_writes_dates_times_and_offsets():
    berlin_summer = dt.datetime(2027, 7, 4, 7, 30, tzinfo=UTC)
    assert TimeFormatter("Europe/Berlin", "de_DE").datetime(berlin_summer) == "Sonntag, 4. Juli 2027, 09:30 CEST"
    assert TimeFormatter("Europe/Paris", "fr_FR").datetime(berlin_summer) == "dimanche 4 juillet 2027, 09:30 CEST"
    # French writes an offset from UTC, not GMT.
    assert TimeFormatter("Pacific/Noumea", "fr_FR").time(dt.datetime(2027, 1, 14, 23, tzinfo=UTC)) == "10:00 UTC+11"
    assert TimeFormatter("Europe/London", "fr_FR").day(FIRST_ONE_AM) == "dimanche 31 octobre"
    assert TimeFormatter("Europe/London", "de_DE").day_short(FIRST_ONE_AM) == "So., 31. Okt."
    # A locale babel does not know falls back to English rather than failing a page or an email.
    assert (
        TimeFormatter("Europe/London", "xx_YY").datetime(SECOND_ONE_AM)
        == f"Sunday, October 31, 2027, 1:00{NNBSP}AM GMT"
    )


def test_days_carry_no_zone_and_a_bare_clock_time_is_only_the_time():
    london = TimeFormatter("Europe/London", "en")
    assert london.day(dt.date(2027, 10, 31)) == "Sunday, October 31"
    assert london.day_short(dt.date(2027, 10, 31)) == "Sun, Oct 31"
    assert london.date(SECOND_ONE_AM) == "Sunday, October 31, 2027"
    assert london.clock(SECOND_ONE_AM) == f"1:00{NNBSP}AM"
    # An instant's day is its day in the zone: 23:30 UTC on the 30th is already the 31st in Paris.
    assert (
        TimeFormatter("Europe/Paris", "en").day(dt.datetime(2027, 10, 30, 23, 30, tzinfo=UTC)) == "Sunday, October 31"
    )


def test_a_span_names_its_zone_once_unless_the_clocks_change_within_it():
    london = TimeFormatter("Europe/London", "en_GB")
    start = dt.datetime(2027, 11, 2, 10, tzinfo=UTC)
    assert london.span(start, start + dt.timedelta(minutes=30)) == "Tuesday, 2 November 2027, 10:00 – 10:30 GMT"
    across = FIRST_ONE_AM + dt.timedelta(minutes=30)  # 01:30 BST to 01:00 GMT
    assert london.span(across, SECOND_ONE_AM) == "Sunday, 31 October 2027, 01:30 BST – 01:00 GMT"
    overnight = dt.datetime(2027, 11, 2, 23, 30, tzinfo=UTC)
    assert (
        london.span(overnight, overnight + dt.timedelta(hours=1))
        == "Tuesday, 2 November 2027, 23:30 GMT – Wednesday, 3 November 2027, 00:30 GMT"
    )


def test_a_location_gives_its_zone_and_language_and_a_time_without_offset_is_refused():
    class Place:
        timezone, locale = "Europe/Berlin", "de_DE"

    assert TimeFormatter.of(Place()).time(dt.datetime(2027, 1, 15, 9, tzinfo=UTC)) == "10:00 CET"
    with pytest.raises(ValueError):
        TimeFormatter("Europe/London").datetime(dt.datetime(2027, 1, 15, 9))
