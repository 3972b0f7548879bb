"""Migrations, with the database created first when it does not exist yet (a fresh machine).

What was done is returned (the database created, the migrations applied), so that ``migrate`` and ``serve``
can say it: an operator should not need to read the database to know whether a deployment changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.store_checks import connect_postgres


@dataclass(frozen=True)
class MigrationReport:
    created_database: str | None
    applied: tuple[str, ...]

    def lines(self) -> list[str]:
        """What happened, in words."""
        said = [f"created the database {self.created_database}"] if self.created_database else []
        if not self.applied:
            return [*said, "the database is up to date (no migration to apply)"]
        plural = "" if len(self.applied) == 1 else "s"
        return [*said, f"applied {len(self.applied)} migration{plural}: {', '.join(self.applied)}"]


async def create_database_if_missing(database_url: str) -> str | None:
    """The name of the database if it had to be created; ``StoreUnreachable`` if the server does not answer."""
    if database_url.startswith("sqlite://"):
        return None
    try:
        connection = await connect_postgres(database_url)
    except asyncpg.InvalidCatalogNameError:
        name = urlsplit(database_url).path.lstrip("/")
        admin = await connect_postgres(database_url, database="postgres")
        try:
            await admin.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')
        finally:
            await admin.close()
        return name
    await connection.close()
    return None


async def apply_migrations(database_url: str) -> MigrationReport:
    created = await create_database_if_missing(database_url)
    applied: list[str] = []

    def note(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)

    try:
        await migrate(config=tortoise_config(database_url), progress=note)
    finally:
        await Tortoise.close_connections()
    return MigrationReport(created, tuple(applied))
