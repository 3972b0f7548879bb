"""Migrations, with the database created first when it does not exist yet (a fresh machine)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from ghostfolio_plaid.db import tortoise_config


async def create_database_if_missing(database_url: str) -> None:
    if database_url.startswith("sqlite://"):
        return
    parts = urlsplit(database_url)
    dsn = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    try:
        connection = await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:
        name = parts.path.lstrip("/")
        admin = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")))
        try:
            await admin.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')
        finally:
            await admin.close()
    else:
        await connection.close()


async def apply_migrations(database_url: str) -> None:
    await create_database_if_missing(database_url)
    try:
        await migrate(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()
