"""Client Portal: customers sign in with email and password at /portal/{slug} to see their own
appointments, book and cancel under the location's policy; staff hear of it by templated emails."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.models import Location
from core.plugins.types import GraphQLContribution, PluginInfo, PluginRoutes
from plugins.client_portal import emails
from plugins.client_portal.addresses import claim_slug
from plugins.client_portal.settings import NAME, PortalSettings
from plugins.client_portal.signin_links import sign_in_link


@hookimpl
async def validate_settings(app, location_id, settings):
    """Check the chosen notice templates and claim the slug; the settings with it."""
    location = await Location.get(id=location_id)
    await emails.check_notice_templates(app.plugins.registry, location, settings)
    return {**settings, "slug": await claim_slug(location, settings.get("slug", ""))}


@hookimpl
def plugin_info():
    return PluginInfo(
        name=NAME,
        title="Client Portal",
        description="Customers sign in to see their own appointments, book and cancel under your policy.",
        version="1.0",
        settings_model=PortalSettings,
    )


@hookimpl
def register_models():
    return ["plugins.client_portal.models"]


@hookimpl
def register_graphql():
    from plugins.client_portal.schema import PortalMutation, PortalQuery

    return GraphQLContribution(query=PortalQuery, mutation=PortalMutation)


@hookimpl
def register_routes():
    from plugins.client_portal.routes import ROUTES

    return PluginRoutes(prefix="/portal", routes=ROUTES, templates=Path(__file__).parent / "templates")


@hookimpl
def register_email_events():
    return emails.EVENTS


@hookimpl
def register_email_placeholders():
    return emails.PLACEHOLDERS


@hookimpl
async def email_placeholder_values(context, app):
    return await emails.placeholder_values(app, context)


@hookimpl
async def emails_for_change(change, app):
    return await emails.staff_notices(app, change)


@hookimpl
def appointment_links(appointments, audience, settings, valid_until, origin, app):
    """For the customer: "See all my appointments", signing them in to the portal (once it has an address)."""
    if audience != "customer" or not settings.slug:
        return {}
    return {
        appointment.id: [sign_in_link(app.settings, settings.slug, appointment, valid_until, origin)]
        for appointment in appointments
    }
