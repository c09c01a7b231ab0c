"""What plugins hand to the host: their description, GraphQL contribution, routes and links."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import to_jsonable_python
from pydantic.alias_generators import to_camel

from core.models import Tier

ALL_TIERS = frozenset(Tier)


class PluginSettings(BaseModel):
    """Base of plugin settings models: camelCase keys outside, unknown keys refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True)


class NoSettings(PluginSettings):
    """For plugins without settings."""


@dataclass(frozen=True)
class PluginInfo:
    """A plugin's name (also its app label and settings key), how staff see it, the tiers that
    may enable it, and its settings model."""

    name: str
    title: str
    description: str
    version: str
    tiers: frozenset[Tier] = ALL_TIERS
    settings_model: type[PluginSettings] = NoSettings

    def settings_from(self, stored: dict | None) -> dict[str, Any]:
        """The settings as staff see them (camelCase keys): `stored` validated, or, when never set
        or no longer valid, the defaults (required settings without a default left out)."""
        model = self.settings_model
        try:
            return model.model_validate(stored or {}).model_dump(by_alias=True, mode="json")
        except ValidationError:
            defaults = {f.alias or name: f.get_default(call_default_factory=True)
                        for name, f in model.model_fields.items() if not f.is_required()}
            return to_jsonable_python(defaults)

    def missing_settings(self, settings: dict[str, Any]) -> list[str]:
        """The required settings (camelCase) that `settings` lacks: the plugin cannot be enabled until they are set."""
        return [f.alias or name for name, f in self.settings_model.model_fields.items() if f.is_required() and (f.alias or name) not in settings]


@dataclass(frozen=True)
class GraphQLContribution:
    """Root classes (strawberry types whose fields join Query / Mutation) and extra types."""

    query: type | None = None
    mutation: type | None = None
    types: tuple[type, ...] = ()


@dataclass(frozen=True)
class PluginRoutes:
    """Starlette routes mounted under `prefix` (e.g. "/action")."""

    prefix: str
    routes: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    """A link a plugin offers for an appointment: a kind (machine-readable), a label and a URL."""

    kind: str
    label: str
    url: str


AUDIENCES = ("staff", "customer")
