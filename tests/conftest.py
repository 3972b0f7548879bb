"""Shared fixtures: a fresh PostgreSQL database per run, real Redis, the Plaid emulator over HTTP, the app."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import httpx
import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from redis.exceptions import WatchError
from rq import Queue
from starlette.applications import Starlette

from ghostfolio_plaid.app import create_app
from ghostfolio_plaid.auth import issue_token
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.ghostfolio_emulator import GhostfolioEmulatorConfig
from ghostfolio_plaid.ghostfolio_emulator import create_app as create_ghostfolio_app
from ghostfolio_plaid.migrate import apply_migrations
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.plaid_emulator import EmulatorConfig, EmulatorServer
from ghostfolio_plaid.plaid_emulator import create_app as create_emulator_app
from ghostfolio_plaid.workers.sync import SyncServices
from tests.processes import command, free_port

JWT_SECRET = "test-jwt-secret-do-not-use-in-production-0123456789"
PLAID_CLIENT_ID = "test-client-id"
PLAID_SECRET = "test-plaid-secret-value"
POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_SERVER", "postgres://postgres@127.0.0.1:5432")
REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
RUN_ID = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
REDIS_CLAIM_KEY = "gp-test-run-claim"
CLAIM_SECONDS = 3 * 3600


def claim_redis_database() -> int:
    """A Redis database number of this run's own (never 0, the production default), emptied for it.

    A run claims a database with SET NX on a key that expires, so concurrent runs never share one. The claim
    names the run's process: a claim whose process is gone (a run that was killed) is taken over at once, and
    what that run left in the database is cleared.
    """
    for number in range(1, 16):
        client = Redis.from_url(f"{REDIS_SERVER}/{number}")
        try:
            if client.set(REDIS_CLAIM_KEY, RUN_ID, nx=True, ex=CLAIM_SECONDS) or take_over_dead_claim(client):
                for key in client.scan_iter(count=1000):
                    if key != REDIS_CLAIM_KEY.encode():
                        client.delete(key)
                return number
        finally:
            client.close()
    raise RuntimeError("every Redis database from 1 to 15 is claimed by a running test run")


def take_over_dead_claim(client: Redis) -> bool:
    """Replace the claim if the process that made it no longer exists (atomically: WATCH, then MULTI)."""
    with client.pipeline() as pipe:
        try:
            pipe.watch(REDIS_CLAIM_KEY)
            holder = pipe.get(REDIS_CLAIM_KEY)
            if holder is not None and process_alive(holder.decode().partition("_")[0]):
                return False
            pipe.multi()
            pipe.set(REDIS_CLAIM_KEY, RUN_ID, ex=CLAIM_SECONDS)
            pipe.execute()
            return True
        except WatchError:
            return False


def process_alive(pid: str) -> bool:
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


REDIS_DB = claim_redis_database()
REDIS_URL = f"{REDIS_SERVER}/{REDIS_DB}"


@pytest.fixture(scope="session", autouse=True)
def release_redis_database() -> Iterator[None]:
    """Leave nothing behind: the run's Redis database is emptied at the end, its claim included."""
    yield
    client = Redis.from_url(REDIS_URL)
    try:
        if client.get(REDIS_CLAIM_KEY) == RUN_ID.encode():
            client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="session")
def run_id() -> str:
    return RUN_ID


@pytest.fixture(scope="session")
async def database_url(run_id: str) -> AsyncIterator[str]:
    """A database of this run's own, built by the project's migrations, dropped afterwards."""
    name = f"gp_test_{run_id}"
    url = f"{POSTGRES_SERVER}/{name}"
    await apply_migrations(url)
    yield url
    admin = await asyncpg.connect(f"{POSTGRES_SERVER.replace('postgres://', 'postgresql://')}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(client_id=PLAID_CLIENT_ID, secret=PLAID_SECRET)
    with EmulatorServer(create_emulator_app(config)) as server:
        yield server


@pytest.fixture(scope="session")
def ghostfolio() -> Iterator[EmulatorServer]:
    """A Ghostfolio API emulator sharing the test JWT secret; users exist on their first signed request."""
    config = GhostfolioEmulatorConfig(jwt_secret=JWT_SECRET, auto_create_users=True)
    with EmulatorServer(create_ghostfolio_app(config)) as server:
        yield server


@pytest.fixture(scope="session")
def redis_client(run_id: str) -> Iterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    Queue(f"gp-test-{run_id}", connection=client).empty()
    for key in client.scan_iter(match=f"*gp-test-{run_id}*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def env(database_url: str, emulator: EmulatorServer, run_id: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "JWT_SECRET_KEY": JWT_SECRET,
        "ENABLE_FEATURE_PLAID": "true",
        "PLAID_CLIENT_ID": PLAID_CLIENT_ID,
        "PLAID_SECRET": PLAID_SECRET,
        "PLAID_ENV": "emulator",
        "PLAID_BASE_URL": emulator.url,
        "PLAID_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "PLAID_WEBHOOK_URL": "http://127.0.0.1:9/api/v1/plaid/webhook",
        "PLAID_TIMEOUT_SECONDS": "10",
        "SYNC_QUEUE_NAME": f"gp-test-{run_id}",
        "SYNC_RETRY_INTERVALS": "0,0",
    }


@pytest.fixture(scope="session")
def process_env(env: dict[str, str]) -> dict[str, str]:
    """The environment a command started by a test runs with."""
    return {**os.environ, **env}


@pytest.fixture(scope="session")
def served(process_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``ghostfolio-plaid serve`` as its own process on a free port, its webhook URL pointing at itself."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command("serve", "--port", str(port)),
            env={**process_env, "PLAID_WEBHOOK_URL": f"{url}/api/v1/plaid/webhook"},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/api/v1/plaid/items", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"serve did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
        yield url
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def settings(env: dict[str, str]) -> Settings:
    return Settings.from_env(env)


@pytest.fixture(scope="session")
async def app(settings: Settings, redis_client: Redis) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def sync_services(settings: Settings, app: Starlette) -> AsyncIterator[SyncServices]:
    """What a worker process builds for one job, here in the test's own event loop."""
    redis = AsyncRedis.from_url(REDIS_URL)
    plaid = PlaidClient(settings)
    queue = app.state.services.queue
    yield SyncServices(settings, plaid, settings.cipher(), redis, queue)
    await redis.aclose()
    plaid.close()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
def feature_disabled(app: Starlette) -> Iterator[None]:
    services = app.state.services
    original = services.settings
    services.settings = replace(original, enable_feature_plaid=False)
    yield
    services.settings = original


@dataclass
class Caller:
    id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def new_caller() -> Caller:
    user_id = str(uuid.uuid4())
    return Caller(id=user_id, token=issue_token(user_id, JWT_SECRET))


@pytest.fixture
def alice() -> Caller:
    return new_caller()


@pytest.fixture
def bob() -> Caller:
    return new_caller()


class SQLCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())


@pytest.fixture
def sql_counter() -> Iterator[SQLCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = SQLCounter()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)
    logger.setLevel(level)


async def plaid_post(emulator: EmulatorServer, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """Call the emulator as Plaid's sandbox API (used where a front end would go through Plaid Link)."""
    async with httpx.AsyncClient(base_url=emulator.url, timeout=10) as http:
        response = await http.post(path, json={"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET, **body})
    answer: dict[str, Any] = response.json()
    return answer


async def emulator_call(emulator: EmulatorServer, method: str, path: str, body: Any = None) -> Any:
    """Use the emulator's test-control endpoints (``/emulator/...``)."""
    async with httpx.AsyncClient(base_url=emulator.url, timeout=10) as http:
        response = await http.request(method, path, json=body)
    response.raise_for_status()
    return response.json()
