"""Appointment Action Links: a link in customers' appointment emails opens a page where they
view, confirm, reschedule or cancel the appointment without signing in."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.email.registry import Placeholder
from core.models import RecipientRole, Tier
from core.plugins.types import GraphQLContribution, Link, PluginInfo, PluginRoutes
from plugins.action_links.emails import DETAILS_TEXT, EVENTS, PLACEHOLDER, block, with_block
from plugins.action_links.links import NAME, SECRET_KIND, ActionLinkSettings, is_live, link_urls, tokens_for, url_of


@hookimpl
def plugin_info():
    return PluginInfo(
        name=NAME,
        title="Appointment Action Links",
        description="Customers view, confirm, reschedule or cancel their appointment from a link in their emails.",
        version="1.0",
        tiers=frozenset({Tier.SILVER, Tier.GOLD, Tier.PLATINUM}),
        settings_model=ActionLinkSettings,
    )


@hookimpl
def register_models():
    return ["plugins.action_links.models"]


@hookimpl
def register_graphql():
    from plugins.action_links.schema import (
        ActionLinkMutation,
        ActionLinkQuery,
        ActionLinkRevoked,
        ActionLinkSent,
        ActionLinkView,
    )

    return GraphQLContribution(
        query=ActionLinkQuery, mutation=ActionLinkMutation, types=(ActionLinkView, ActionLinkRevoked, ActionLinkSent)
    )


@hookimpl
def register_routes():
    from plugins.action_links.routes import ROUTES

    return PluginRoutes(prefix="/action", routes=ROUTES, templates=Path(__file__).parent / "templates")


@hookimpl
def register_email_events():
    return EVENTS


@hookimpl
def register_email_placeholders():
    return [
        Placeholder(
            PLACEHOLDER,
            "The action link text, then the link to view, confirm, reschedule or cancel the appointment "
            f'(once it is cancelled, completed or a no-show: "{DETAILS_TEXT}", then the link).',
            frozenset({RecipientRole.CUSTOMER}),
        )
    ]


@hookimpl
async def email_placeholder_values(context, app):
    settings = await app.plugins.settings_of(NAME, context.location.id)
    if context.appointment is None or context.role is not RecipientRole.CUSTOMER or not settings.include_in_emails:
        return {PLACEHOLDER: ""}
    return {PLACEHOLDER: block(app, context.appointment, settings)}


@hookimpl
async def amend_email(message, context, app):
    """A customer appointment email whose template lacks the block gets it appended."""
    if message.role is not RecipientRole.CUSTOMER or context.appointment is None:
        return
    settings = await app.plugins.settings_of(NAME, context.location.id)
    if settings.include_in_emails:
        with_block(app, message, context.appointment, settings)


@hookimpl
def register_secret_links():
    """Emails keep an appointment's id for its link; the token is derived again as they are sent."""
    return {SECRET_KIND: link_urls}


@hookimpl
async def appointment_links(appointments, audience, app):
    """For the customer only: staff never see a customer's action link (it signs them in to the
    portal); they have it emailed with `sendActionLink`."""
    if audience != "customer":
        return {}
    tokens = await tokens_for(app.settings, appointments)
    label = "View, confirm, reschedule or cancel this appointment"
    return {
        appointment.id: [Link("action_link", label, url_of(app.settings, tokens[appointment.id]))]
        for appointment in appointments
    }


@hookimpl
async def link_is_live(origin, app):
    """For a plugin that offered a link on an action-link page: does that action link still work?"""
    return await is_live(app, origin)
