"""One-Time Links: staff send a single-use booking link for a calendar; the first booking through
it uses it up, and anyone trying again is asked to contact the owner."""

from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.plugins.types import GraphQLContribution, PluginInfo, PluginRoutes
from plugins.one_time_links.links import NAME


@hookimpl
def plugin_info():
    return PluginInfo(
        name=NAME,
        title="One-Time Links",
        description="Single-use scheduling links for a calendar: the first booking uses the link up.",
        version="1.0",
    )


@hookimpl
def register_models():
    return ["plugins.one_time_links.models"]


@hookimpl
def register_graphql():
    from plugins.one_time_links.schema import OneTimeLink, OneTimeLinkMutation, OneTimeLinkQuery, OneTimeLinkView

    return GraphQLContribution(
        query=OneTimeLinkQuery, mutation=OneTimeLinkMutation, types=(OneTimeLink, OneTimeLinkView)
    )


@hookimpl
def register_routes():
    from plugins.one_time_links.routes import ROUTES

    return PluginRoutes(prefix="/book", routes=ROUTES, templates=Path(__file__).parent / "templates")
