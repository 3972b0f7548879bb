"""Tortoise configuration, shared by the app, the workers, the CLI and ``python -m tortoise``."""

from __future__ import annotations

import os
from typing import Any

import asyncpg
from tortoise.exceptions import DBConnectionError

from ghostfolio_plaid.config import DEFAULT_DATABASE_URL

MODELS_MODULE = "ghostfolio_plaid.models"
MIGRATIONS_MODULE = "ghostfolio_plaid.models.migrations"


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": database_url},
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
