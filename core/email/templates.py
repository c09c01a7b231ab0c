"""Email templates: a location's own named templates, the built-in defaults of the events
(core.email.registry) where it has none, and checks that a template uses only placeholders allowed for its role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from core import validation as check
from core.email.registry import EmailRegistry, placeholders_in
from core.errors import NotFound, ValidationCode, ValidationFailed
from core.locations import get_location, settings_source
from core.models import EmailTemplate, Location, RecipientRole
from core.security.access import Staff, in_scope

if TYPE_CHECKING:
    from core.plugins.host import PluginHost

CUSTOMER, STAFF = RecipientRole.CUSTOMER, RecipientRole.STAFF


@dataclass(frozen=True)
class Template:
    """A template ready to render: a location's saved one or a built-in default (`id` None)."""

    id: int | None
    name: str
    event: str
    role: RecipientRole
    subject: str
    body: str

    @property
    def is_default(self) -> bool:
        """True for a built-in default template."""
        return self.id is None

    @classmethod
    def of(cls, row: EmailTemplate) -> Template:
        """The template of a saved row."""
        return cls(row.id, row.name, row.event, row.role, row.subject, row.body)


def default_template(registry: EmailRegistry, event: str, role: RecipientRole) -> Template | None:
    """The built-in default for an event and role (given with the event, core's or a plugin's), if any."""
    found = registry.default(event, role)
    if found is None:
        return None
    return Template(
        None,
        f"Default {event.lower().replace('_', ' ')} ({role.value.lower()})",
        event,
        role,
        found.subject,
        found.body,
    )


def default_templates(registry: EmailRegistry) -> list[Template]:
    """Every built-in default of the registry's events, by event and role."""
    keys = sorted(
        ((event.name, default.role) for event in registry.events.values() for default in event.defaults),
        key=lambda k: (k[0], k[1].value),
    )
    return [t for event, role in keys if (t := default_template(registry, event, role)) is not None]


def check_placeholders(
    host: PluginHost, role: RecipientRole, subject: str, body: str, enabled_plugins: frozenset[str]
) -> None:
    """Refuse placeholders that are unknown or not allowed for the role, listing the allowed ones."""
    registry = host.registry
    allowed = {p.name for p in registry.allowed(role, enabled_plugins)}
    for field, text in (("subject", subject), ("body", body)):
        for name in placeholders_in(text):
            if name not in allowed:
                known = registry.placeholders.get(name)
                if known is None:
                    problem = f"{{{name}}} is not a placeholder"
                elif known.plugin and known.plugin not in enabled_plugins:
                    problem = f"{{{name}}} comes from the {known.plugin} plugin, which is not enabled at this location"
                else:
                    problem = f"{{{name}}} is not allowed in {role.value.lower()} emails"
                listing = ", ".join(f"{{{n}}}" for n in sorted(allowed))
                raise ValidationFailed(field, f"{problem}. Allowed: {listing}.", ValidationCode.INVALID_CHOICE)


async def _editable_location(actor: Staff | None, location_id: int) -> Location:
    location = await get_location(actor, location_id)
    if location.shares_headquarters_settings:
        raise ValidationFailed(
            "locationId",
            "This location uses its headquarters' email templates; change them there.",
            ValidationCode.NOT_EDITABLE,
        )
    return location


async def save_template(
    host: PluginHost,
    actor: Staff | None,
    location_id: int,
    *,
    name: str,
    event: str,
    role: RecipientRole,
    subject: str,
    body: str,
    enabled_plugins: frozenset[str] = frozenset(),
) -> EmailTemplate:
    """Create or replace (by name) a location's template, after checking its event and placeholders.
    A location has at most one customer template per event: it replaces the default."""
    location = await _editable_location(actor, location_id)
    clean_name = check.text("name", name, max_length=200)
    events = host.registry.events
    if event not in events:
        raise ValidationFailed(
            "event", f"Unknown event. Events: {', '.join(sorted(events))}.", ValidationCode.INVALID_CHOICE
        )
    clean_subject = check.text("subject", subject, max_length=500)
    if "\n" in subject.strip() or "\r" in subject:
        raise ValidationFailed("subject", "A subject is one line.", ValidationCode.INVALID_CHARACTERS)
    if not body.strip():
        raise ValidationFailed("body", "This field is required.", ValidationCode.REQUIRED)
    if len(body) > 20_000:
        raise ValidationFailed("body", "At most 20000 characters.", ValidationCode.TOO_LONG)
    check_placeholders(host, role, clean_subject, body, enabled_plugins)
    if role is CUSTOMER:
        taken = (
            await EmailTemplate.filter(location_id=location.id, event=event, role=CUSTOMER)
            .exclude(name=clean_name)
            .first()
        )
        if taken:
            raise ValidationFailed("event", f"The customer template for this event is {taken.name!r}; edit that one.")
    values: dict[str, Any] = {
        "event": event,
        "role": role,
        "subject": clean_subject,
        "body": body.replace("\r\n", "\n"),
    }
    row = await EmailTemplate.get_or_none(location_id=location.id, name=clean_name)
    try:
        if row is None:
            return await EmailTemplate.create(location_id=location.id, name=clean_name, **values)
        row.update_from_dict(values)
        await row.save()
        return row
    except IntegrityError:
        raise ValidationFailed(
            "name", "A template with this name was just saved; try again.", ValidationCode.TAKEN
        ) from None


async def get_template(actor: Staff | None, template_id: int) -> EmailTemplate:
    """A saved template in scope, or `NotFound` / `PermissionDenied`."""
    return await in_scope(actor, EmailTemplate, template_id, "EmailTemplate")


async def delete_template(actor: Staff | None, template_id: int) -> EmailTemplate:
    """Delete a saved template; its event falls back to the default. Returns the deleted row."""
    row = await get_template(actor, template_id)
    await _editable_location(actor, row.location_id)
    await row.delete()
    return row


async def location_templates(host: PluginHost, actor: Staff | None, location_id: int) -> list[Template]:
    """The templates in force at a location (its headquarters' when shared): saved ones, and the
    defaults (those of plugin events only where the plugin is enabled) of customer events that have
    no saved template, by event and name."""
    location = await get_location(actor, location_id)
    source = await settings_source(location)
    saved = [Template.of(row) for row in await EmailTemplate.filter(location_id=source.id)]
    covered = {(t.event, t.role) for t in saved if t.role is CUSTOMER}
    events, enabled = host.registry.events, await host.enabled_names(location.id)
    defaults = [
        t
        for t in default_templates(host.registry)
        if (t.role is STAFF or (t.event, t.role) not in covered)
        and t.event in events
        and events[t.event].plugin in (None, *enabled)
    ]
    return sorted(saved + defaults, key=lambda t: (t.event, t.role.value, not t.is_default, t.name))


async def customer_template(registry: EmailRegistry, source: Location, event: str) -> Template | None:
    """The customer template of an event at a settings source: its saved one, else the default."""
    row = await EmailTemplate.get_or_none(location_id=source.id, event=event, role=CUSTOMER)
    return Template.of(row) if row else default_template(registry, event, CUSTOMER)


async def template_by_reference(registry: EmailRegistry, reference: int | str, location: Location) -> Template:
    """A template by its id as GraphQL shows it: a saved template of the location (or of its
    settings source) or a built-in `default:EVENT:ROLE`; `NotFound` otherwise."""
    text = str(reference)
    if text.startswith("default:"):
        _, event, role = (text.split(":") + ["", ""])[:3]
        found = default_template(registry, event, RecipientRole(role)) if role in RecipientRole.__members__ else None
        if found is None:
            raise NotFound("EmailTemplate", text)
        return found
    source = await settings_source(location)
    number = check.whole_number(text)
    row = await EmailTemplate.get_or_none(id=number, location_id__in=[location.id, source.id]) if number else None
    if row is None:
        raise NotFound("EmailTemplate", text)
    return Template.of(row)
