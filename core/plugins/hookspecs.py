"""THE plugin contract: every hook a plugin may implement, and the markers.

A plugin is a module or package of plain functions named after these hooks, decorated with
`@hookimpl` (importable from `core`) and taking only the arguments they use. Hooks are called
with keyword arguments. Every hook called at run time (all but the `register_*` and
`plugin_info` ones) may take `app`: the Agendum app it runs in (core.agendum: `app.settings`
for the base URL and secret keys, `app.plugins` for the plugin host). Nothing about an app is
process-wide: reach it through `app`, `info.context.app` in resolvers or
`request.app.state.agendum` in routes, never through a module of your own. pluggy is synchronous: a hook may be `async def`, and the host awaits
what it returns. The host calls implementations in the order plugins were installed; pluggy's
`tryfirst`, `trylast`, `wrapper` and `hookwrapper` options are refused at registration.

Startup hooks are called once for every installed plugin. Location-scoped hooks are called
only for the plugins enabled at the location concerned; a plugin never checks that itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Mapping

    from core.agendum import Agendum
    from core.changes import Change
    from core.email.notifications import OutgoingEmail
    from core.email.registry import EmailEvent, Placeholder
    from core.email.render import EmailContext
    from core.errors import RuleViolation
    from core.models import Appointment
    from core.plugins.types import GraphQLContribution, Link, PluginInfo, PluginRoutes, PluginSettings
    from core.security.access import Actor

PROJECT = "agendum"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ------------------------------------------------------------------ startup hooks


@hookspec
def plugin_info() -> PluginInfo:
    """Who the plugin is: name, title, description, version, the tiers that may enable it, and
    its settings model (pydantic; its defaults are the settings of a newly enabled location).

    Startup, collected: each plugin returns its own. Required.
    """


@hookspec
def register_models() -> list[str]:
    """Module paths of the plugin's Tortoise models; they form an app labelled with the plugin's
    name, registered before the ORM starts (in `serve`, `migrate` and `worker`).

    Startup, collected.
    """


@hookspec
def register_graphql() -> GraphQLContribution:
    """Query and mutation classes and extra types to merge into the schema. Root field names
    must be unique: start-up refuses a clash, naming both owners. Location-scoped fields return
    unions with `PluginDisabled`; fields that take a token or slug answer `NotFound` when the
    plugin is disabled where the token leads (use `schema.plugins.gated` / `enabled_at`).

    Startup, collected.
    """


@hookspec
def register_routes() -> PluginRoutes:
    """HTTP routes for customers, mounted under the plugin's own prefix (e.g. `/action`).
    Every route resolves its location first (e.g. token -> link -> location) and answers 404 when
    the thing is unknown or the plugin is disabled there (`request.app.state.agendum.plugins.enabled_names`,
    `web.pages.not_found_page`): disabled looks like missing.

    Startup, collected; prefixes must be unique.
    """


@hookspec
def register_email_events() -> list[EmailEvent]:
    """Email events the plugin adds (e.g. the portal's staff notices), each with its built-in
    templates (`EmailEvent(..., defaults=(DefaultTemplate(role, subject, body), ...))`).

    Startup, collected; names must be unique.
    """


@hookspec
def register_email_placeholders() -> list[Placeholder]:
    """Placeholder names the plugin fills, their descriptions and the recipient roles they are
    allowed for. Listed and accepted in templates only where the plugin is enabled.

    Startup, collected; names must be unique across core and plugins.
    """


@hookspec
def register_secret_links() -> Mapping[str, Callable[[list[str]], Mapping[str, str] | Awaitable[Mapping[str, str]]]]:
    """Kinds of secret link the plugin puts in emails as derived references
    (`core.email.secrets.derived_link(kind, reference, app.settings)`), each with the function that makes the
    links' URLs again when emails are sent: the references of a batch of emails in, their URLs
    by reference out (leave out one that leads nowhere any more: its email fails, visibly); a
    function naming a second argument `app` gets the app sending the emails. Called
    for every batch carrying one, whether or not the plugin is still enabled at the emails'
    location: an email goes out as it was queued.

    Startup, collected; kinds must be unique across plugins.
    """


@hookspec
def startup(app: Agendum) -> None | Awaitable[None]:
    """The app has started (the ORM is ready): `app` is the Agendum app (its settings, its
    plugins; the Starlette app is `app.asgi`). Startup, collected."""


@hookspec
def shutdown(app: Agendum) -> None | Awaitable[None]:
    """The app (the Agendum app, as for `startup`) is stopping. Startup, collected."""


# ------------------------------------------------------------------ location-scoped hooks


@hookspec
def validate_settings(
    location_id: int, settings: dict[str, Any], app: Agendum
) -> dict[str, Any] | None | Awaitable[dict[str, Any] | None]:
    """Check this plugin's settings against the database and claim what they name (e.g. a
    unique slug in the plugin's own table). `settings` are already validated by the settings
    model (camelCase keys); raise `core.errors.ValidationFailed("settings.<key>", message)` to
    refuse, return the settings completed (e.g. a generated slug) or None to keep them.

    Location-scoped, called on this plugin only: when it is enabled at a location and on every
    change of its settings there, inside the transaction that stores them. Collected: the first
    (only) answer is the settings stored.
    """


@hookspec
def email_placeholder_values(context: EmailContext, app: Agendum) -> dict[str, str] | Awaitable[dict[str, str]]:
    """Values for this plugin's placeholders in one email (`context.appointment` may be None).

    Location-scoped: called only for plugins enabled at `context.location`. Collected: results merge.
    """


@hookspec
def emails_for_change(change: Change, app: Agendum) -> list[OutgoingEmail] | Awaitable[list[OutgoingEmail]]:
    """Extra messages to queue for an appointment change. Runs INSIDE the booking transaction:
    read the database if needed, but no external I/O; raising rolls the change back.

    Location-scoped (the appointment's location). Collected: lists concatenate.
    """


@hookspec
def amend_email(message: OutgoingEmail, context: EmailContext, app: Agendum) -> None | Awaitable[None]:
    """Change a message about to be queued, in place (e.g. append a block of text). Runs inside
    the booking transaction.

    Location-scoped (the message's location). Collected: every enabled plugin amends in turn.
    """


@hookspec
def appointment_links(
    appointments: list[Appointment],
    audience: str,
    settings: PluginSettings,
    valid_until: datetime | None,
    origin: str | None,
    app: Agendum,
) -> Mapping[int, list[Link]] | Awaitable[Mapping[int, list[Link]]]:
    """Links this plugin offers for appointments to an audience, "staff" or "customer" (staff
    see them as `Appointment.links`; customer pages show the customer ones), by appointment id;
    leave out appointments you offer nothing for.

    Batched: called once for all the appointments of one location that a request shows (a page
    of `Appointment.links`, the portal's list, one appointment on a link's page), so read what
    they need in one query, never one per appointment. `settings` is this plugin's settings at
    that location (its settings model), read with the allow-list: no need to read them again.
    When a page reached by a link asks (e.g. the action-link page): `valid_until` is that link's
    expiry and `origin` names it for `PluginHost.origin_is_live` (see `link_is_live`); both None
    otherwise. A link that signs someone in must not outlive the link it was shown on.

    Location-scoped (the appointments' location). Collected: each appointment's lists concatenate.
    """


@hookspec
def link_is_live(origin: str, app: Agendum) -> bool | None | Awaitable[bool | None]:
    """Whether a link this plugin handed out still works, asked later by a plugin that offered a
    link on its page: `origin` is what this plugin passed as `origin` to `appointment_links`
    (e.g. "action_links:12:0"). True or False for your own origins, None for anyone else's.

    Location-scoped (the appointment's location): the link of a plugin turned off is not live.
    Collected: live when its owner answers True.
    """


@hookspec
def appointment_changing(change: Change, app: Agendum) -> None | Awaitable[None]:
    """An appointment change is being written: runs INSIDE the booking transaction, after the
    change and its history row, so what you write commits or rolls back with it (core queues the
    change's emails here). Read and write the database only: no external I/O; raising rolls the
    change back.

    Location-scoped (the appointment's location; core's own implementation runs everywhere).
    Collected: every implementation runs, core's first.
    """


@hookspec
def appointment_changed(change: Change, app: Agendum) -> None | Awaitable[None]:
    """An appointment change has committed. Each implementation runs isolated: one raising is
    logged and neither stops the others nor undoes the change.

    Location-scoped (the appointment's location). Collected.
    """


@hookspec
def check_customer_action(
    appointment: Appointment | None, action: str, actor: Actor, details: dict[str, Any], app: Agendum
) -> RuleViolation | None | Awaitable[RuleViolation | None]:
    """Refuse a customer's change: return a `RuleViolation` (with a rule code of your own) or
    None. `action` is BOOK, CONFIRM, RESCHEDULE or CANCEL; `appointment` is None when booking;
    `details` holds calendar_id, service_id, customer_id and start where they apply.
    Runs inside the booking transaction, after the calendar lock: for BOOK after core's rules,
    for the other actions before core's status and rule checks (a refusal either way changes nothing).

    Location-scoped. Collected: the first refusal wins.
    """
