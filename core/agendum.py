"""One Agendum installation: its settings and its plugin host, passed explicitly to whatever
needs them (hooks that name an `app` argument, resolvers through the GraphQL context, pages
through `request.app.state.agendum`). Nothing about an installation is process-wide, so two
apps can run in one process."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from core.plugins.core_hooks import CoreHooks
from core.unit_of_work import defer

if TYPE_CHECKING:
    from core.plugins.host import PluginHost
    from core.settings import Settings


class Agendum:
    """An installation: `settings` (secret keys, base URL...), `plugins` (the PluginHost) and,
    once served, `asgi` (the Starlette app); `workers`, its outbox workers running in this process."""

    def __init__(self, settings: Settings, plugins: PluginHost) -> None:
        if plugins.app is not None and plugins.app is not self:
            raise ValueError("This plugin host already belongs to another app; load one host per app.")
        self.settings = settings
        self.plugins = plugins
        self.asgi: Any = None
        self.workers: weakref.WeakSet = weakref.WeakSet()
        plugins.app = self
        plugins.register_core(CoreHooks(plugins))

    def wake_workers(self) -> None:
        """Wake this app's outbox workers running in this process (call after committing queued
        messages, so they go now rather than at the next poll); inside a unit of work
        (core.unit_of_work), once it has committed."""
        if not defer(self.wake_workers):
            for worker in list(self.workers):
                worker.wake()
