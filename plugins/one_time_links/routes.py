"""The customer's pages under /book/{token}: choose a service, a time, then give your details.
GETs only show; the booking is a POST with a CSRF token bound to the link token."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.availability.slots import rules_for
from core.errors import DomainError, LinkUnavailable, ValidationCode, ValidationFailed
from plugins.one_time_links import links
from web.client_ip import ip_of
from web.csrf import page_csrf_token, valid_form_csrf
from web.pages import render_page
from web.params import Date, Instant, Text, Whole, read, reads
from web.slot_pages import page_slots
from web.slot_picker import pick_day, window
from web.token_pages import refused_link_page, token_page

FIELDS = ("first_name", "last_name", "email", "mobile_phone")


async def _resolve(request: Request, token: str) -> links.Opened:
    """The link of the token if it is still active (else LinkUnavailable: used, expired or revoked)."""
    opened = await links.resolve(request.app.state.agendum, token, ip_of(request), request.app.state.limiter)
    if opened.status is not links.Status.ACTIVE:
        raise opened.unavailable()
    return opened


link_page = token_page(_resolve)


async def _render(request: Request, opened: links.Opened, template: str, status: int = 200, **context) -> Response:
    values = {"opened": opened, "token": request.path_params["token"], "error": None, **context}
    return await render_page(request, f"one_time_links/{template}", values, location=opened.location, status=status)


@reads(query=[Whole("service"), Instant("start"), Date("from"), Date("day")])
@link_page
async def show(request: Request, opened: links.Opened) -> Response:
    """GET: the calendar and its services; with ?service=, that service's free times
    (14 days from ?from=, kept within the bookable days, with ways to earlier and later days);
    with ?start= too, the details form."""
    asked = await read(request, location=opened.location)
    service_id = asked["service"]
    if service_id is None and len(opened.services) == 1:
        service_id = opened.services[0].id
    if service_id is None:
        return await _render(request, opened, "services.html", title="Book an appointment")
    try:
        service = opened.service(service_id)
    except ValidationFailed:
        return await _render(
            request,
            opened,
            "services.html",
            title="Book an appointment",
            status=422,
            error="Please choose one of these services.",
        )
    if asked["start"] is not None:
        return await _form(request, opened, service, asked["start"])
    tz = ZoneInfo(opened.location.timezone)
    dates = window(asked["from"], tz, (await rules_for(opened.location, service)).max_advance_days)
    shown = await page_slots(
        request,
        lambda charge: links.free_slots(opened, service.id, dates.start, dates.end, charge),
        location=opened.location,
    )
    if isinstance(shown, Response):
        return shown
    days, chosen = pick_day(shown.slots, tz, asked["day"])
    base = f"/book/{request.path_params['token']}?service={service.id}&from={dates.first_day.isoformat()}"
    return await _render(
        request,
        opened,
        "slots.html",
        status=shown.status,
        title="Choose a time",
        service=service,
        days=days,
        chosen=chosen,
        refusal=shown.refusal,
        day_url=lambda day: f"{base}&day={day.isoformat()}",
        later=dates.later,
        earlier=dates.earlier,
    )


async def _form(
    request: Request,
    opened: links.Opened,
    service,
    start: dt.datetime,
    *,
    error: str | None = None,
    values: dict | None = None,
    status: int = 200,
) -> Response:
    token = request.path_params["token"]
    return await _render(
        request,
        opened,
        "details.html",
        status=status,
        title="Your details",
        service=service,
        start=start,
        csrf=page_csrf_token(request, token),
        values=values or {},
        error=error,
    )


@reads(form=[Whole("service"), Instant("start"), *(Text(name, 254) for name in FIELDS)])
@link_page
async def book(request: Request, opened: links.Opened) -> Response:
    """POST: book the chosen time with the given details (the link is used up only if it works)."""
    asked = await read(request, location=opened.location)
    values = {name: asked[name] for name in FIELDS}
    start = asked["start"]
    try:
        service = opened.service(asked["service"] or 0)
        if start is None:
            raise ValidationFailed("start", "Please choose a time.", ValidationCode.REQUIRED)
    except ValidationFailed:
        return await _render(
            request,
            opened,
            "services.html",
            title="Book an appointment",
            status=422,
            error="Please choose a service and a time.",
        )
    if not await valid_form_csrf(request, request.path_params["token"]):
        return await _form(
            request,
            opened,
            service,
            start,
            values=values,
            status=403,
            error="This form has expired. Please check your details and send them again.",
        )
    try:
        appointment = await links.book(
            opened, service.id, start, values, ip_of(request), request.headers.get("user-agent", "")[:500]
        )
    except LinkUnavailable as gone:
        return await refused_link_page(request, gone)
    except DomainError as refused:
        return await _form(
            request,
            opened,
            service,
            start,
            values=values,
            status=409 if not isinstance(refused, ValidationFailed) else 422,
            error=refused.message,
        )
    return await _render(request, opened, "booked.html", title="Booked", service=service, appointment=appointment)


ROUTES = [Route("/{token}", show, methods=["GET"]), Route("/{token}", book, methods=["POST"])]
