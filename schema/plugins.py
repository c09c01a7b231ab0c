"""GraphQL of the plugin host: the marketplace, and the pieces plugin fields are built from
(`PluginDisabled`, `LinkUnavailable`, gating helpers)."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from core import errors as core_errors, models
from core.plugins import marketplace
from core.security.access import require_location
from schema.context import Info
from schema.errors import CODE, CONVERTERS, Problem, as_result
from schema.inputs import parse_id, parse_ids, result
from schema.problem_codes import ErrorCode
from schema.types import Tier


@strawberry.type(description="The plugin is not enabled at this location.")
class PluginDisabled(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.PLUGIN_DISABLED, description=CODE)
    plugin: str


@strawberry.type(description="The plugin's tier requirements exclude the location.")
class NotEligible(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.NOT_ELIGIBLE, description=CODE)
    plugin: str
    location_id: strawberry.ID


@strawberry.enum(description="Why a link no longer works.")
class LinkStatus(Enum):
    USED = "USED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


@strawberry.type(description="A link that was used, has expired or was revoked; contact the owner.")
class LinkUnavailable(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.LINK_UNAVAILABLE, description=CODE)
    status: LinkStatus
    owner_name: str
    owner_email: str
    owner_phone: str


CONVERTERS[marketplace.NotEligible] = lambda e: NotEligible(
    message=e.message, plugin=e.plugin, location_id=strawberry.ID(str(e.location_id))
)
CONVERTERS[core_errors.LinkUnavailable] = lambda e: LinkUnavailable(
    message=e.message,
    status=LinkStatus(e.status),
    owner_name=e.owner_name,
    owner_email=e.owner_email,
    owner_phone=e.owner_phone,
)


@strawberry.type(description="A link a plugin offers for an appointment.")
class Link:
    kind: str
    label: str
    url: str


@strawberry.type(description="An installed plugin and its state at one location.")
class PluginState:
    name: str
    title: str
    description: str
    version: str
    allowed_tiers: list[Tier]
    enabled: bool
    eligible: bool
    settings: JSON = strawberry.field(description="Validated settings, camelCase keys; defaults until changed.")
    missing_settings: list[str] = strawberry.field(
        description="Required settings not set yet (camelCase keys): the plugin cannot be enabled until they are."
    )
    changed_by: str
    changed_at: dt.datetime | None

    @classmethod
    def of(cls, state: marketplace.PluginState) -> PluginState:
        info = state.info
        return cls(
            name=info.name,
            title=info.title,
            description=info.description,
            version=info.version,
            allowed_tiers=sorted(info.tiers, key=list(models.Tier).index),
            enabled=state.enabled,
            eligible=state.eligible,
            settings=state.settings,
            missing_settings=state.missing_settings,
            changed_by=state.changed_by,
            changed_at=state.changed_at,
        )


@strawberry.type
class PluginStateList:
    plugins: list[PluginState]


PluginStateListResult = result("PluginStateListResult", PluginStateList, NotEligible)
PluginStateResult = result("PluginStateResult", PluginState)


async def enabled_at(info: Info, plugin: str, location_id: int) -> bool:
    """Whether a plugin is enabled at a location, asked once per request and location."""
    return plugin in info.context.app.plugins.allow_list(await info.context.activations(location_id))


def gated(plugin: str, location_of: Callable[..., Any]):
    """Decorate a plugin's staff resolver: `location_of` gives the location id (awaitable or
    not) from the field's arguments it names (as hooks get theirs). Callers who cannot see the
    location are refused first (so enablement is never revealed to them), an unknown location
    answers `NotFound`, then the resolver answers `PluginDisabled` where the plugin is off."""
    wanted = _parameters_of(location_of)

    def decorate(resolver):
        @functools.wraps(resolver)
        async def wrapper(self, info: Info, **kwargs):
            location_id = location_of(
                **(kwargs if wanted is None else {k: v for k, v in kwargs.items() if k in wanted})
            )
            if inspect.isawaitable(location_id):
                location_id = await location_id
            require_location(await info.context.staff(), location_id)
            if not await enabled_at(info, plugin, location_id):
                if await info.context.loaders.by_id(models.Location).load(location_id) is None:
                    raise core_errors.NotFound("Location", location_id)
                return PluginDisabled(
                    message=f"The {info.context.app.plugins.info(plugin).title} plugin is not enabled at this location.",
                    plugin=plugin,
                )
            return await resolver(self, info, **kwargs)

        return wrapper

    return decorate


def _parameters_of(function: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword arguments `function` takes, or None when it takes any (**kwargs)."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


@strawberry.type
class PluginQuery:
    @strawberry.field(description="The marketplace: every installed plugin with its state at a location.")
    @as_result
    async def plugins(self, info: Info, location_id: strawberry.ID) -> PluginStateListResult:
        states = await marketplace.states(
            info.context.app.plugins, await info.context.staff(), parse_id("Location", location_id)
        )
        return PluginStateList(plugins=[PluginState.of(s) for s in states])


@strawberry.type
class PluginMutation:
    @strawberry.mutation(
        description="Turn a plugin on or off at one or several locations (all or none: an ineligible tier refuses the request)."
    )
    @as_result
    async def set_plugin_enabled(
        self, info: Info, location_ids: list[strawberry.ID], plugin: str, enabled: bool
    ) -> PluginStateListResult:
        states = await marketplace.set_enabled(
            info.context.app.plugins, await info.context.staff(), parse_ids("Location", location_ids), plugin, enabled
        )
        return PluginStateList(plugins=[PluginState.of(s) for s in states])

    @strawberry.mutation(
        description="Change a plugin's settings at a location (camelCase keys; only those given change)."
    )
    @as_result
    async def update_plugin_settings(
        self, info: Info, location_id: strawberry.ID, plugin: str, settings: JSON
    ) -> PluginStateResult:
        state = await marketplace.update_settings(
            info.context.app.plugins, await info.context.staff(), parse_id("Location", location_id), plugin, settings
        )
        return PluginState.of(state)
