"""What plugins hand to the host: their description, GraphQL contribution, routes and links."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, to_jsonable_python

from core.errors import ValidationFailed
from core.models import Tier
from core.validation import plain_text

ALL_TIERS = frozenset(Tier)
MULTILINE = "multiline"
MultilineText = Annotated[str, MULTILINE]  # a settings field that keeps line breaks and tabs


class PluginSettings(BaseModel):
    """Base of plugin settings models: camelCase keys outside, unknown keys refused, text plain
    (core.validation.plain_text): one line, but `MultilineText` fields keep line breaks and tabs."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    @field_validator("*", mode="before")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        assert name is not None  # a field validator always validates a field
        multiline = MULTILINE in cls.model_fields[name].metadata
        try:
            if isinstance(value, str):
                return plain_text(name, value, multiline=multiline)
            if isinstance(value, list):
                return [plain_text(name, v, multiline=multiline) if isinstance(v, str) else v for v in value]
        except ValidationFailed as refused:
            raise PydanticCustomError("plain_text", refused.message) from None
        return value


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
            defaults = {
                f.alias or name: f.get_default(call_default_factory=True)
                for name, f in model.model_fields.items()
                if not f.is_required()
            }
            return to_jsonable_python(defaults)

    def missing_settings(self, settings: dict[str, Any]) -> list[str]:
        """The required settings (camelCase) that `settings` lacks: the plugin cannot be enabled until they are set."""
        return [
            f.alias or name
            for name, f in self.settings_model.model_fields.items()
            if f.is_required() and (f.alias or name) not in settings
        ]


@dataclass(frozen=True)
class GraphQLContribution:
    """Root classes (strawberry types whose fields join Query / Mutation) and extra types."""

    query: type | None = None
    mutation: type | None = None
    types: tuple[type, ...] = ()


@dataclass(frozen=True)
class PluginRoutes:
    """Starlette routes mounted under `prefix` (e.g. "/action"), and the plugin's folder of page
    templates, if it has one: `render_page` finds its `page.html` as `<plugin name>/page.html`."""

    prefix: str
    routes: list[Any] = field(default_factory=list)
    templates: Path | None = None


@dataclass(frozen=True)
class Link:
    """A link a plugin offers for an appointment: a kind (machine-readable), a label and a URL."""

    kind: str
    label: str
    url: str


AUDIENCES = ("staff", "customer")
