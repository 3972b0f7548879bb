"""The committed migrations build the schema the models describe."""

from __future__ import annotations

import subprocess
import sys

from ghostfolio_plaid.models import SyncJob

DETECT_CHANGES = """
import asyncio, sys
from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector
from ghostfolio_plaid.db import tortoise_config

async def main() -> None:
    config = tortoise_config(sys.argv[1])
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    print(len(writers), [w.name for w in writers])

asyncio.run(main())
"""


def test_models_need_no_new_migration(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", DETECT_CHANGES, database_url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 "), f"run `python -m tortoise makemigrations`: {result.stdout}"


async def test_one_active_sync_per_item_is_a_database_index(database_url: str, app: object) -> None:
    conn = SyncJob._meta.db
    rows = await conn.execute_query_dict(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'sync_job_one_active_per_item'"
    )
    assert len(rows) == 1
    assert "UNIQUE" in rows[0]["indexdef"] and "queued" in rows[0]["indexdef"]
