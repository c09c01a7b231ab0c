"""The customer's pages under /action/{token}: GETs only show; every change is a POST from the
page with a CSRF token bound to the link token."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.errors import DomainError, LinkUnavailable, NotFound, RateLimited, StaleAppointment, ValidationFailed
from core.models import AppointmentStatus, Location
from plugins.action_links import service
from plugins.action_links.links import Opened, open_link
from web.client_ip import ip_of
from web.csrf import page_csrf_token, valid_form_csrf
from web.pages import gone_page, not_found_page, render_page, too_many_page
from web.slot_picker import pick_day

DONE = {
    "confirmed": "Thank you: your appointment is confirmed.",
    "rescheduled": "Your appointment has moved. We have emailed you the new time.",
    "cancelled": "Your appointment is cancelled. We have emailed you a confirmation.",
    "already": "This appointment is already confirmed.",
}
SLOT_DAYS = 14


async def _open(request: Request) -> Opened | Response:
    """The link of the request, or the page to answer instead (404, 410, 429)."""
    try:
        return await service.resolve(request.path_params["token"], ip_of(request), request.app.state.limiter)
    except NotFound:
        return await not_found_page(request)
    except RateLimited as refused:
        return await too_many_page(request, refused.retry_after)
    except LinkUnavailable as gone:
        return await gone_page(
            request, location=await Location.get(id=gone.location_id),
            message=f"{gone.message} Please contact us if you need to change your appointment.",
            owner_name=gone.owner_name, owner_email=gone.owner_email, owner_phone=gone.owner_phone,
        )


async def _page(request: Request, opened: Opened, *, error: str | None = None, status: int = 200) -> Response:
    view = await service.view(opened)
    notice = DONE.get(request.query_params.get("done", ""))
    context = {
        "title": "Your appointment", "view": view, "appointment": opened.appointment,
        "token": opened.token, "csrf": page_csrf_token(request, opened.token), "notice": notice, "error": error,
        "links": await service.customer_links(opened),
    }
    return await render_page(request, "action_links/appointment.html", context, location=opened.location, status=status)


async def show(request: Request) -> Response:
    """GET: the appointment, the actions allowed now, and why others are not."""
    opened = await _open(request)
    if isinstance(opened, Response):
        return opened
    return await _page(request, opened)


async def slots_page(request: Request) -> Response:
    """GET: free slots to move to, 14 days from `from` (a date), with a way to later days."""
    opened = await _open(request)
    if isinstance(opened, Response):
        return opened
    tz = ZoneInfo(opened.location.timezone)
    start = None
    try:
        if request.query_params.get("from"):
            start = dt.datetime.combine(dt.date.fromisoformat(request.query_params["from"]), dt.time(), tzinfo=tz)
    except ValueError:
        start = None
    slots = await service.reschedule_slots(opened, start, SLOT_DAYS)
    first_day = (start or dt.datetime.now(tz)).date()
    days, chosen = pick_day(slots, tz, request.query_params.get("day"))
    base = f"/action/{opened.token}/reschedule?from={first_day.isoformat()}"
    context = {
        "title": "Choose a new time", "days": days, "chosen": chosen, "day_url": lambda day: f"{base}&day={day.isoformat()}", "token": opened.token, "appointment": opened.appointment,
        "csrf": page_csrf_token(request, opened.token), "later": (first_day + dt.timedelta(days=SLOT_DAYS)).isoformat(),
        "earlier": (first_day - dt.timedelta(days=SLOT_DAYS)).isoformat() if start and first_day > dt.datetime.now(tz).date() else None,
        "error": None,
    }
    return await render_page(request, "action_links/slots.html", context, location=opened.location)


async def _post(request: Request, act) -> Response:
    """POST: check CSRF, do the action, redirect to the page (or show why it failed)."""
    opened = await _open(request)
    if isinstance(opened, Response):
        return opened
    if not await valid_form_csrf(request, opened.token):
        return await _page(request, opened, error="This form has expired. Please try again.", status=403)
    form = await request.form()
    try:
        done = await act(opened, form)
    except StaleAppointment:
        fresh = await open_link(opened.token)
        return await _page(request, fresh, error="Your appointment was changed meanwhile; here it is as it is now.", status=409)
    except DomainError as refused:
        return await _page(request, opened, error=refused.message, status=409)
    return RedirectResponse(f"/action/{opened.token}?done={done}", status_code=303)


async def confirm(request: Request) -> Response:
    """POST: confirm the appointment."""

    async def act(opened: Opened, form) -> str:
        if opened.appointment.status is AppointmentStatus.CONFIRMED:
            return "already"
        await service.confirm(opened, ip_of(request), request.headers.get("user-agent", "")[:500])
        return "confirmed"

    return await _post(request, act)


async def reschedule(request: Request) -> Response:
    """POST: move the appointment to the chosen slot."""

    async def act(opened: Opened, form) -> str:
        try:
            start = dt.datetime.fromisoformat(str(form.get("start", "")))
            sequence = int(str(form.get("sequence", "")))
        except ValueError:
            raise ValidationFailed("start", "Please choose one of the times offered.") from None
        if start.tzinfo is None:
            raise ValidationFailed("start", "Please choose one of the times offered.")
        await service.reschedule(opened, start, sequence, ip_of(request), request.headers.get("user-agent", "")[:500])
        return "rescheduled"

    return await _post(request, act)


async def cancel(request: Request) -> Response:
    """POST: cancel the appointment with a reason and a note."""

    async def act(opened: Opened, form) -> str:
        reason = str(form.get("reason") or "")[:200] or None
        note = str(form.get("note") or "")[:2000]
        await service.cancel(opened, reason, note, ip_of(request), request.headers.get("user-agent", "")[:500])
        return "cancelled"

    return await _post(request, act)


ROUTES = [
    Route("/{token}", show, methods=["GET"]),
    Route("/{token}/reschedule", slots_page, methods=["GET"]),
    Route("/{token}/confirm", confirm, methods=["POST"]),
    Route("/{token}/reschedule", reschedule, methods=["POST"]),
    Route("/{token}/cancel", cancel, methods=["POST"]),
]
