"""Database configuration and migrations (Tortoise's built-in migrations, one package per app)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from tortoise.migrations.api import migrate as tortoise_migrate

CORE_APP = {"models": ["core.models"], "migrations": "core.migrations", "default_connection": "default"}


def tortoise_config(database_url: str, plugin_apps: Mapping[str, dict] | None = None) -> dict:
    """Tortoise config for the core app plus the apps plugins register (one label per plugin)."""
    apps = {"core": dict(CORE_APP)}
    for label, app in (plugin_apps or {}).items():
        apps[label] = {"default_connection": "default", **app}
    return {
        "connections": {"default": connection_url(database_url)},
        "apps": apps,
        "use_tz": True,
        "timezone": "UTC",
    }


def connection_url(database_url: str) -> str:
    """Normalise a database URL: `postgresql://` means `postgres://`; SQLite waits when busy."""
    if database_url.startswith("postgresql://"):
        return "postgres://" + database_url[len("postgresql://") :]
    if database_url.startswith("sqlite") and "busy_timeout" not in database_url:
        # Several server processes share one SQLite file: writers wait for each other.
        return database_url + ("&" if "?" in database_url else "?") + "busy_timeout=10000"
    return database_url


async def run_migrations(config: dict, app_labels: Sequence[str] | None = None) -> None:
    """Apply every pending migration of the configured apps (core first)."""
    await tortoise_migrate(config=config, app_labels=app_labels)


# For Tortoise's own CLI (`tortoise makemigrations`), configured in pyproject.toml.
TORTOISE_ORM = tortoise_config(os.environ.get("AGENDUM_DATABASE_URL", "sqlite://agendum.sqlite3"))
