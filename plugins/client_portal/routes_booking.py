"""Appointment pages of the portal: the signed-in customer's appointments, booking (service and
calendar, then a day and a time, then instructions and terms) and cancelling under the policy."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core import validation as check
from core.availability.slots import rules_for
from core.errors import DomainError, NotFound, RateLimited, ValidationFailed
from core.timefmt import TimeFormatter
from plugins.client_portal import appointments
from plugins.client_portal.addresses import Portal
from plugins.client_portal.pages import (
    EXPIRED_FORM,
    customer_of,
    customer_page,
    go,
    page,
    portal_page,
    posting,
    sign_in_page,
    valid_post,
    visitor,
)
from plugins.client_portal.sessions import SignedIn
from web.pages import too_many_page
from web.params import Choice, Date, Instant, Text, Whole, read, reads
from web.slot_pages import page_slots
from web.slot_picker import pick_day, window

NOTICES = {
    "booked": "Your appointment on {when} is booked. We have sent you an email.",
    "cancelled": "Your appointment on {when} is cancelled. We have sent you an email.",
}
CHOICE = (Whole("service"), Whole("calendar"), Instant("start"))  # what a booking is of, in links and forms


@reads(query=[Whole(key) for key in NOTICES])
@portal_page
async def home(request: Request, portal: Portal) -> Response:
    """GET: signed in, your appointments; otherwise the sign-in form."""
    signed = await customer_of(request, portal)
    if signed is None:
        return await sign_in_page(request, portal)
    upcoming = await appointments.describe(signed, await appointments.own_appointments(signed, True))
    past = await appointments.describe(signed, (await appointments.own_appointments(signed, False))[:20])
    return await page(
        request,
        portal,
        "home.html",
        title="Your appointments",
        signed=signed,
        past=past,
        binding=signed.session.id,
        upcoming=[own for own in upcoming if own.row.status in appointments.LIVE],
        cancelled=[own for own in upcoming if own.row.status not in appointments.LIVE],
        notice=await _notice(signed, await read(request, location=portal.location)),
    )


async def _notice(signed, asked) -> str | None:
    """What the page says after a booking or a cancellation redirected to it (so it can be reloaded)."""
    for key, text in NOTICES.items():
        appointment_id = asked[key]
        if appointment_id:
            try:
                row = await appointments.own_appointment(signed, appointment_id)
            except NotFound:
                return None
            return text.format(when=TimeFormatter.of(signed.portal.location).datetime(row.starts_at))
    return None


@reads(query=[*CHOICE, Date("from"), Date("day")], form=[*CHOICE, Choice("accept_terms", frozenset({"yes"}))])
@customer_page
async def book(request: Request, portal: Portal, signed: SignedIn) -> Response:
    """GET ?service=&calendar=: choose a service, then a day and time (?from=&day=), then
    (?start=) confirm; POST: book it."""
    params = await read(request, location=portal.location)
    offers = await appointments.offers(portal)
    context = {"signed": signed, "offers": offers, "binding": signed.session.id}
    if not portal.settings.allow_booking:
        return await page(
            request,
            portal,
            "message.html",
            status=403,
            title="Booking",
            signed=signed,
            message="Booking is not available in the client portal. Please contact us to make an appointment.",
        )
    chosen = next((o for o in offers if o.service.id == params["service"]), None)
    if chosen is None:
        return await page(request, portal, "book_services.html", title="Book an appointment", **context)
    calendar_id = params["calendar"]
    if calendar_id is not None and all(c.id != calendar_id for c in chosen.calendars):
        calendar_id = None
    context |= {
        "offer": chosen,
        "calendar_id": calendar_id,
        "calendar": next((c for c in chosen.calendars if c.id == calendar_id), None),
    }
    start = params["start"]
    if posting(request):
        return await _book(request, portal, signed, context, start, params)
    if start is not None:
        return await page(request, portal, "book_confirm.html", title="Confirm your booking", start=start, **context)
    return await _slots(request, portal, params, context)


async def _slots(request: Request, portal, params, context: dict) -> Response:
    tz = ZoneInfo(portal.location.timezone)
    offer = context["offer"]
    dates = window(params["from"], tz, (await rules_for(portal.location, offer.service)).max_advance_days)
    shown = await page_slots(
        request,
        lambda charge: appointments.free_slots(
            portal, offer.service.id, context["calendar_id"], dates.start, dates.end, charge
        ),
        location=portal.location,
    )
    if isinstance(shown, Response):
        return shown
    days, chosen = pick_day(shown.slots, tz, params["day"])
    here = f"/portal/{portal.slug}/book?service={offer.service.id}&calendar={context['calendar_id'] or ''}&from={dates.first_day.isoformat()}"
    return await page(
        request,
        portal,
        "book_slots.html",
        status=shown.status,
        title="Choose a time",
        days=days,
        chosen=chosen,
        refusal=shown.refusal,
        day_url=lambda day: f"{here}&day={day.isoformat()}",
        later=dates.later,
        earlier=dates.earlier,
        **context,
    )


async def _book(request: Request, portal, signed, context: dict, start: dt.datetime | None, form) -> Response:
    if start is None:
        return await page(
            request,
            portal,
            "book_services.html",
            status=422,
            title="Book an appointment",
            error="Please choose a time.",
            **context,
        )
    if not await valid_post(request, signed.session.id):
        return await page(
            request,
            portal,
            "book_confirm.html",
            status=403,
            title="Confirm your booking",
            start=start,
            error=EXPIRED_FORM,
            **context,
        )
    try:
        row = await appointments.book(
            signed,
            context["offer"].service.id,
            context["calendar_id"],
            start,
            form["accept_terms"] == "yes",
            visitor(request),
        )
    except RateLimited as refused:
        return await too_many_page(request, refused, location=portal.location)
    except DomainError as refused:
        status = 422 if isinstance(refused, ValidationFailed) else 409
        return await page(
            request,
            portal,
            "book_confirm.html",
            status=status,
            title="Confirm your booking",
            start=start,
            error=refused.message,
            **context,
        )
    return go(portal, f"?booked={row.id}")


@reads(form=[Text("reason", 200), Text("note", 2000, multiline=True)])
@customer_page
async def cancel(request: Request, portal: Portal, signed: SignedIn) -> Response:
    """GET: the appointment, the policy and a reason; POST: cancel it."""
    try:
        row = await appointments.own_appointment(signed, check.whole_number(request.path_params["appointment"]) or 0)
    except NotFound:
        return await page(
            request,
            portal,
            "message.html",
            status=404,
            title="Appointment not found",
            signed=signed,
            message="We could not find that appointment among yours.",
        )
    rules = await appointments.policy(portal)
    [own] = await appointments.describe(signed, [row])
    context = {
        "signed": signed,
        "own": own,
        "row": row,
        "rules": rules,
        "binding": signed.session.id,
        "refusal": own.cancel_refusal,
    }
    if not posting(request):
        return await page(request, portal, "cancel.html", title="Cancel your appointment", values={}, **context)
    values = await read(request, location=portal.location)
    if not await valid_post(request, signed.session.id):
        return await page(
            request,
            portal,
            "cancel.html",
            status=403,
            title="Cancel your appointment",
            error=EXPIRED_FORM,
            values=values,
            **context,
        )
    try:
        row = await appointments.cancel(signed, row.id, values["reason"] or None, values["note"], visitor(request))
    except DomainError as refused:
        status = 422 if isinstance(refused, ValidationFailed) else 409
        return await page(
            request,
            portal,
            "cancel.html",
            status=status,
            title="Cancel your appointment",
            error=refused.message,
            values=values,
            **context,
        )
    return go(portal, f"?cancelled={row.id}")


ROUTES = [
    Route("/{slug}", home, methods=["GET"]),
    Route("/{slug}/book", book, methods=["GET", "POST"]),
    Route("/{slug}/cancel/{appointment}", cancel, methods=["GET", "POST"]),
]
