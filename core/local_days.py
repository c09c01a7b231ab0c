"""A range of a location's local dates read as a window of instants, so clients can ask for
"7 December at this clinic" without computing offsets: `fromDate` starts at the first instant of
its local midnight, `toDate` (inclusive) ends at the next day's. A list takes dates or instants,
not both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from core.availability.engine import local_instant
from core.errors import ValidationCode, ValidationFailed

ONE_DAY = dt.timedelta(days=1)


def window(
    tz: ZoneInfo,
    start: dt.datetime | None,
    end: dt.datetime | None,
    from_date: dt.date | None,
    to_date: dt.date | None,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The window [start, end) asked for with instants (`from`, `to`) or local dates (`fromDate`,
    `toDate`, both inclusive, in `tz`); either bound may be open (None). `ValidationFailed` when
    both kinds are given, or `toDate` is before `fromDate`."""
    if (from_date or to_date) and (start or end):
        field = "fromDate" if from_date else "toDate"
        raise ValidationFailed(field, "Give `fromDate`/`toDate` or `from`/`to`, not both.", ValidationCode.INVALID)
    if from_date is None and to_date is None:
        return start, end
    if from_date and to_date and to_date < from_date:
        raise ValidationFailed("toDate", "`toDate` must not be before `fromDate`.", ValidationCode.OUT_OF_RANGE)
    try:
        return (
            local_instant(tz, from_date, 0) if from_date else None,
            local_instant(tz, to_date + ONE_DAY, 0) if to_date else None,
        )
    except OverflowError:
        raise ValidationFailed(
            "toDate" if to_date else "fromDate", "That date is out of range.", ValidationCode.OUT_OF_RANGE
        ) from None


@contextmanager
def as_dates(from_date: dt.date | None, to_date: dt.date | None) -> Iterator[None]:
    """Checks of a window's `from`/`to` report `fromDate`/`toDate` when it was asked for by date."""
    try:
        yield
    except ValidationFailed as error:
        if from_date is None and to_date is None:
            raise
        raise ValidationFailed(f"{error.field}Date", str(error)) from None
