"""Tortoise configuration, shared by the app, the workers, the CLI and ``python -m tortoise``."""

from __future__ import annotations

import os
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError

from ghostfolio_plaid.config import DEFAULT_DATABASE_URL

MODELS_MODULE = "ghostfolio_plaid.models"
MIGRATIONS_MODULE = "ghostfolio_plaid.models.migrations"


CONNECT_TIMEOUT_SECONDS = 5.0
"""A PostgreSQL that silently drops packets must cost seconds, not asyncpg's default minute."""
API_STATEMENT_TIMEOUT_SECONDS = 5.0
"""The API's statements are small; one stuck on a dead connection answers 503 instead of hanging."""


def tortoise_config(database_url: str, *, statement_timeout: float | None = None) -> dict[str, Any]:
    """``statement_timeout`` bounds each statement on the client side (the API sets it; long syncs do not)."""
    connection: str | dict[str, Any] = database_url
    if not database_url.startswith("sqlite://"):
        connection = expand_db_url(database_url)
        connection["credentials"].setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
        if statement_timeout is not None:
            connection["credentials"].setdefault("command_timeout", statement_timeout)
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


TORTOISE_ORM = tortoise_config(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))


DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
)
"""What a query raises when the database cannot be reached (answered 503, never 500)."""
DATABASE_DOWN_MESSAGE = "The database is unavailable; try again shortly"
