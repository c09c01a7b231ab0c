"""Core's own work on every appointment change, as hook implementations registered in each app's plugin
host and run before any plugin's (pytest registers its internals the same way): one event system, one
order. Core's implementations run at every location; they are not a plugin staff can turn off."""

from __future__ import annotations

from typing import Any

from core.email.notifications import Notifier
from core.plugins.hookspecs import hookimpl


class CoreHooks:
    """Core's implementations of the change hooks, for one host (its settings: mail domain, base URL)."""

    def __init__(self, host: Any) -> None:
        self.host = host

    @hookimpl
    async def appointment_changing(self, change) -> None:
        """Queue the change's emails (core's, the plugins' extra ones, amended) in its transaction."""
        await Notifier(self.host).queue(change)

    @hookimpl
    def appointment_changed(self, change) -> None:
        """The change may have queued email: wake this app's workers in this process to look now."""
        self.host.app.wake_workers()
