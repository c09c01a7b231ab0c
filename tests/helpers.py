"""Building blocks for tests: the kit's clinic and waiting (agendum_testing), a zone where it is
midday, the SQL statements sent, plugins made on the spot."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from agendum_testing.clinic import (  # noqa: F401 - the suite's names for the kit's helpers
    ALL_WEEK,
    APPOINTMENT_FIELDS,
    BOOK,
    Clinic,
    book,
    enable_plugin,
    later_today,
    local,
    make_clinic,
)
from agendum_testing.waiting import until  # noqa: F401
from core import hookimpl
from core.plugins.types import PluginInfo

__all__ = [
    "ALL_WEEK",
    "APPOINTMENT_FIELDS",
    "BOOK",
    "Clinic",
    "book",
    "enable_plugin",
    "later_today",
    "local",
    "make_clinic",
    "until",
    "midday_timezone",
    "statements",
    "throwaway_plugin",
]


def midday_timezone(now: dt.datetime | None = None) -> str:
    """An Etc/GMT zone where it is now between 08:00 and 14:59 local time, so that an
    appointment later today stays on today's local date."""
    hour = (now or dt.datetime.now(dt.UTC)).hour
    offset = 10 - hour
    if offset < -12:
        offset += 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


class _StatementLog(logging.Handler):
    """Keeps the SQL statements tortoise's database client logs (every one it sends, on SQLite and
    on PostgreSQL alike; transaction control is not logged)."""

    def __init__(self, sent: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sent = sent

    def emit(self, record: logging.LogRecord) -> None:
        statement = str(record.args[0] if record.args else record.msg)  # "%s: %s" % (query, values), or the query
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.sent.append(statement.strip())


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs, in order (without their
    parameters). Stop the delivery worker first (`run_worker=False`): its polls count too."""
    sent: list[str] = []
    logger, handler = logging.getLogger("tortoise.db_client"), _StatementLog(sent)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield sent
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def throwaway_plugin(name: str, **hooks):
    """A plugin made on the spot: an object with `plugin_info` and the given hook functions."""

    class Plugin:
        pass

    plugin = Plugin()
    plugin.plugin_info = hookimpl(lambda: PluginInfo(name=name, title=name, description="", version="0"))
    for hook, function in hooks.items():
        setattr(plugin, hook, hookimpl(function))
    return plugin
