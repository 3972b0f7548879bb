"""``ghostfolio-plaid serve``: apply pending migrations, then run the API with uvicorn.

With ``--workers N`` uvicorn runs N processes; each counts its own requests. So that one scrape of
``/metrics`` covers them all, ``serve`` points prometheus_client's multiprocess mode at a fresh directory of
its own (``PROMETHEUS_MULTIPROC_DIR``) before any worker starts, and removes it when the server stops.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile

import uvicorn

from ghostfolio_plaid.config import Settings

log = logging.getLogger("ghostfolio_plaid.serve")
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's own variable; it must be set before a worker process imports prometheus_client."""


def run_serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    if settings.auto_migrate:
        from ghostfolio_plaid.migrate import apply_migrations

        for line in asyncio.run(apply_migrations(settings.database_url)).lines():
            log.info("%s", line)
    if workers <= 1:
        from ghostfolio_plaid.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)
        return
    with tempfile.TemporaryDirectory(prefix="ghostfolio-plaid-metrics-") as directory:
        os.environ[MULTIPROCESS_DIR_VARIABLE] = directory
        uvicorn.run(
            "ghostfolio_plaid.app:create_app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
        )
