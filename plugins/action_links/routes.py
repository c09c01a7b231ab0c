"""The customer's pages under /action/{token}: GETs only show; every change is a POST from the
page with a CSRF token bound to the link token."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.availability.budget import Charge
from core.availability.slots import rules_for
from core.errors import DomainError, StaleAppointment, ValidationCode, ValidationFailed
from core.models import AppointmentStatus
from plugins.action_links import service
from plugins.action_links.links import Opened, open_link
from web.client_ip import ip_of
from web.csrf import page_csrf_token, valid_form_csrf
from web.pages import render_page
from web.params import Choice, Date, Instant, Text, Whole, read, reads
from web.slot_pages import page_slots
from web.slot_picker import pick_day, window
from web.token_pages import token_page

DONE = {
    "confirmed": "Thank you: your appointment is confirmed.",
    "rescheduled": "Your appointment has moved. We have emailed you the new time.",
    "cancelled": "Your appointment is cancelled. We have emailed you a confirmation.",
    "already": "This appointment is already confirmed.",
}


async def _resolve(request: Request, token: str) -> Opened:
    return await service.resolve(request.app.state.agendum, token, ip_of(request), request.app.state.limiter)


link_page = token_page(_resolve, hint="Please contact us if you need to change your appointment.")


async def _page(
    request: Request, opened: Opened, *, notice: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    view = await service.view(opened)
    context = {
        "title": "Your appointment",
        "view": view,
        "appointment": opened.appointment,
        "token": opened.token,
        "csrf": page_csrf_token(request, opened.token),
        "notice": notice,
        "error": error,
        "links": await service.customer_links(opened),
    }
    return await render_page(request, "action_links/appointment.html", context, location=opened.location, status=status)


@reads(query=[Choice("done", frozenset(DONE))])
@link_page
async def show(request: Request, opened: Opened) -> Response:
    """GET: the appointment, the actions allowed now, and why others are not (`done`: what the
    customer just did)."""
    asked = await read(request, location=opened.location)
    return await _page(request, opened, notice=DONE.get(asked["done"]))


@reads(query=[Date("from"), Date("day")])
@link_page
async def slots_page(request: Request, opened: Opened) -> Response:
    """GET: free slots to move to, 14 days from `from` (a date; kept within the bookable days),
    with ways to earlier and later days."""
    asked = await read(request, location=opened.location)
    tz = ZoneInfo(opened.location.timezone)
    rules = await rules_for(opened.location, opened.service)
    dates = window(asked["from"], tz, rules.max_advance_days, service.RESCHEDULE_DAYS)

    async def compute(charge: Charge) -> list:
        await charge(await service.reschedule_cost(opened, dates.start, dates.end))
        return await service.reschedule_slots(opened, dates.start, dates.end, rules)

    shown = await page_slots(request, compute, location=opened.location)
    if isinstance(shown, Response):
        return shown
    days, chosen = pick_day(shown.slots, tz, asked["day"])
    base = f"/action/{opened.token}/reschedule?from={dates.first_day.isoformat()}"
    context = {
        "title": "Choose a new time",
        "days": days,
        "chosen": chosen,
        "day_url": lambda day: f"{base}&day={day.isoformat()}",
        "token": opened.token,
        "appointment": opened.appointment,
        "csrf": page_csrf_token(request, opened.token),
        "later": dates.later,
        "earlier": dates.earlier,
        "error": None,
        "refusal": shown.refusal,
    }
    return await render_page(request, "action_links/slots.html", context, location=opened.location, status=shown.status)


async def _post(request: Request, opened: Opened, act) -> Response:
    """POST: check CSRF, do the action, redirect to the page (or show why it failed)."""
    if not await valid_form_csrf(request, opened.token):
        return await _page(request, opened, error="This form has expired. Please try again.", status=403)
    asked = await read(request, location=opened.location)
    try:
        done = await act(opened, asked)
    except StaleAppointment:
        fresh = await open_link(opened.app, opened.token)
        return await _page(
            request, fresh, error="Your appointment was changed meanwhile; here it is as it is now.", status=409
        )
    except DomainError as refused:
        return await _page(request, opened, error=refused.message, status=409)
    return RedirectResponse(f"/action/{opened.token}?done={done}", status_code=303)


@reads()
@link_page
async def confirm(request: Request, opened: Opened) -> Response:
    """POST: confirm the appointment."""

    async def act(opened: Opened, asked) -> str:
        if opened.appointment.status is AppointmentStatus.CONFIRMED:
            return "already"
        await service.confirm(opened, ip_of(request), request.headers.get("user-agent", "")[:500])
        return "confirmed"

    return await _post(request, opened, act)


@reads(form=[Instant("start"), Whole("sequence")])
@link_page
async def reschedule(request: Request, opened: Opened) -> Response:
    """POST: move the appointment to the chosen slot."""

    async def act(opened: Opened, asked) -> str:
        start, sequence = asked["start"], asked["sequence"]
        if start is None or sequence is None:
            raise ValidationFailed("start", "Please choose one of the times offered.", ValidationCode.INVALID_CHOICE)
        await service.reschedule(opened, start, sequence, ip_of(request), request.headers.get("user-agent", "")[:500])
        return "rescheduled"

    return await _post(request, opened, act)


@reads(form=[Text("reason", 200), Text("note", 2000, multiline=True)])
@link_page
async def cancel(request: Request, opened: Opened) -> Response:
    """POST: cancel the appointment with a reason and a note."""

    async def act(opened: Opened, asked) -> str:
        await service.cancel(
            opened, asked["reason"] or None, asked["note"], ip_of(request), request.headers.get("user-agent", "")[:500]
        )
        return "cancelled"

    return await _post(request, opened, act)


ROUTES = [
    Route("/{token}", show, methods=["GET"]),
    Route("/{token}/reschedule", slots_page, methods=["GET"]),
    Route("/{token}/confirm", confirm, methods=["POST"]),
    Route("/{token}/reschedule", reschedule, methods=["POST"]),
    Route("/{token}/cancel", cancel, methods=["POST"]),
]
