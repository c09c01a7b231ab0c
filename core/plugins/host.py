"""The plugin host: discovery, start-up contributions and gated dispatch of hooks (staff turning
plugins on and off is core.plugins.marketplace's).

Gating lives here and only here: location-scoped hooks reach only the plugins enabled at the
location (the allow-list of PluginActivation rows), so plugin code never checks enablement.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import pluggy

from core.email.registry import EmailRegistry, core_registry
from core.errors import NotFound
from core.models import Appointment, PluginActivation
from core.plugins import hookspecs
from core.plugins.types import AUDIENCES, GraphQLContribution, Link, PluginInfo, PluginRoutes

log = logging.getLogger("agendum.plugins")
ENTRY_POINT_GROUP = "agendum"
CORE = "core"  # the name core's own hook implementations are registered under


class PluginConflict(Exception):
    """A plugin cannot be installed: two plugins (or a plugin and core) claim the same name,
    field, placeholder or prefix, or a hook implementation matches no hook."""


def _parameters(function: Callable) -> frozenset[str]:
    """The names of a function's parameters (none for a callable that has no signature)."""
    try:
        return frozenset(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return frozenset()


def _plugins_after_core(impl) -> bool:
    """Sort key: core's own implementations run before every plugin's, whenever they were registered."""
    return impl.plugin_name != CORE


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class PluginHost:
    """Installed plugins and everything they contribute."""

    def __init__(self, modules: Sequence[ModuleType | Any] = ()) -> None:
        self.app: Any = None  # the core.agendum.Agendum this host serves, set when it is built
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        for module in modules:
            info = getattr(module, "plugin_info", None)
            if info is None:
                raise PluginConflict(f"Plugin {module!r} has no plugin_info hook.")
            info = info()
            if info.name in self.infos or info.name == CORE:
                raise PluginConflict(f"Two plugins are named {info.name!r}.")
            self.infos[info.name] = info
            try:
                self.pm.register(module, name=info.name)
            except pluggy.PluginValidationError as error:
                raise PluginConflict(f"Plugin {info.name!r}: {error}") from None
            _refuse_ordering_options(self.pm, module, info.name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as error:
            name = self.pm.get_name(error.plugin) or repr(error.plugin)
            raise PluginConflict(
                f"Plugin {name!r}: {str(error).split(' in plugin ')[0]} (no such hook in core.plugins.hookspecs)."
            ) from None
        self.registry: EmailRegistry = core_registry()
        self._register_email(self.registry)
        self.secret_link_makers = self._register_secret_links()

    @classmethod
    def load(cls, module_names: Iterable[str], *, entry_point_plugins: bool = True) -> PluginHost:
        """The host of the listed plugin modules plus, when asked, those of the `agendum` entry points."""
        modules = [importlib.import_module(name) for name in module_names]
        if entry_point_plugins:
            modules += [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
        return cls(modules)

    @property
    def settings(self):
        """The settings of the app this host serves (secret keys, base URL)."""
        return self.app.settings

    # ---------------------------------------------------------------- start-up contributions

    def _collect(self, hook: str) -> list[tuple[str, Any]]:
        """(plugin name, result) of a startup hook for every plugin implementing it."""
        results = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            value = impl.function()
            if value is not None:
                results.append((impl.plugin_name, value))
        return sorted(results, key=lambda item: list(self.infos).index(item[0]))

    def _register_email(self, registry: EmailRegistry) -> None:
        try:
            for name, events in self._collect("register_email_events"):
                for event in events:
                    registry.add_event(_owned(event, name))
            for name, placeholders in self._collect("register_email_placeholders"):
                for placeholder in placeholders:
                    registry.add_placeholder(_owned(placeholder, name))
        except ValueError as error:
            raise PluginConflict(str(error)) from None

    def _register_secret_links(self) -> dict[str, Callable]:
        makers: dict[str, Callable] = {}
        owners: dict[str, str] = {}
        for name, kinds in self._collect("register_secret_links"):
            for kind, make in dict(kinds).items():
                if kind in owners:
                    raise PluginConflict(
                        f"Secret link kind {kind!r} is registered by both {owners[kind]!r} and {name!r}."
                    )
                owners[kind], makers[kind] = name, make
        return makers

    async def secret_link_urls(self, kind: str, references: list[str]) -> Mapping[str, str]:
        """The URLs of derived secret links in emails about to be sent (core.email.secrets), by
        reference, made again by the function a plugin registered for `kind` (none for an unknown
        kind), which gets the app too when it names an `app` argument."""
        make = self.secret_link_makers.get(kind)
        if make is None:
            return {}
        urls = await _resolve(make(references, **({"app": self.app} if "app" in _parameters(make) else {})))
        if not isinstance(urls, Mapping):
            raise TypeError(
                f"the secret link function for {kind!r} returned {type(urls).__name__}, not URLs by reference."
            )
        return urls

    def model_apps(self) -> dict[str, dict]:
        """Tortoise apps of the plugins' models: label = plugin name, migrations beside the models."""
        apps = {}
        for name, modules in self._collect("register_models"):
            package = modules[0].rsplit(".", 1)[0]
            apps[name] = {"models": list(modules), "migrations": f"{package}.migrations"}
        return apps

    def graphql(self) -> list[tuple[str, GraphQLContribution]]:
        """(plugin name, contribution) of every plugin adding to the schema."""
        return self._collect("register_graphql")

    def routes(self) -> list[tuple[str, PluginRoutes]]:
        """(plugin name, routes) of every plugin serving pages; prefixes must be unique."""
        found = self._collect("register_routes")
        seen: dict[str, str] = {}
        for name, routes in found:
            prefix = routes.prefix.rstrip("/")
            if not prefix.startswith("/") or prefix in ("", "/graphql", "/healthz", "/locations", "/dev"):
                raise PluginConflict(f"Plugin {name!r} cannot serve under {routes.prefix!r}.")
            if prefix in seen:
                raise PluginConflict(f"Route prefix {prefix!r} is claimed by both {seen[prefix]!r} and {name!r}.")
            if routes.templates is not None and not Path(routes.templates).is_dir():
                raise PluginConflict(f"Plugin {name!r}: its page templates folder {routes.templates} does not exist.")
            seen[prefix] = name
        return found

    async def startup(self) -> None:
        """Call every plugin's startup hook (with the app, if it names `app`)."""
        for impl in self.pm.hook.startup.get_hookimpls():
            await _resolve(impl.function(*[self.app for _ in impl.argnames]))

    async def shutdown(self) -> None:
        """Call every plugin's shutdown hook (all of them, even if one fails)."""
        for impl in self.pm.hook.shutdown.get_hookimpls():
            try:
                await _resolve(impl.function(*[self.app for _ in impl.argnames]))
            except Exception:  # noqa: BLE001 - the others still shut down
                log.exception("shutdown of plugin %s failed", impl.plugin_name)

    # ---------------------------------------------------------------- gating

    async def enabled_names(self, location_id: int) -> frozenset[str]:
        """The installed plugins enabled at a location (the allow-list)."""
        if not self.infos or not 0 < location_id <= 2**31 - 1:
            return frozenset()
        # Tortoise types values_list as tuples whatever `flat`: these are the plugins' names.
        names = cast(
            "list[str]",
            await PluginActivation.filter(location_id=location_id, enabled=True).values_list("plugin", flat=True),
        )
        return frozenset(n for n in names if n in self.infos)

    async def activations_at(self, location_id: int) -> list[PluginActivation]:
        """A location's PluginActivation rows (its allow-list and the plugins' settings) in one
        query, to pass to `allow_list`, `settings_in` and `links` instead of reading them again."""
        if not self.infos or not 0 < location_id <= 2**31 - 1:
            return []
        return await PluginActivation.filter(location_id=location_id)

    def allow_list(self, activations: Iterable[PluginActivation]) -> frozenset[str]:
        """The installed plugins enabled, from all the PluginActivation rows of one location."""
        return frozenset(row.plugin for row in activations if row.enabled and row.plugin in self.infos)

    def register_core(self, hooks: object) -> None:
        """Register core's own hook implementations (core.plugins.core_hooks): they run at every
        location and before any plugin's, as core's part of the one event system."""
        self.pm.register(hooks, name=CORE)

    def settings_in(self, plugin: str, activations: Iterable[PluginActivation]):
        """A plugin's validated settings model, from all the PluginActivation rows of one location
        (defaults when never set)."""
        stored = next((row.settings for row in activations if row.plugin == plugin), None)
        info = self.info(plugin)
        return info.settings_model.model_validate(info.settings_from(stored))

    def allow_list_and_settings(self, plugin: str, activations: Iterable[PluginActivation]):
        """(the allow-list, the plugin's settings model) from all the PluginActivation rows of one
        location, for hot paths that load them with their own query."""
        activations = list(activations)
        return self.allow_list(activations), self.settings_in(plugin, activations)

    async def call(
        self,
        hook: str,
        location_id: int,
        /,
        enabled: frozenset[str] | None = None,
        activations: Iterable[PluginActivation] | None = None,
        isolated: bool = False,
        **kwargs: Any,
    ) -> list[tuple[str, Any]]:
        """Call a location-scoped hook on the plugins enabled there, in the order they were
        installed: `enabled`, when the caller already knows them, or from `activations`, the
        location's PluginActivation rows when the caller has read them (an implementation taking
        `settings` then gets its own settings there; one taking `app` gets the host's app).
        (plugin, awaited result) for each
        implementation that returned something. `isolated`: a failing implementation is logged
        and left out, and the others still run; otherwise its exception propagates."""
        rows = None if activations is None else list(activations)
        impls = sorted(getattr(self.pm.hook, hook).get_hookimpls(), key=_plugins_after_core)
        if enabled is None:  # read the allow-list only when a plugin's implementation may run
            if not any(impl.plugin_name != CORE for impl in impls):
                enabled = frozenset()
            else:
                enabled = await self.enabled_names(location_id) if rows is None else self.allow_list(rows)
        results = []
        for impl in impls:
            if impl.plugin_name != CORE and impl.plugin_name not in enabled:
                continue
            try:
                arguments = {**kwargs, "app": self.app}
                if rows is not None and "settings" in impl.argnames:
                    arguments["settings"] = self.settings_in(impl.plugin_name, rows)
                value = await _resolve(impl.function(*[arguments[arg] for arg in impl.argnames]))
            except Exception:
                if not isolated:
                    raise
                log.exception("%s of plugin %s failed at location %s", hook, impl.plugin_name, location_id)
                continue
            if value is not None:
                results.append((impl.plugin_name, value))
        return results

    async def customer_refusal(self, location_id: int, appointment, action: str, actor, details: dict) -> None:
        """Raise the first `RuleViolation` an enabled plugin returns for a customer's action."""
        for _, violation in await self.call(
            "check_customer_action", location_id, appointment=appointment, action=action, actor=actor, details=details
        ):
            raise violation

    async def links(
        self,
        appointments: Sequence[Appointment],
        audience: str,
        activations: Iterable[PluginActivation],
        valid_until: datetime | None = None,
        origin: str | None = None,
    ) -> dict[int, list[Link]]:
        """The links the enabled plugins offer to "staff" or "customer" for appointments of one
        location, by appointment id (every one given, [] when none): one `appointment_links` call
        per plugin for the whole batch. `activations`: the location's PluginActivation rows, read
        once by the caller (leave out a plugin's row to leave it out); `valid_until` and `origin`:
        the asking page's own link, if it was reached by one."""
        if audience not in AUDIENCES:
            raise ValueError(f"links() are for one of {AUDIENCES}, not {audience!r}.")
        found: dict[int, list[Link]] = {appointment.id: [] for appointment in appointments}
        rows = list(activations)
        locations = {appointment.location_id for appointment in appointments} | {row.location_id for row in rows}
        if len(locations) > 1:
            raise ValueError("links() takes the appointments and plugin activations of one location.")
        if not found:
            return found
        batch = list({appointment.id: appointment for appointment in appointments}.values())
        offers = await self.call(
            "appointment_links",
            batch[0].location_id,
            activations=rows,
            isolated=True,
            appointments=batch,
            audience=audience,
            valid_until=valid_until,
            origin=origin,
        )
        for plugin, offered in offers:
            if not isinstance(offered, Mapping):
                log.error(
                    "appointment_links of plugin %s returned %s, not links by appointment id",
                    plugin,
                    type(offered).__name__,
                )
                continue
            for appointment_id, links in found.items():
                links.extend(offered.get(appointment_id, ()))
        return found

    async def origin_is_live(self, location_id: int, origin: str) -> bool:
        """Whether the link named by `origin` (see `links`) still works: its plugin, enabled at the
        location, answers True."""
        return any(
            answer is True for _, answer in await self.call("link_is_live", location_id, isolated=True, origin=origin)
        )

    # ---------------------------------------------------------------- plugins and their settings

    def info(self, plugin: str) -> PluginInfo:
        """An installed plugin's info, or `NotFound`."""
        if plugin not in self.infos:
            raise NotFound("Plugin", plugin)
        return self.infos[plugin]

    async def settings_of(self, plugin: str, location_id: int):
        """The validated settings model of a plugin at a location (defaults when never set)."""
        row = await PluginActivation.get_or_none(location_id=location_id, plugin=plugin)
        return self.settings_in(plugin, [row] if row else [])

    async def validate_settings(self, plugin: str, location_id: int, settings: dict[str, Any]) -> dict[str, Any]:
        """Let the plugin itself check settings against the database and claim what they name
        (its `validate_settings` hook, if it implements one: see core.plugins.hookspecs). Called when the
        plugin is enabled and on every change, inside the transaction that stores the settings."""
        answers = await self.call(
            "validate_settings", location_id, enabled=frozenset({plugin}), location_id=location_id, settings=settings
        )
        return answers[0][1] if answers else settings


ORDERING_OPTIONS = ("tryfirst", "trylast", "wrapper", "hookwrapper")


def _refuse_ordering_options(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Refuse pluggy's ordering and wrapper options: hooks may be async, which pluggy's wrappers
    cannot await, and the host keeps registration order (PluginConflict names plugin and hook)."""
    for caller in pm.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            used = [option for option in ORDERING_OPTIONS if impl.plugin is plugin and getattr(impl, option)]
            if used:
                pm.unregister(plugin)
                raise PluginConflict(
                    f"Plugin {name!r}: hook {caller.name!r} uses {', '.join(used)}; Agendum calls hooks in the order "
                    "plugins are installed and awaits async ones, so use plain @hookimpl."
                )


def _owned(item, plugin: str):
    return type(item)(**{**item.__dict__, "plugin": plugin})
