"""The slot engine against a brute-force reference, and the daylight-saving cases by name.

The reference shares no code with the engine: it marks open wall-clock minutes one by one over a
wide run of dates (night windows spilling into the next date, exceptions on their own date), finds
each wall-clock time's instant by scanning real minutes, steps every grid in real time, and checks
every busy interval for every candidate."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st

from core.availability.engine import Availability, free_slots, is_on_grid, local_instant
from core.models import ExceptionKind

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
DAY = 24 * 60
ZONES = [
    "UTC",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Pacific/Apia",
    "America/St_Johns",
    "Asia/Beirut",
]
# Days with a transition in some of the zones above (and their neighbours, by the offsets drawn).
TRANSITION_DAYS = [
    dt.date(2026, 3, 8),
    dt.date(2026, 3, 29),
    dt.date(2026, 10, 25),
    dt.date(2026, 11, 1),
    dt.date(2026, 9, 6),
    dt.date(2026, 4, 5),
    dt.date(2026, 10, 4),
    dt.date(2026, 3, 8),
    dt.date(2018, 11, 4),
    dt.date(2011, 12, 29),
    dt.date(2024, 3, 10),
    dt.date(2024, 11, 3),
    dt.date(2025, 3, 30),
    dt.date(2025, 10, 26),
    dt.date(2021, 9, 5),
]


# ------------------------------------------------------------------ the reference


@cache
def ref_instant(tz: ZoneInfo, day: dt.date, minute: int) -> dt.datetime:
    """Scan real minutes for the first whose local wall clock reaches `minute` of `day`."""
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    instant = wall.replace(tzinfo=UTC) - dt.timedelta(hours=16)
    while instant.astimezone(tz).replace(tzinfo=None) < wall:
        instant += MINUTE
    return instant


def ref_open(roster, extra, time_off, first: dt.date, days: int) -> list[bool]:
    """Open or not, for each wall-clock minute of `days` dates from `first`: a roster window runs
    from its start for (end - start) minutes, or a day longer when its end is not after its start,
    from the midnight of each date on its weekday (the day before `first` included)."""
    size = days * DAY
    rostered, added, removed = [False] * size, [False] * size, [False] * size
    for n in range(-1, days):
        day = first + dt.timedelta(days=n)
        for weekday, a, b in roster:
            if weekday == day.weekday():
                for minute in range(a, b if b > a else b + DAY):
                    if 0 <= n * DAY + minute < size:
                        rostered[n * DAY + minute] = True
        for marks, exceptions in ((added, extra), (removed, time_off)):
            for d, a, b in exceptions:
                if d == day and n >= 0:
                    for minute in range(a, b):
                        marks[n * DAY + minute] = True
    return [(r or a) and not x for r, a, x in zip(rostered, added, removed)]


def ref_candidates(tz, roster, extra, time_off, duration, step, first: dt.date, days: int):
    """Every slot start the open time allows, ignoring appointments: each run of open minutes
    steps in real time from its start, and afresh from the midnight of each date open all day,
    and a slot needs its duration before the run ends. Also the runs, as instants."""
    is_open = ref_open(roster, extra, time_off, first, days) + [False]
    instant = lambda m: ref_instant(tz, first + dt.timedelta(days=m // DAY), m % DAY)  # noqa: E731
    whole = {n * DAY for n in range(days) if all(is_open[n * DAY : (n + 1) * DAY])}
    candidates, runs, run_start = set(), [], None
    for minute, open_now in enumerate(is_open):
        if open_now and run_start is None:
            run_start = minute
        if not open_now and run_start is not None:
            anchors = [run_start] + sorted(m for m in whole if run_start < m < minute)
            close = instant(minute)
            runs.append((instant(run_start), close))
            for i, anchor in enumerate(anchors):
                stop = instant(anchors[i + 1]) if i + 1 < len(anchors) else close
                start = instant(anchor)
                while start < stop and start + duration <= close:
                    candidates.add(start)
                    start += step
            run_start = None
    return candidates, runs


def reference_span(tz, window_start, window_end):
    """A generous run of dates around a window: (first, number of dates)."""
    first = window_start.astimezone(tz).date() - dt.timedelta(days=3)
    return first, (window_end.astimezone(tz).date() - first).days + 4


def reference_slots(
    tz, roster, extra, time_off, busy, duration, buffer, step, window_start, window_end, earliest, latest
):
    first, days = reference_span(tz, window_start, window_end)
    candidates, _ = ref_candidates(tz, roster, extra, time_off, duration, step, first, days)
    slots = []
    for start in candidates:
        clear = all(not (s < start + duration + buffer and start < e) for s, e in busy)
        in_window = window_start <= start < window_end
        allowed = (earliest is None or start >= earliest) and (latest is None or start <= latest)
        if clear and in_window and allowed:
            slots.append(start)
    return sorted(slots)


def engine_availability(tz, roster, extra, time_off):
    exceptions = [(d, ExceptionKind.EXTRA_HOURS, a, b) for d, a, b in extra] + [
        (d, ExceptionKind.TIME_OFF, a, b) for d, a, b in time_off
    ]
    return Availability.build(tz, roster, exceptions)


def engine_slots(tz, roster, extra, time_off, busy, duration, buffer, step, window_start, window_end, earliest, latest):
    return free_slots(
        engine_availability(tz, roster, extra, time_off),
        busy,
        duration=duration,
        buffer=buffer,
        step=step,
        window_start=window_start,
        window_end=window_end,
        earliest=earliest,
        latest=latest,
    )


# ------------------------------------------------------------------ property


def roster_windows():
    """A weekday and a window of 15 minutes to 24 hours, written as setRoster takes it: an end
    not after the start is on the next day (24 hours: equal times), midnight as 24:00 or 00:00."""

    def written(weekday: int, start: int, length: int, midnight_as_24: bool) -> tuple[int, int, int]:
        end = (start + length) % DAY
        if end == 0 and midnight_as_24 and start > 0:
            end = DAY
        if length == DAY and start == 0 and midnight_as_24:
            end = DAY
        return weekday, start, end

    quarters = st.integers(1, 96) | st.sampled_from([88, 96])  # often long: nights and days open throughout
    return st.builds(
        written,
        st.integers(0, 6),
        st.integers(0, 95).map(lambda q: q * 15),
        quarters.map(lambda q: q * 15),
        st.booleans(),
    )


@st.composite
def scenarios(draw):
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    base = draw(st.sampled_from(TRANSITION_DAYS)) + dt.timedelta(days=draw(st.integers(-2, 2)))
    minute_range = st.tuples(st.integers(0, 24 * 4 - 1), st.integers(1, 24 * 4)).map(
        lambda t: (t[0] * 15, min(24 * 60, t[0] * 15 + t[1] * 15))
    )
    roster = draw(st.lists(roster_windows(), max_size=8))
    if draw(st.integers(0, 3)) == 0:  # open around the clock on some days: grids restart at their midnights
        start = draw(st.integers(0, 95)) * 15
        roster += [(weekday, start, start) for weekday in draw(st.sets(st.integers(0, 6), min_size=2))]
    day_offsets = st.integers(-1, 4).map(lambda n: base + dt.timedelta(days=n))
    extra = [(d, a, b) for d, (a, b) in draw(st.lists(st.tuples(day_offsets, minute_range), max_size=3))]
    time_off = [(d, a, b) for d, (a, b) in draw(st.lists(st.tuples(day_offsets, minute_range), max_size=3))]
    origin = dt.datetime.combine(base, dt.time(), tzinfo=UTC) - dt.timedelta(hours=14)
    offsets = st.integers(0, 4 * 24 * 60 // 5).map(lambda n: origin + dt.timedelta(minutes=5 * n))
    busy = [
        (s, s + dt.timedelta(minutes=m)) for s, m in draw(st.lists(st.tuples(offsets, st.integers(5, 240)), max_size=8))
    ]
    duration = dt.timedelta(minutes=draw(st.integers(1, 24)) * 5)
    buffer = dt.timedelta(minutes=draw(st.sampled_from([0, 5, 10, 15, 30])))
    step = dt.timedelta(minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60])))
    window_start = draw(offsets)
    window_end = window_start + dt.timedelta(hours=draw(st.integers(1, 72)))
    earliest = draw(st.none() | offsets)
    latest = draw(st.none() | offsets)
    return tz, roster, extra, time_off, busy, duration, buffer, step, window_start, window_end, earliest, latest


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_engine_matches_the_reference(scenario):
    assert engine_slots(*scenario) == reference_slots(*scenario)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.integers(0, 72 * 12), min_size=1, max_size=40))
def test_grid_check_matches_the_reference(scenario, five_minutes):
    """The booking path's check agrees with the reference at any instant: on the grid (True),
    open but off it (False), or not open for the whole duration (None)."""
    tz, roster, extra, time_off, _, duration, _, step, window_start, window_end, _, _ = scenario
    availability = engine_availability(tz, roster, extra, time_off)
    first, days = reference_span(tz, window_start, window_end)
    candidates, runs = ref_candidates(tz, roster, extra, time_off, duration, step, first, days)
    for n in five_minutes:
        start = window_start + n * 5 * MINUTE
        if start >= window_end:
            continue
        fits = any(a <= start and start + duration <= b for a, b in runs)
        expected = True if start in candidates else (False if fits else None)
        assert is_on_grid(availability, start, duration, step) is expected, start


# ------------------------------------------------------------------ named cases


def slots_on(zone: str, day: dt.date, roster_ranges, *, duration=30, step=15, busy=(), earliest=None):
    tz = ZoneInfo(zone)
    roster = [(day.weekday(), a, b) for a, b in roster_ranges]
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz) - dt.timedelta(hours=3)
    end = start + dt.timedelta(hours=30)
    found = engine_slots(
        tz,
        roster,
        [],
        [],
        list(busy),
        dt.timedelta(minutes=duration),
        dt.timedelta(0),
        dt.timedelta(minutes=step),
        start,
        end,
        earliest,
        None,
    )
    return [s.astimezone(tz) for s in found]


def hm(values):
    return [v.strftime("%H:%M") for v in values]


def test_spring_forward_gap_moves_a_start_to_the_first_instant_that_exists():
    # Europe/London, 29 March 2026: 01:00 GMT jumps to 02:00 BST.
    found = slots_on("Europe/London", dt.date(2026, 3, 29), [(90, 240)], duration=60, step=30)
    assert hm(found) == ["02:00", "02:30", "03:00"]
    assert found[0].utcoffset() == dt.timedelta(hours=1)


def test_fall_back_day_is_longer_and_steps_in_real_time():
    # Europe/London, 25 October 2026: 02:00 BST falls back to 01:00 GMT.
    found = slots_on("Europe/London", dt.date(2026, 10, 25), [(60, 180)], duration=60, step=30)
    # 01:00 BST .. 03:00 GMT is three real hours: starts every 30 minutes, the wall clock repeats 01:xx.
    assert hm(found) == ["01:00", "01:30", "01:00", "01:30", "02:00"]
    assert [f.utcoffset().total_seconds() / 3600 for f in found] == [1, 1, 0, 0, 0]


def test_intervals_from_1300_on_transition_days_are_unaffected():
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):
        found = slots_on("Europe/London", day, [(13 * 60, 17 * 60)], duration=60, step=60)
        assert hm(found) == ["13:00", "14:00", "15:00", "16:00"]
    found = slots_on(
        "America/New_York", dt.date(2026, 3, 8), [(13 * 60, 15 * 60), (15 * 60 + 30, 17 * 60)], duration=30, step=30
    )
    assert hm(found) == ["13:00", "13:30", "14:00", "14:30", "15:30", "16:00", "16:30"]


def test_transition_at_local_midnight():
    # America/Santiago, 6 September 2026: 00:00 -04 jumps to 01:00 -03; the day has no midnight.
    found = slots_on("America/Santiago", dt.date(2026, 9, 6), [(0, 180)], duration=60, step=60)
    assert hm(found) == ["01:00", "02:00"]
    assert found[0] == dt.datetime(2026, 9, 6, 4, 0, tzinfo=UTC)
    # The day before ends at the transition: an interval to 24:00 ends at 01:00 -03.
    before = slots_on("America/Santiago", dt.date(2026, 9, 5), [(22 * 60, 24 * 60)], duration=60, step=60)
    assert hm(before) == ["22:00", "23:00"]


def test_minimum_notice_landing_on_a_transition_day():
    day = dt.date(2026, 3, 29)
    # The grid runs from 00:00 GMT in real half hours: 00:00, 00:30 GMT, then 02:00, 02:30 BST...
    # "Now" is 23:10 GMT the evening before; 2 h 20 min notice lands at 01:30 UTC = 02:30 BST.
    earliest = dt.datetime(2026, 3, 28, 23, 10, tzinfo=UTC) + dt.timedelta(minutes=140)
    found = slots_on("Europe/London", day, [(0, 6 * 60)], duration=30, step=30, earliest=earliest)
    assert hm(found)[:2] == ["02:30", "03:00"]
    assert found[0] == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # Ten minutes more notice skips to the next grid point, 03:00 BST.
    found = slots_on(
        "Europe/London", day, [(0, 6 * 60)], duration=30, step=30, earliest=earliest + dt.timedelta(minutes=10)
    )
    assert found[0] == dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC)


def test_busy_time_and_buffers_are_excluded():
    day = dt.date(2026, 6, 1)
    tz = ZoneInfo("Europe/London")
    busy = [(dt.datetime(2026, 6, 1, 10, 0, tzinfo=tz), dt.datetime(2026, 6, 1, 10, 45, tzinfo=tz))]
    found = slots_on("Europe/London", day, [(9 * 60, 12 * 60)], duration=30, step=15, busy=busy)
    assert hm(found) == ["09:00", "09:15", "09:30", "10:45", "11:00", "11:15", "11:30"]


def test_grid_check():
    tz = ZoneInfo("Europe/London")
    availability = Availability.build(tz, [(0, 9 * 60, 12 * 60)])
    monday = dt.date(2026, 6, 1)
    at = lambda h, m: dt.datetime.combine(monday, dt.time(h, m), tzinfo=tz)  # noqa: E731
    step, duration = dt.timedelta(minutes=15), dt.timedelta(minutes=30)
    assert is_on_grid(availability, at(9, 15), duration, step) is True
    assert is_on_grid(availability, at(9, 10), duration, step) is False
    assert is_on_grid(availability, at(11, 45), duration, step) is None  # ends after closing
    assert is_on_grid(availability, at(13, 0), duration, step) is None


def test_local_instant_matches_the_reference_around_transitions():
    for zone in ZONES:
        tz = ZoneInfo(zone)
        for day in TRANSITION_DAYS[:8]:
            for minute in range(0, 24 * 60 + 1, 30):
                assert local_instant(tz, day, minute) == ref_instant(tz, day, minute), (zone, day, minute)


# ------------------------------------------------------------------ night windows, by name

MONDAY = dt.date(2026, 6, 1)


def clock(hour: int, minute: int = 0) -> int:
    return hour * 60 + minute


def night(
    zone: str, day: dt.date, roster, *, extra=(), time_off=(), duration=30, step=15, earliest=None, hours=(18, 36)
):
    """Slots from `hours[0]` to `hours[1]` hours after `day`'s local midnight (18:00 to noon the
    next day by default), as local times written `Day HH:MM`."""
    tz = ZoneInfo(zone)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    start, end = (midnight.astimezone(UTC) + dt.timedelta(hours=h) for h in hours)
    found = engine_slots(
        tz,
        roster,
        list(extra),
        list(time_off),
        [],
        dt.timedelta(minutes=duration),
        dt.timedelta(0),
        dt.timedelta(minutes=step),
        start,
        end,
        earliest,
        None,
    )
    return [s.astimezone(tz).strftime("%a %H:%M") for s in found]


def every(step: int, first: str, last: str, day: str = "Mon", next_day: str = "Tue") -> list[str]:
    """`Day HH:MM` every `step` minutes from `first` to `last` (wall clock, no transition), crossing midnight."""
    (h1, m1), (h2, m2) = (map(int, t.split(":")) for t in (first, last))
    minutes = range(h1 * 60 + m1, (h2 * 60 + m2) + (DAY if (h2, m2) < (h1, m1) else 0) + 1, step)
    return [f"{day if m < DAY else next_day} {m % DAY // 60:02d}:{m % 60:02d}" for m in minutes]


def test_a_night_window_ends_the_next_day_and_belongs_to_the_weekday_it_starts_on():
    roster = [(0, clock(22), clock(2))]  # Monday 22:00-02:00
    found = night("Europe/London", MONDAY, roster)
    assert found == every(15, "22:00", "01:30")
    assert "Mon 23:45" in found  # 23:45-00:15 spans midnight
    # Asked from Tuesday 00:00, Monday's window still counts; Tuesday night has none of its own.
    assert night("Europe/London", MONDAY, roster, hours=(24, 72)) == every(15, "00:00", "01:30", day="Tue")
    # Sunday's night (into Monday) is not rostered.
    assert night("Europe/London", MONDAY, roster, hours=(-6, 12)) == []


def test_equal_start_and_end_is_a_whole_day():
    found = night("Europe/London", MONDAY, [(0, clock(8), clock(8))], duration=60, step=60, hours=(0, 48))
    assert found == every(60, "08:00", "07:00")


def test_windows_of_neighbouring_days_that_touch_or_overlap_join():
    # Monday 22:00-24:00 and Tuesday 00:00-02:00 are one run: its grid steps on from 22:00.
    touching = [(0, clock(22), DAY), (1, 0, clock(2))]
    assert night("Europe/London", MONDAY, touching, step=15) == every(15, "22:00", "01:30")
    assert night("Europe/London", MONDAY, touching, step=45) == [
        "Mon 22:00",
        "Mon 22:45",
        "Mon 23:30",
        "Tue 00:15",
        "Tue 01:00",
    ]
    overlapping = [(0, clock(22), clock(1)), (1, clock(0, 30), clock(2))]
    assert night("Europe/London", MONDAY, overlapping, step=45) == [
        "Mon 22:00",
        "Mon 22:45",
        "Mon 23:30",
        "Tue 00:15",
        "Tue 01:00",
    ]


def test_exceptions_change_the_wall_clock_minutes_of_their_own_date():
    roster = [(0, clock(22), clock(2))]
    tuesday = MONDAY + dt.timedelta(days=1)
    # Time off on Tuesday 00:30-01:30 takes that hour out of Monday's window.
    cut = night("Europe/London", MONDAY, roster, time_off=[(tuesday, clock(0, 30), clock(1, 30))], step=30)
    assert cut == ["Mon 22:00", "Mon 22:30", "Mon 23:00", "Mon 23:30", "Tue 00:00", "Tue 01:30"]
    # Time off on Monday 00:30-01:30 is Monday morning: the night is untouched.
    assert night("Europe/London", MONDAY, roster, time_off=[(MONDAY, clock(0, 30), clock(1, 30))], step=30) == every(
        30, "22:00", "01:30"
    )
    # Extra hours on Tuesday 02:00-03:00 extend the night; on Monday 21:00-22:00 they start it early.
    longer = night(
        "Europe/London", MONDAY, roster, extra=[(tuesday, clock(2), clock(3)), (MONDAY, clock(21), clock(22))], step=30
    )
    assert longer == every(30, "21:00", "02:30")
    # Extra hours on Tuesday 00:00-01:00 after a Monday window to 24:00 join it.
    joined = night("Europe/London", MONDAY, [(0, clock(23), DAY)], extra=[(tuesday, 0, clock(1))], duration=60, step=30)
    assert joined == ["Mon 23:00", "Mon 23:30", "Tue 00:00"]


def test_a_calendar_open_around_the_clock_offers_slots_across_midnight_and_steps_from_each_midnight():
    always = [(weekday, 0, DAY) for weekday in range(7)]
    found = night("Europe/London", MONDAY, always, duration=60, step=45, hours=(21, 26))
    assert found == ["Mon 21:00", "Mon 21:45", "Mon 22:30", "Mon 23:15", "Tue 00:00", "Tue 00:45", "Tue 01:30"]


def test_night_windows_across_daylight_saving_transitions_step_in_real_time():
    hourly = dict(duration=60, step=60)
    # Europe/London, Saturday 28 March 2026 22:00 to Sunday 04:00: 01:00 GMT jumps to 02:00 BST, five real hours.
    spring = night("Europe/London", dt.date(2026, 3, 28), [(5, clock(22), clock(4))], **hourly)
    assert spring == ["Sat 22:00", "Sat 23:00", "Sun 00:00", "Sun 02:00", "Sun 03:00"]
    # Saturday 24 October 2026 22:00 to Sunday 04:00: 02:00 BST falls back to 01:00 GMT, seven real hours.
    autumn = night("Europe/London", dt.date(2026, 10, 24), [(5, clock(22), clock(4))], **hourly)
    assert autumn == ["Sat 22:00", "Sat 23:00", "Sun 00:00", "Sun 01:00", "Sun 01:00", "Sun 02:00", "Sun 03:00"]
    # America/Santiago, 6 September 2026: midnight -04 jumps to 01:00 -03; the 23:30 slot ends at 01:30 -03.
    tz = ZoneInfo("America/Santiago")
    gap = night("America/Santiago", dt.date(2026, 9, 5), [(5, clock(22), clock(2))], duration=60, step=30)
    assert gap == ["Sat 22:00", "Sat 22:30", "Sat 23:00", "Sat 23:30", "Sun 01:00"]
    # 5 April 2026: midnight -03 falls back to 23:00 -04 on Saturday; Saturday 22:00 to Sunday 01:00 is four real hours.
    repeat = night("America/Santiago", dt.date(2026, 4, 4), [(5, clock(22), clock(1))], **hourly)
    assert repeat == ["Sat 22:00", "Sat 23:00", "Sat 23:00", "Sun 00:00"]
    starts = engine_slots(
        tz,
        [(5, clock(22), clock(1))],
        [],
        [],
        [],
        dt.timedelta(hours=1),
        dt.timedelta(0),
        dt.timedelta(hours=1),
        dt.datetime(2026, 4, 4, 12, tzinfo=UTC),
        dt.datetime(2026, 4, 5, 12, tzinfo=UTC),
        None,
        None,
    )
    assert [s.astimezone(tz).utcoffset() / dt.timedelta(hours=1) for s in starts] == [-3, -3, -4, -4]
    # Australia/Lord_Howe, 4 October 2026: 02:00 jumps to 02:30; hourly steps land on the half hour after it.
    half = night("Australia/Lord_Howe", dt.date(2026, 10, 3), [(5, clock(22), clock(6))], **hourly)
    assert half == ["Sat 22:00", "Sat 23:00", "Sun 00:00", "Sun 01:00", "Sun 02:30", "Sun 03:30", "Sun 04:30"]


def test_minimum_notice_landing_in_a_daylight_saving_night():
    # Saturday 28 March 2026 22:00 GMT to Sunday 04:00 BST in half hours: ..., 00:00, 00:30 GMT, 02:00 BST, ...
    roster = [(5, clock(22), clock(4))]
    earliest = dt.datetime(2026, 3, 29, 0, 40, tzinfo=UTC)
    found = night("Europe/London", dt.date(2026, 3, 28), roster, duration=30, step=30, earliest=earliest)
    assert found == ["Sun 02:00", "Sun 02:30", "Sun 03:00", "Sun 03:30"]
    earliest = dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert (
        night("Europe/London", dt.date(2026, 3, 28), roster, duration=30, step=30, earliest=earliest)[0] == "Sun 00:30"
    )


def test_grid_check_across_midnight():
    tz = ZoneInfo("Europe/London")
    tuesday = MONDAY + dt.timedelta(days=1)
    availability = Availability.build(
        tz, [(0, clock(22), clock(2))], [(tuesday, ExceptionKind.TIME_OFF, clock(0, 30), clock(1, 30))]
    )
    at = lambda day, h, m: dt.datetime.combine(day, dt.time(h, m), tzinfo=tz)  # noqa: E731
    step, half_hour = dt.timedelta(minutes=15), dt.timedelta(minutes=30)
    assert (
        is_on_grid(availability, at(MONDAY, 23, 45), dt.timedelta(minutes=45), step) is True
    )  # ends as the time off starts
    assert is_on_grid(availability, at(MONDAY, 23, 45), dt.timedelta(minutes=50), step) is None  # into the time off
    assert is_on_grid(availability, at(MONDAY, 23, 45), half_hour, step) is True
    assert is_on_grid(availability, at(MONDAY, 23, 50), half_hour, step) is False
    assert is_on_grid(availability, at(tuesday, 0, 15), half_hour, step) is None
    assert is_on_grid(availability, at(tuesday, 1, 30), half_hour, step) is True
    assert is_on_grid(availability, at(tuesday, 1, 45), half_hour, step) is None  # ends after 02:00
    assert is_on_grid(availability, at(tuesday, 22, 0), half_hour, step) is None  # Tuesday has no night
