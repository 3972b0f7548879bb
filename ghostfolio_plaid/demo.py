"""``ghostfolio-plaid demo``: the whole product in one process, with nothing else installed.

The API runs on SQLite (a file under ``./.ghostfolio-plaid-demo``), the Plaid emulator is mounted at
``/plaid-emulator``, and sync jobs run through RQ on an in-process Redis (``memory://``) with a worker thread
that executes the same job function on the API's event loop. Secrets and emulator state are kept in the same
folder, so links and tokens survive restarts. ``DATABASE_URL``/``REDIS_URL`` (and any other variable) win.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty
from starlette.applications import Starlette
from starlette.routing import Mount

from ghostfolio_plaid.app import create_app
from ghostfolio_plaid.auth import issue_token
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.demo_state import DATA_DIR, demo_secrets
from ghostfolio_plaid.logs import configure_logging
from ghostfolio_plaid.migrate import apply_migrations
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.plaid_emulator import EmulatorConfig
from ghostfolio_plaid.plaid_emulator import create_app as create_emulator_app
from ghostfolio_plaid.redis_connections import async_redis
from ghostfolio_plaid.workers.sync import SyncServices, host_jobs_on

EMULATOR_PATH = "/plaid-emulator"
DEMO_USER = "demo-user"
log = logging.getLogger(__name__)


class ThreadWorker(SimpleWorker):  # type: ignore[misc]
    """An RQ worker in a thread: signals belong to the main thread (uvicorn), so timeouts use a timer."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        return None


def demo_environment(folder: Path, base_url: str) -> dict[str, str]:
    defaults = {
        "DATABASE_URL": f"sqlite://{folder / 'demo.sqlite3'}",
        "REDIS_URL": "memory://",
        "ENABLE_FEATURE_PLAID": "true",
        "PLAID_ENV": "emulator",
        "PLAID_CLIENT_ID": "demo-client-id",
        "PLAID_SECRET": "demo-secret-value",
        "PLAID_BASE_URL": base_url + EMULATOR_PATH,
        "PLAID_WEBHOOK_URL": base_url + "/api/v1/plaid/webhook",
        "SYNC_RETRY_INTERVALS": "0,0,0",
        "LOG_FORMAT": "text",
        **demo_secrets(folder),
    }
    return {**defaults, **{name: value for name, value in os.environ.items() if value}}


def inline_worker(settings: Settings) -> Any:
    """The lifespan companion: an RQ worker thread whose jobs run on the API's loop."""

    @asynccontextmanager
    async def companion(app: Starlette) -> AsyncIterator[None]:
        services = app.state.services
        redis = async_redis(settings.redis_url)
        plaid = PlaidClient(settings)
        sync = SyncServices(settings, plaid, settings.cipher(), redis, services.queue)
        host_jobs_on(asyncio.get_running_loop(), sync)
        queue: Queue = services.queue.queue
        worker = ThreadWorker([queue], connection=queue.connection)
        thread = threading.Thread(target=worker.work, kwargs={"with_scheduler": False}, daemon=True, name="worker")
        thread.start()
        try:
            yield
        finally:
            worker._stop_requested = True
            host_jobs_on(None, None)
            await redis.aclose()
            plaid.close()

    return companion


def run_demo(host: str, port: int) -> None:
    folder = Path.cwd() / DATA_DIR
    folder.mkdir(exist_ok=True)
    base_url = f"http://{host}:{port}"
    settings = Settings.from_env(demo_environment(folder, base_url))
    configure_logging(settings.secret_values(), log_format=settings.log_format or "text")
    for line in asyncio.run(apply_migrations(settings.database_url)).lines():
        log.info("%s", line)
    emulator = create_emulator_app(
        EmulatorConfig(
            client_id=settings.plaid_client_id,
            secret=settings.plaid_secret,
            state_file=str(folder / "emulator-state.json"),
        )
    )
    app = create_app(settings, extra_routes=[Mount(EMULATOR_PATH, app=emulator)], companion=inline_worker(settings))
    token = issue_token(DEMO_USER, settings.jwt_secret_key)
    print(
        f"""
  ghostfolio-plaid demo (data in {folder})

  GraphiQL        {base_url}/graphql
  REST            {base_url}/api/v1/plaid   (OpenAPI: {base_url}/api/v1/plaid/openapi.json)
  Plaid emulator  {settings.plaid_base_url}
  Health          {base_url}/healthz   {base_url}/readyz   {base_url}/metrics

  Dev JWT for user {DEMO_USER}:
  {token}
  (for another user, run `ghostfolio-plaid token USER_ID` in this folder: it signs with the demo's secret)

  curl -s -X POST -H "Authorization: Bearer {token}" {base_url}/api/v1/plaid/link-token
""",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
