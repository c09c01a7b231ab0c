"""What customer pages read from their address and their forms, in one place.

A page declares every query parameter and form field it reads, and reads them only through that
declaration:

    @reads(query=[Date("from"), Date("day")])
    async def slots_page(request):
        opened = ...
        asked = await read(request, location=opened.location)
        asked["from"]  # a datetime.date, or None when absent or empty

Every kind is bounded: a `Date` is `YYYY-MM-DD` in ASCII digits, a `Whole` at most nine ASCII
digits, an `Instant` an ISO date and time with a UTC offset in the years diaries use, a `Choice`
one of its values, `Text` plain text (no control characters) clipped to its length. A value that
cannot be read raises `BadParameter`, which the app answers with a 400 page saying what is wrong,
in the location's branding (`bad_parameter_page`). An undeclared name is a KeyError: a new
parameter has to be declared, and tests/test_page_params.py sweeps every declared one with
hostile values. (The CSRF field is read by web/csrf.py, which accepts anything and refuses what
it does not know.)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from core import validation as check
from core.errors import ValidationFailed
from core.models import Location
from web.pages import render_page

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
ADDRESS_HINT = "Please open the link from your message again, or go back and choose from the page."


class BadParameter(Exception):
    """A query parameter or form field that cannot be read; `message` says so to a person."""

    def __init__(self, name: str, message: str, location: Location | None = None, title: str = "") -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.location = location
        self.title = title or "We could not read this page's address"


@dataclass(frozen=True)
class Param:
    """One parameter a page reads: its name, and what an absent or empty one reads as."""

    name: str
    absent: Any = field(default=None, kw_only=True)

    def parse(self, raw: str) -> Any:  # pragma: no cover - every kind overrides it
        raise NotImplementedError

    def refuse(self, message: str) -> BadParameter:
        return BadParameter(self.name, message)


@dataclass(frozen=True)
class Date(Param):
    """A local date written `YYYY-MM-DD`; the page keeps it within what it can show."""

    def parse(self, raw: str) -> dt.date:
        try:
            if _ISO_DATE.fullmatch(raw):
                return dt.date.fromisoformat(raw)
        except ValueError:
            pass
        raise self.refuse(f"The date in this page's address is not a date such as 2026-12-01. {ADDRESS_HINT}")


@dataclass(frozen=True)
class Whole(Param):
    """A whole number of at most nine ASCII digits (an id, a sequence)."""

    def parse(self, raw: str) -> int:
        number = check.whole_number(raw)
        if number is None:
            raise self.refuse(f"A number in this page's address or form is not one we can use. {ADDRESS_HINT}")
        return number


@dataclass(frozen=True)
class Instant(Param):
    """A date and time with its UTC offset (`2026-12-01T10:00:00+01:00`), in the years diaries use."""

    def parse(self, raw: str) -> dt.datetime:
        try:
            if raw.isascii():
                return check.instant(self.name, dt.datetime.fromisoformat(raw))
        except (ValueError, ValidationFailed):
            pass
        raise self.refuse(f"The time in this page's address or form is not one of the times offered. {ADDRESS_HINT}")


@dataclass(frozen=True)
class Choice(Param):
    """One of a few fixed values."""

    choices: frozenset[str] = frozenset()

    def parse(self, raw: str) -> str:
        if raw not in self.choices:
            raise self.refuse(f"This page's address or form asks for something we do not know. {ADDRESS_HINT}")
        return raw


@dataclass(frozen=True)
class Text(Param):
    """Typed text (core.validation.plain_text: no control characters; line breaks and tabs only
    when `multiline`, CR LF made LF), clipped to `max_length`."""

    max_length: int = 254
    multiline: bool = False
    absent: Any = field(default="", kw_only=True)

    def parse(self, raw: str) -> str:
        try:
            return check.plain_text(self.name, raw, multiline=self.multiline)[: self.max_length]
        except ValidationFailed as refused:
            label = self.name.replace("_", " ")
            raise self.refuse(
                f"The field “{label}” contains characters we cannot accept. {refused.message} Please type it again."
            ) from None


@dataclass(frozen=True)
class Declared:
    """The parameters one page reads: from its address, and from its form when POSTed."""

    query: tuple[Param, ...] = ()
    form: tuple[Param, ...] = ()


def reads(*, query: Iterable[Param] = (), form: Iterable[Param] = ()) -> Callable:
    """Declare what a page endpoint reads (decorator); the endpoint reads it with `read`."""
    declared = Declared(tuple(query), tuple(form))

    def mark(endpoint: Callable) -> Callable:
        setattr(endpoint, "declared_params", declared)  # noqa: B010 - read back by declared_params()
        return endpoint

    return mark


def declared_params(endpoint: Callable) -> Declared | None:
    """What an endpoint declared with `reads`, or None."""
    return getattr(endpoint, "declared_params", None)


async def read(request: Request, *, location: Location | None = None) -> Mapping[str, Any]:
    """The declared parameters of the request's page, each parsed (absent or empty: None, or ""
    for text); BadParameter (answered with the 400 page, branded for `location`) when one cannot
    be read."""
    declared = declared_params(request.scope["endpoint"])
    if declared is None:
        raise RuntimeError(f"{request.url.path}: the page reads parameters but declares none (web.params.reads)")
    values = _parsed(declared.query, request.query_params, location, "We could not read this page's address")
    if request.method == "POST" and declared.form:
        values |= _parsed(declared.form, await request.form(), location, "We could not read this form")
    return values


def _parsed(params: tuple[Param, ...], source: Mapping, location: Location | None, title: str) -> dict[str, Any]:
    values = {}
    for param in params:
        raw = source.get(param.name)
        if raw is None or raw == "":
            values[param.name] = param.absent
            continue
        try:
            if not isinstance(raw, str):  # a file where text belongs
                raise param.refuse(f"This form sends a file where we expected text. {ADDRESS_HINT}")
            values[param.name] = param.parse(raw)
        except BadParameter as bad:
            bad.location, bad.title = location, title
            raise
    return values


async def bad_parameter_page(request: Request, problem: BadParameter) -> HTMLResponse:
    """400: what could not be read, in the branding of the page's location (the app's handler of
    BadParameter)."""
    context = {"title": problem.title, "message": problem.message, "contact": None, "retry_after": None}
    return await render_page(request, "error.html", context, location=problem.location, status=400)
