"""A test-only plugin that implements every hook, so tests can watch the host call each one."""

from __future__ import annotations

from typing import Annotated

import strawberry
from pydantic import Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from core import hookimpl
from core.email.notifications import OutgoingEmail
from core.email.registry import EmailEvent, Placeholder
from core.errors import RuleViolation, ValidationFailed
from core.models import Customer, RecipientRole, Tier
from core.plugins.types import GraphQLContribution, Link, PluginInfo, PluginRoutes, PluginSettings
from schema.context import Info
from schema.errors import NotFound, PermissionDenied, as_result
from schema.inputs import parse_id
from schema.plugins import PluginDisabled, gated

NAME = "probe"
calls: list[tuple[str, object]] = []  # (hook, detail) in call order, for the tests


class ProbeSettings(PluginSettings):
    greeting: str = Field("Hello from the probe", min_length=1, max_length=100)
    max_notes: int = Field(3, ge=1, le=10)


@hookimpl
def plugin_info():
    return PluginInfo(
        name=NAME,
        title="Probe",
        description="Implements every hook (tests only).",
        version="1.0",
        tiers=frozenset({Tier.SILVER, Tier.GOLD, Tier.PLATINUM}),
        settings_model=ProbeSettings,
    )


@hookimpl
def register_models():
    return ["agendum_probe.models"]


@hookimpl
def validate_settings(location_id, settings):
    calls.append(("validate_settings", location_id))
    if settings["greeting"].lower() == "goodbye":
        raise ValidationFailed("settings.greeting", "The probe only greets.")
    return {**settings, "greeting": settings["greeting"].rstrip("!")}


@strawberry.type
class ProbeGreeting:
    text: str
    notes: int


ProbeGreetingResult = Annotated[
    ProbeGreeting | PluginDisabled | NotFound | PermissionDenied, strawberry.union("ProbeGreetingResult")
]


async def _location_in_scope(info: Info, location_id) -> int:
    from core.locations import get_location

    return (await get_location(await info.context.staff(), parse_id("Location", location_id))).id


@strawberry.type
class ProbeQuery:
    @strawberry.field
    @as_result
    @gated(NAME, lambda location_id: parse_id("Location", location_id))
    async def probe_greeting(self, info: Info, location_id: strawberry.ID) -> ProbeGreetingResult:
        from agendum_probe.models import ProbeNote

        location = await _location_in_scope(info, location_id)
        settings = await info.context.app.plugins.settings_of(NAME, location)
        return ProbeGreeting(text=settings.greeting, notes=await ProbeNote.filter(location_id=location).count())


@strawberry.type
class ProbeMutation:
    @strawberry.mutation
    @as_result
    @gated(NAME, lambda location_id: parse_id("Location", location_id))  # names only what it needs
    async def probe_note(self, info: Info, location_id: strawberry.ID, text: str) -> ProbeGreetingResult:
        from agendum_probe.models import ProbeNote

        location = await _location_in_scope(info, location_id)
        await ProbeNote.create(location_id=location, text=text)
        settings = await info.context.app.plugins.settings_of(NAME, location)
        return ProbeGreeting(text=settings.greeting, notes=await ProbeNote.filter(location_id=location).count())


@hookimpl
def register_graphql():
    return GraphQLContribution(query=ProbeQuery, mutation=ProbeMutation, types=(ProbeGreeting,))


async def probe_page(request: Request) -> Response:
    location_id = int(request.path_params["location_id"])
    host = request.app.state.agendum.plugins
    if NAME not in await host.enabled_names(location_id):
        return HTMLResponse("<h1>Not found</h1>", status_code=404)
    settings = await host.settings_of(NAME, location_id)
    return HTMLResponse(f"<!doctype html><html lang=en><title>Probe</title><h1>{settings.greeting}</h1></html>")


@hookimpl
def register_routes():
    return PluginRoutes(prefix="/probe", routes=[Route("/{location_id:int}", probe_page)])


@hookimpl
def register_email_events():
    return [EmailEvent("PROBE_EVENT", "Something the probe plugin emails about.")]


@hookimpl
def register_email_placeholders():
    return [Placeholder("ProbeGreeting", "The probe's greeting.", frozenset({RecipientRole.CUSTOMER}))]


@hookimpl
def register_secret_links():
    """Emails may refer to a probe link by a word; "gone" leads nowhere."""
    return {
        "probe_secret": lambda references: {r: f"http://testserver/probe/secret/{r}" for r in references if r != "gone"}
    }


@hookimpl
def startup(app):
    calls.append(("startup", app))


@hookimpl
async def shutdown(app):
    calls.append(("shutdown", app))


@hookimpl
async def email_placeholder_values(context, app):
    settings = await app.plugins.settings_of(NAME, context.location.id)
    calls.append(("email_placeholder_values", context.role))
    return {"ProbeGreeting": settings.greeting}


@hookimpl
async def emails_for_change(change):
    calls.append(("emails_for_change", change.action))
    if change.action != "BOOKED":
        return []
    return [
        OutgoingEmail(
            "PROBE_EVENT",
            RecipientRole.STAFF,
            "probe@example.com",
            f"Probe saw booking {change.appointment.id}",
            "Booked.\n",
        )
    ]


@hookimpl
def amend_email(message, context):
    calls.append(("amend_email", message.event))
    if message.role is RecipientRole.CUSTOMER:
        message.body += "\n-- amended by the probe\n"


@hookimpl
def appointment_links(appointments, audience, settings):
    calls.append(("appointment_links", (audience, sorted(a.id for a in appointments))))
    return {
        a.id: [Link("probe", f"{settings.greeting}, {audience}", f"http://testserver/probe/{a.location_id}")]
        for a in appointments
    }


@hookimpl
def link_is_live(origin):
    calls.append(("link_is_live", origin))
    return origin == "probe:live" if origin.startswith("probe:") else None


@hookimpl
async def appointment_changing(change):
    calls.append(("appointment_changing", change.action))
    if change.action == "CANCELLED" and change.appointment.cancellation_note == "probe: refuse":
        raise RuntimeError("the probe rolls this cancellation back on purpose")


@hookimpl
def appointment_changed(change):
    calls.append(("appointment_changed", change.action))
    raise RuntimeError("the probe fails after commit on purpose")


@hookimpl
async def check_customer_action(appointment, action, actor, details):
    calls.append(("check_customer_action", action))
    customer = await Customer.get(id=details["customer_id"])
    if customer.email.endswith("@blocked.example"):
        return RuleViolation("PROBE_BLOCKED", "The probe does not let this customer book online.")
    return None
