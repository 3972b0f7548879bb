"""Tortoise configuration, shared by the app, the workers, the CLI and ``python -m tortoise``."""

from __future__ import annotations

import os
from typing import Any

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
