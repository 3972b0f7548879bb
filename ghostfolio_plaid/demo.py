"""``ghostfolio-plaid demo``: the whole product in one process, with nothing else installed.

The API runs on SQLite (a file under ``./.ghostfolio-plaid-demo``), the Plaid emulator is mounted at
``/plaid-emulator`` and the Ghostfolio emulator at ``/ghostfolio-emulator`` (the connector's ``GHOSTFOLIO_URL``
unless the environment names another Ghostfolio). Sync and push jobs run through RQ on an in-process Redis
(``memory://``) with a worker thread that executes the same job functions on the API's event loop, and a
scheduler thread that releases delayed jobs (retries). Secrets and the Plaid emulator's state are kept in the
same folder, so links and tokens survive restarts; the Ghostfolio emulator lives in memory, so every linked
item is replayed into it at start. ``DATABASE_URL``/``REDIS_URL`` (and any other variable) win.
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

import httpx
import uvicorn
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from ghostfolio_plaid.app import create_app
from ghostfolio_plaid.auth import issue_token
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.demo_state import DATA_DIR, demo_secrets
from ghostfolio_plaid.ghostfolio.jobs import deliver
from ghostfolio_plaid.ghostfolio_emulator import GhostfolioEmulatorConfig
from ghostfolio_plaid.ghostfolio_emulator import create_app as create_ghostfolio_emulator
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.logs import configure_logging
from ghostfolio_plaid.migrate import apply_migrations
from ghostfolio_plaid.models import PlaidItem
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.plaid_emulator import EmulatorConfig
from ghostfolio_plaid.plaid_emulator import create_app as create_emulator_app
from ghostfolio_plaid.redis_connections import async_redis
from ghostfolio_plaid.workers.sync import SyncServices, host_jobs_on

EMULATOR_PATH = "/plaid-emulator"
GHOSTFOLIO_EMULATOR_PATH = "/ghostfolio-emulator"
DEMO_USER = "demo-user"
SERVING_TIMEOUT_SECONDS = 60.0
log = logging.getLogger(__name__)


class ThreadWorker(SimpleWorker):  # type: ignore[misc]
    """An RQ worker in a thread: signals belong to the main thread (uvicorn), so timeouts use a timer."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        return None


class AtRoot:
    """A mounted app sees the scope it would have at the root of its own server.

    Starlette's ``Mount`` keeps the whole path in ``scope["path"]`` and puts the prefix in ``root_path``. The
    Ghostfolio emulator's request log, faults and 404 answers read ``scope["path"]``: mounted as is, its control
    calls would be logged as Ghostfolio calls, no fault would ever match, and 404s would name the prefix.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix: str = scope.get("root_path", "")
        path: str = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and prefix and path.startswith(prefix):
            inner = path[len(prefix) :] or "/"
            raw: bytes = scope.get("raw_path") or path.encode()
            raw_prefix = prefix.encode()
            raw_inner = raw[len(raw_prefix) :] if raw.startswith(raw_prefix) else inner.encode()
            scope = {**scope, "path": inner, "raw_path": raw_inner or b"/", "root_path": ""}
        await self.app(scope, receive, send)


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
        "GHOSTFOLIO_URL": base_url + GHOSTFOLIO_EMULATOR_PATH,
        "SYNC_RETRY_INTERVALS": "0,0,0",
        "LOG_FORMAT": "text",
        **demo_secrets(folder),
    }
    return {**defaults, **{name: value for name, value in os.environ.items() if value}}


def ghostfolio_emulator(settings: Settings) -> ASGIApp:
    """Ghostfolio as the connector meets it: it trusts the demo's JWT secret (Ghostfolio and the service share
    one), and creates a user on first use, since the demo's users exist nowhere else."""
    config = GhostfolioEmulatorConfig(jwt_secret=settings.jwt_secret_key, auto_create_users=True)
    return AtRoot(create_ghostfolio_emulator(config))


def release_due_jobs(queue: Queue, stop: threading.Event) -> None:
    """RQ's scheduler loop, in a thread: delayed jobs (push retries while Ghostfolio is down, delayed syncs) reach
    the queue when due. RQ's own scheduler forks a process, which cannot see the in-process Redis."""
    scheduler = RQScheduler([queue], connection=queue.connection, interval=1)
    while not stop.wait(scheduler.interval):
        try:
            if scheduler.should_reacquire_locks:
                scheduler.acquire_locks()
            scheduler.heartbeat()
            scheduler.enqueue_scheduled_jobs()
        except RedisError as exc:  # REDIS_URL named a real Redis that is away: try again next second
            log.warning("delayed jobs not released (%s)", exc)
    try:
        scheduler.release_locks()
    except RedisError as exc:
        log.warning("scheduler lock not released (%s); it expires by itself", exc)


async def serving(url: str, timeout_seconds: float = SERVING_TIMEOUT_SECONDS) -> bool:
    """Whether ``url`` answers within the timeout: the companion starts before uvicorn listens."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    async with httpx.AsyncClient(timeout=2) as http:
        while asyncio.get_running_loop().time() < deadline:
            try:
                await http.get(url)
                return True
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    return False


async def linked_items() -> list[str]:
    """The items linked before this start: the ones the fresh Ghostfolio emulator has never seen."""
    ids = await PlaidItem.filter(disconnected_at=None).order_by("created_at").values_list("id", flat=True)
    return [str(item_id) for item_id in ids]


async def replay_into_ghostfolio(settings: Settings, queue: SyncQueue, item_ids: list[str]) -> None:
    """The embedded Ghostfolio emulator keeps nothing across restarts: once it answers, every item linked before
    this start is delivered again (a replay push re-creates the accounts and activities Ghostfolio lacks), so what
    the demo showed before a restart shows again after it. Items linked since are delivered as usual."""
    assert settings.ghostfolio_url is not None
    if not await serving(settings.ghostfolio_url + "/api/v1/health"):
        log.warning("the Ghostfolio emulator did not answer; linked items were not replayed into it")
        return
    for item_id in item_ids:
        outcome = await deliver(settings, queue, item_id, replay=True)
        log.info("replayed item %s into the Ghostfolio emulator: %s", item_id, outcome)


def _report_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("replaying linked items into the Ghostfolio emulator failed", exc_info=task.exception())


def inline_worker(settings: Settings, *, replay_ghostfolio: bool = False) -> Any:
    """The lifespan companion: an RQ worker thread whose jobs run on the API's loop, a scheduler thread for
    delayed jobs, and (with the embedded Ghostfolio emulator) the replay of linked items into it."""

    @asynccontextmanager
    async def companion(app: Starlette) -> AsyncIterator[None]:
        services = app.state.services
        redis = async_redis(settings.redis_url)
        plaid = PlaidClient(settings)
        sync = SyncServices(settings, plaid, settings.cipher(), redis, services.queue)
        host_jobs_on(asyncio.get_running_loop(), sync)
        queue: Queue = services.queue.queue
        worker = ThreadWorker([queue], connection=queue.connection)
        stop = threading.Event()
        threading.Thread(target=worker.work, kwargs={"with_scheduler": False}, daemon=True, name="worker").start()
        threading.Thread(target=release_due_jobs, args=(queue, stop), daemon=True, name="scheduler").start()
        earlier = await linked_items() if replay_ghostfolio else []
        replay = asyncio.create_task(replay_into_ghostfolio(settings, services.queue, earlier)) if earlier else None
        if replay is not None:
            replay.add_done_callback(_report_failure)
        try:
            yield
        finally:
            if replay is not None:
                replay.cancel()
                await asyncio.wait([replay])
            stop.set()
            worker._stop_requested = True
            host_jobs_on(None, None)
            await redis.aclose()
            plaid.close()

    return companion


def banner(settings: Settings, base_url: str, folder: Path, embedded_ghostfolio: bool) -> str:
    """What a newcomer needs: the URLs, a token, a first request, and where the linked data arrives."""
    token = issue_token(DEMO_USER, settings.jwt_secret_key)
    emulator_url = base_url + GHOSTFOLIO_EMULATOR_PATH
    if embedded_ghostfolio:
        ghostfolio = f"""  Ghostfolio      {emulator_url}   (the Ghostfolio emulator; the connector pushes here)
                  what arrived: GET {emulator_url}/emulator/state?userId={DEMO_USER}"""
    else:
        ghostfolio = f"""  Ghostfolio      {settings.ghostfolio_url}   (GHOSTFOLIO_URL)
                  JWT_SECRET_KEY must be that Ghostfolio's; the emulator at {emulator_url} is not used"""
    return f"""
  ghostfolio-plaid demo (data in {folder})

  GraphiQL        {base_url}/graphql
  REST            {base_url}/api/v1/plaid   (OpenAPI: {base_url}/api/v1/plaid/openapi.json)
  Plaid emulator  {settings.plaid_base_url}
{ghostfolio}
  Health          {base_url}/healthz   {base_url}/readyz   {base_url}/metrics

  Dev JWT for user {DEMO_USER}:
  {token}
  (for another user, run `ghostfolio-plaid token USER_ID` in this folder: it signs with the demo's secret)

  curl -s -X POST -H "Authorization: Bearer {token}" {base_url}/api/v1/plaid/link-token
"""


def run_demo(host: str, port: int) -> None:
    folder = Path.cwd() / DATA_DIR
    folder.mkdir(exist_ok=True)
    base_url = f"http://{host}:{port}"
    settings = Settings.from_env(demo_environment(folder, base_url))
    configure_logging(settings.secret_values(), log_format=settings.log_format or "text")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the access log already shows each call to the emulators
    for line in asyncio.run(apply_migrations(settings.database_url)).lines():
        log.info("%s", line)
    emulator = create_emulator_app(
        EmulatorConfig(
            client_id=settings.plaid_client_id,
            secret=settings.plaid_secret,
            state_file=str(folder / "emulator-state.json"),
        )
    )
    embedded_ghostfolio = settings.ghostfolio_url == base_url + GHOSTFOLIO_EMULATOR_PATH
    mounts = [Mount(EMULATOR_PATH, app=emulator), Mount(GHOSTFOLIO_EMULATOR_PATH, app=ghostfolio_emulator(settings))]
    companion = inline_worker(settings, replay_ghostfolio=embedded_ghostfolio)
    app = create_app(settings, extra_routes=mounts, companion=companion)
    print(banner(settings, base_url, folder, embedded_ghostfolio), flush=True)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
