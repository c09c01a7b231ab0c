"""Appointment Action Links: a link in customers' appointment emails opens a page where they
view, confirm, reschedule or cancel the appointment without signing in."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl, plugins
from core.booking import LIVE
from core.email_registry import Placeholder
from core.models import Appointment, RecipientRole, Tier
from core.plugin_types import GraphQLContribution, Link, PluginInfo, PluginRoutes
from plugins.action_links.links import NAME, ActionLinkSettings, is_live, token_for, tokens_for, url_of
from web.pages import register_template_dir

PLACEHOLDER = "ActionLinkBlock"
# Once an appointment is cancelled, completed or a no-show, its page refuses every action and
# still shows its details: the block then says that much instead of the staff's link text.
DETAILS_TEXT = "View the details of your appointment"
register_template_dir(Path(__file__).parent / "templates", prefix=NAME)


@hookimpl
def plugin_info():
    return PluginInfo(
        name=NAME, title="Appointment Action Links",
        description="Customers view, confirm, reschedule or cancel their appointment from a link in their emails.",
        version="1.0", tiers=frozenset({Tier.SILVER, Tier.GOLD, Tier.PLATINUM}), settings_model=ActionLinkSettings,
    )


@hookimpl
def register_models():
    return ["plugins.action_links.models"]


@hookimpl
def register_graphql():
    from plugins.action_links.schema import ActionLinkMutation, ActionLinkQuery, ActionLinkRevoked, ActionLinkView

    return GraphQLContribution(query=ActionLinkQuery, mutation=ActionLinkMutation, types=(ActionLinkView, ActionLinkRevoked))


@hookimpl
def register_routes():
    from plugins.action_links.routes import ROUTES

    return PluginRoutes(prefix="/action", routes=ROUTES)


@hookimpl
def register_email_placeholders():
    return [Placeholder(PLACEHOLDER, "The action link text, then the link to view, confirm, reschedule or cancel the appointment "
                        f"(once it is cancelled, completed or a no-show: \"{DETAILS_TEXT}\", then the link).",
                        frozenset({RecipientRole.CUSTOMER}))]


async def _block(appointment: Appointment, settings: ActionLinkSettings) -> str:
    """The link text, then the link: the location's text while the customer may still act on the
    appointment; afterwards what its page still offers."""
    text = settings.link_text if appointment.status in LIVE else DETAILS_TEXT
    return f"{text}\n{url_of(await token_for(appointment))}\n"


@hookimpl
async def email_placeholder_values(context):
    settings = await plugins.current().settings_of(NAME, context.location.id)
    if context.appointment is None or context.role is not RecipientRole.CUSTOMER or not settings.include_in_emails:
        return {PLACEHOLDER: ""}
    return {PLACEHOLDER: await _block(context.appointment, settings)}


@hookimpl
async def amend_email(message, context):
    """A customer appointment email whose template lacks the block gets it appended."""
    if message.role is not RecipientRole.CUSTOMER or context.appointment is None:
        return
    settings = await plugins.current().settings_of(NAME, context.location.id)
    if not settings.include_in_emails:
        return
    url = url_of(await token_for(context.appointment))
    if url not in message.body:
        message.body = f"{message.body.rstrip()}\n\n{await _block(context.appointment, settings)}"


@hookimpl
async def appointment_links(appointments, audience):
    label = "Customer's action link" if audience == "staff" else "View, confirm, reschedule or cancel this appointment"
    tokens = await tokens_for(appointments)
    return {appointment.id: [Link("action_link", label, url_of(tokens[appointment.id]))] for appointment in appointments}


@hookimpl
async def link_is_live(origin):
    """For a plugin that offered a link on an action-link page: does that action link still work?"""
    return await is_live(origin)
