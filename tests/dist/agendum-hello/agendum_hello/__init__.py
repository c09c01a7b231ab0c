"""agendum-hello: a third-party Agendum plugin, found through the `agendum` entry point group.

It adds `helloWorld(locationId)` (a union with `PluginDisabled`, so a location without the
plugin gets a typed answer, never a null) and the `{HelloGreeting}` email placeholder.
"""

from __future__ import annotations

from typing import Annotated, Union

import strawberry
from pydantic import Field

from core import hookimpl
from core.email.registry import Placeholder
from core.locations import get_location
from core.models import RecipientRole
from core.plugins.types import GraphQLContribution, PluginInfo, PluginSettings
from schema.context import Info
from schema.errors import NotFound, PermissionDenied, as_result
from schema.inputs import parse_id
from schema.plugins import PluginDisabled, gated

NAME = "hello"


class HelloSettings(PluginSettings):
    greeting: str = Field("Hello", min_length=1, max_length=60)


@hookimpl
def plugin_info():
    return PluginInfo(
        name=NAME, title="Hello", version="1.0.0", settings_model=HelloSettings,
        description="Greets the location in GraphQL and customers in their emails.",
    )


@strawberry.type(description="The hello plugin's greeting for a location.")
class HelloWorld:
    text: str


HelloWorldResult = Annotated[
    Union[HelloWorld, PluginDisabled, NotFound, PermissionDenied], strawberry.union("HelloWorldResult")
]


@strawberry.type
class HelloQuery:
    @strawberry.field(description="A greeting from the hello plugin (PluginDisabled where it is off).")
    @as_result
    @gated(NAME, lambda location_id: parse_id("Location", location_id))
    async def hello_world(self, info: Info, location_id: strawberry.ID) -> HelloWorldResult:
        location = await get_location(await info.context.staff(), parse_id("Location", location_id))
        settings = await info.context.app.plugins.settings_of(NAME, location.id)
        return HelloWorld(text=f"{settings.greeting}, {location.name}!")


@hookimpl
def register_graphql():
    return GraphQLContribution(query=HelloQuery, types=(HelloWorld,))


@hookimpl
def register_email_placeholders():
    return [Placeholder("HelloGreeting", "The hello plugin's greeting to the customer.", frozenset({RecipientRole.CUSTOMER}))]


@hookimpl
async def email_placeholder_values(context, app):
    settings = await app.plugins.settings_of(NAME, context.location.id)
    name = context.customer.first_name if context.customer is not None else ""
    return {"HelloGreeting": f"{settings.greeting} {name}".strip()}
