"""The marketplace: staff see which plugins a location may use, turn them on and off, and set
their settings. The plugin host only discovers and dispatches; this module writes the rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from tortoise.transactions import in_transaction

from core.errors import DomainError, ValidationCode, ValidationFailed
from core.models import Location, PluginActivation, Tier
from core.plugins.host import PluginHost
from core.plugins.setting_problems import setting_problems
from core.plugins.types import PluginInfo
from core.security.access import Staff, in_scope, require_staff


class NotEligible(DomainError):
    """The location's subscription tier does not allow the plugin."""

    def __init__(self, plugin: str, location_id: int, tier: Tier, allowed: Iterable[Tier]) -> None:
        names = ", ".join(t.value for t in sorted(allowed, key=list(Tier).index))
        super().__init__(f"{plugin} needs one of the tiers {names}; location {location_id} is {tier.value}.")
        self.plugin = plugin
        self.location_id = location_id


@dataclass(frozen=True)
class PluginState:
    """A plugin as the marketplace shows it for one location."""

    info: PluginInfo
    enabled: bool
    eligible: bool
    settings: dict[str, Any]
    missing_settings: list[str]
    changed_by: str
    changed_at: Any


async def states(host: PluginHost, actor: Staff | None, location_id: int) -> list[PluginState]:
    """Every installed plugin with its state at a location."""
    location = await _location(actor, location_id)
    rows = {r.plugin: r for r in await PluginActivation.filter(location_id=location.id)}
    return [_state(info, location, rows.get(name)) for name, info in host.infos.items()]


async def set_enabled(
    host: PluginHost, actor: Staff | None, location_ids: Sequence[int], plugin: str, enabled: bool
) -> list[PluginState]:
    """Turn a plugin on or off at several locations at once: all or none (an ineligible location,
    or required settings not yet set at one, refuse the whole request)."""
    staff = require_staff(actor)
    info = host.info(plugin)
    if not location_ids:
        raise ValidationFailed("locationIds", "Name at least one location.", ValidationCode.REQUIRED)
    locations = [await _location(staff, location_id) for location_id in dict.fromkeys(location_ids)]
    if enabled:
        for location in locations:
            if location.tier not in info.tiers:
                raise NotEligible(plugin, location.id, location.tier, info.tiers)
    changed = []
    async with in_transaction():
        for location in locations:
            row, _ = await PluginActivation.get_or_create(location_id=location.id, plugin=plugin)
            row.enabled, row.changed_by, row.note = enabled, f"staff:{staff.user_id}", ""
            if enabled:
                settings = info.settings_from(row.settings)
                missing = info.missing_settings(settings)
                if missing:
                    raise ValidationFailed(
                        f"settings.{missing[0]}",
                        f"Set {', '.join(missing)} before enabling {info.title}.",
                        ValidationCode.REQUIRED,
                    )
                row.settings = await host.validate_settings(plugin, location.id, settings)
            await row.save()
            changed.append(_state(info, location, row))
    return changed


async def update_settings(
    host: PluginHost, actor: Staff | None, location_id: int, plugin: str, settings: dict[str, Any]
) -> PluginState:
    """Validate and store a plugin's settings at a location (camelCase keys, merged over those
    stored); a refusal names the field."""
    staff = require_staff(actor)
    info = host.info(plugin)
    location = await _location(staff, location_id)
    if not isinstance(settings, dict):
        raise ValidationFailed("settings", "Settings are an object of named values.")
    row = await PluginActivation.get_or_none(location_id=location.id, plugin=plugin)
    merged = {**info.settings_from(row.settings if row else None), **settings}
    try:
        clean = info.settings_model.model_validate(merged).model_dump(by_alias=True, mode="json")
    except PydanticValidationError as error:
        raise ValidationFailed.of(setting_problems(error)) from None
    async with in_transaction():
        row = row or PluginActivation(location_id=location.id, plugin=plugin)
        row.settings, row.changed_by = (
            await host.validate_settings(plugin, location.id, clean),
            f"staff:{staff.user_id}",
        )
        await row.save()
    return _state(info, location, row)


async def disable_ineligible(host: PluginHost, location: Location, changed_by: str) -> list[str]:
    """After a tier change: turn off, with a note, every enabled plugin the tier no longer allows."""
    disabled = []
    for row in await PluginActivation.filter(location_id=location.id, enabled=True):
        info = host.infos.get(row.plugin)
        if info is not None and location.tier not in info.tiers:
            row.enabled, row.changed_by = False, changed_by
            row.note = f"Disabled: the {location.tier.value} tier does not include this plugin."
            await row.save()
            disabled.append(row.plugin)
    return disabled


def _state(info: PluginInfo, location: Location, row: PluginActivation | None) -> PluginState:
    settings = info.settings_from(row.settings if row else None)
    return PluginState(
        info=info,
        enabled=bool(row and row.enabled),
        eligible=location.tier in info.tiers,
        settings=settings,
        missing_settings=info.missing_settings(settings),
        changed_by=row.changed_by if row else "",
        changed_at=row.changed_at if row else None,
    )


async def _location(actor: Staff | None, location_id: int) -> Location:
    return await in_scope(actor, Location, location_id, "Location", "id")
