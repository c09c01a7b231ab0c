"""The slot engine against a brute-force reference, and the daylight-saving cases by name.

The reference shares no code with the engine: it builds open minutes one by one, finds each
wall-clock time's instant by scanning real minutes, and checks every busy interval for every
candidate."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings, strategies as st

from core.models import ExceptionKind
from core.scheduling import Availability, free_slots, is_on_grid, local_instant

UTC = dt.timezone.utc
MINUTE = dt.timedelta(minutes=1)
ZONES = [
    "UTC", "Europe/London", "America/New_York", "America/Santiago", "America/Havana", "Australia/Lord_Howe",
    "Asia/Kathmandu", "Asia/Tehran", "America/Sao_Paulo", "Europe/Berlin", "Pacific/Apia", "America/St_Johns",
]
# Days with a transition in some of the zones above (and their neighbours, by the offsets drawn).
TRANSITION_DAYS = [
    dt.date(2026, 3, 8), dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 11, 1), dt.date(2026, 9, 6),
    dt.date(2026, 4, 5), dt.date(2026, 10, 4), dt.date(2026, 3, 8), dt.date(2018, 11, 4), dt.date(2011, 12, 29),
    dt.date(2024, 3, 10), dt.date(2024, 11, 3), dt.date(2025, 3, 30), dt.date(2025, 10, 26), dt.date(2021, 9, 5),
]


# ------------------------------------------------------------------ the reference


def ref_instant(tz: ZoneInfo, day: dt.date, minute: int) -> dt.datetime:
    """Scan real minutes for the first whose local wall clock reaches `minute` of `day`."""
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    instant = wall.replace(tzinfo=UTC) - dt.timedelta(hours=16)
    while instant.astimezone(tz).replace(tzinfo=None) < wall:
        instant += MINUTE
    return instant


def ref_open_ranges(roster, extra, time_off, day: dt.date) -> list[tuple[int, int]]:
    open_minutes = []
    for minute in range(24 * 60):
        rostered = any(w == day.weekday() and a <= minute < b for w, a, b in roster)
        added = any(d == day and a <= minute < b for d, a, b in extra)
        removed = any(d == day and a <= minute < b for d, a, b in time_off)
        open_minutes.append((rostered or added) and not removed)
    ranges, start = [], None
    for minute, is_open in enumerate(open_minutes + [False]):
        if is_open and start is None:
            start = minute
        if not is_open and start is not None:
            ranges.append((start, minute))
            start = None
    return ranges


def reference_slots(tz, roster, extra, time_off, busy, duration, buffer, step, window_start, window_end, earliest, latest):
    first = window_start.astimezone(tz).date() - dt.timedelta(days=1)
    last = window_end.astimezone(tz).date() + dt.timedelta(days=1)
    slots = []
    day = first
    while day <= last:
        for a, b in ref_open_ranges(roster, extra, time_off, day):
            begin, end = ref_instant(tz, day, a), ref_instant(tz, day, b)
            start = begin
            while start + duration <= end:
                clear = all(not (s < start + duration + buffer and start < e) for s, e in busy)
                in_window = window_start <= start < window_end
                allowed = (earliest is None or start >= earliest) and (latest is None or start <= latest)
                if clear and in_window and allowed:
                    slots.append(start)
                start += step
        day += dt.timedelta(days=1)
    return sorted(set(slots))


def engine_slots(tz, roster, extra, time_off, busy, duration, buffer, step, window_start, window_end, earliest, latest):
    exceptions = [(d, ExceptionKind.EXTRA_HOURS, a, b) for d, a, b in extra] + [(d, ExceptionKind.TIME_OFF, a, b) for d, a, b in time_off]
    availability = Availability.build(tz, roster, exceptions)
    return free_slots(
        availability, busy, duration=duration, buffer=buffer, step=step, window_start=window_start,
        window_end=window_end, earliest=earliest, latest=latest,
    )


# ------------------------------------------------------------------ property


@st.composite
def scenarios(draw):
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    base = draw(st.sampled_from(TRANSITION_DAYS)) + dt.timedelta(days=draw(st.integers(-2, 2)))
    minute_range = st.tuples(st.integers(0, 24 * 4 - 1), st.integers(1, 24 * 4)).map(
        lambda t: (t[0] * 15, min(24 * 60, t[0] * 15 + t[1] * 15))
    )
    roster = [(w, a, b) for w, (a, b) in draw(st.lists(st.tuples(st.integers(0, 6), minute_range), max_size=8))]
    day_offsets = st.integers(-1, 4).map(lambda n: base + dt.timedelta(days=n))
    extra = [(d, a, b) for d, (a, b) in draw(st.lists(st.tuples(day_offsets, minute_range), max_size=3))]
    time_off = [(d, a, b) for d, (a, b) in draw(st.lists(st.tuples(day_offsets, minute_range), max_size=3))]
    origin = dt.datetime.combine(base, dt.time(), tzinfo=UTC) - dt.timedelta(hours=14)
    offsets = st.integers(0, 4 * 24 * 60 // 5).map(lambda n: origin + dt.timedelta(minutes=5 * n))
    busy = [(s, s + dt.timedelta(minutes=m)) for s, m in draw(st.lists(st.tuples(offsets, st.integers(5, 240)), max_size=8))]
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


# ------------------------------------------------------------------ named cases


def slots_on(zone: str, day: dt.date, roster_ranges, *, duration=30, step=15, busy=(), earliest=None):
    tz = ZoneInfo(zone)
    roster = [(day.weekday(), a, b) for a, b in roster_ranges]
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz) - dt.timedelta(hours=3)
    end = start + dt.timedelta(hours=30)
    found = engine_slots(tz, roster, [], [], list(busy), dt.timedelta(minutes=duration), dt.timedelta(0),
                         dt.timedelta(minutes=step), start, end, earliest, None)
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
    found = slots_on("America/New_York", dt.date(2026, 3, 8), [(13 * 60, 15 * 60), (15 * 60 + 30, 17 * 60)], duration=30, step=30)
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
    found = slots_on("Europe/London", day, [(0, 6 * 60)], duration=30, step=30, earliest=earliest + dt.timedelta(minutes=10))
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
