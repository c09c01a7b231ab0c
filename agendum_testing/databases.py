"""Fresh migrated databases for tests: one template per backend and run, migrated once with the
models of the chosen plugins, cloned for every test (a file copy on SQLite, `CREATE DATABASE ...
TEMPLATE` on PostgreSQL). Names are `<prefix><run id>_<n>`, so runs never share a database."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from app import orm_config
from core.db import run_migrations
from core.plugins.host import PluginHost
from core.settings import Settings


def _asyncpg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def postgres_problem(admin_url: str) -> str | None:
    """Why the PostgreSQL server at `admin_url` cannot be used, or None when it can."""
    try:
        connection = await asyncpg.connect(_asyncpg_url(admin_url), timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


class Databases:
    """Makes a fresh database per test by cloning a migrated template (`backend`: sqlite or
    postgres; `admin_url`: a PostgreSQL database to connect to while creating others)."""

    def __init__(self, backend: str, workdir: Path, *, admin_url: str = "", prefix: str = "agendum_test_") -> None:
        self.backend = backend
        self.workdir = workdir
        self.admin_url = admin_url
        self.prefix = f"{prefix}{uuid.uuid4().hex[:10]}_"
        self.count = 0
        self.template = f"{self.prefix}template"

    def url(self, name: str) -> str:
        """The URL of the database `name` on this backend."""
        if self.backend == "sqlite":
            return f"sqlite://{self.workdir / name}.sqlite3"
        return f"{self.admin_url.rpartition('/')[0]}/{name}"

    async def _admin(self, statement: str) -> None:
        connection = await asyncpg.connect(_asyncpg_url(self.admin_url), timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    async def create_template(self, host: PluginHost) -> None:
        """Create the template and migrate it with the core's and `host`'s plugins' models."""
        # Tortoise caches INSERT/DELETE SQL per connection *name*, not per dialect: clear it
        # when this process moves from one backend to the other.
        EXECUTOR_CACHE.clear()
        if self.backend == "postgres":
            await self._admin(f'CREATE DATABASE "{self.template}"')
        try:
            settings = Settings(database_url=self.url(self.template), load_entry_points=False)
            await run_migrations(orm_config(settings, host))
        finally:
            await Tortoise.close_connections()

    async def new(self) -> str:
        """The URL of a new database, a copy of the template."""
        self.count += 1
        name = f"{self.prefix}{self.count}"
        if self.backend == "sqlite":
            shutil.copyfile(self.workdir / f"{self.template}.sqlite3", self.workdir / f"{name}.sqlite3")
        else:
            await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.url(name)

    async def drop(self, url: str) -> None:
        """Remove a database this factory made."""
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite://") + suffix).unlink(missing_ok=True)
            return
        await self._admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[-1]}" WITH (FORCE)')

    async def drop_template(self) -> None:
        """Remove the template (the last thing a run does)."""
        if self.backend == "postgres":
            await self.drop(self.url(self.template))
