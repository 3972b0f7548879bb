"""What every benchmark needs: a scratch PostgreSQL database with the migrations, and processes to run."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import httpx

from ghostfolio_plaid.migrate import apply_migrations

SERVER = os.environ.get("BENCH_POSTGRES_SERVER", "postgres://postgres@127.0.0.1:5432")
GHOSTFOLIO_PLAID = [sys.executable, "-m", "ghostfolio_plaid"]
CLIENT_ID, SECRET = "bench-client", "bench-secret-value"


def service_env(database_url: str, plaid_base_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a benchmarked service: its own database and queue, the emulator as Plaid."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET_KEY": "bench-" + "x" * 40,
        "ENABLE_FEATURE_PLAID": "true",
        "PLAID_CLIENT_ID": CLIENT_ID,
        "PLAID_SECRET": SECRET,
        "PLAID_ENV": "emulator",
        "PLAID_BASE_URL": plaid_base_url,
        "PLAID_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
        "SYNC_QUEUE_NAME": f"gp-bench-{uuid.uuid4().hex[:8]}",
        **overrides,
    }


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A migrated database of its own, dropped afterwards: benchmarks never touch real data."""
    database = f"gp_bench_{uuid.uuid4().hex[:8]}"
    url = f"{SERVER}/{database}"
    await apply_migrations(url)
    try:
        yield url
    finally:
        admin = await asyncpg.connect(SERVER.replace("postgres://", "postgresql://", 1) + "/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


def start(args: list[str], env: dict[str, str], probe: str, *, method: str = "GET") -> subprocess.Popen[bytes]:
    """Start a process and wait until ``probe`` answers (any status)."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            httpx.request(method, probe, timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{args} did not start")


@contextmanager
def running(processes: list[subprocess.Popen[bytes]]) -> Iterator[list[subprocess.Popen[bytes]]]:
    try:
        yield processes
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=15)


GHOSTFOLIO_EMULATOR = [sys.executable, "-m", "ghostfolio_plaid.ghostfolio_emulator.server"]
GHOSTFOLIO_JWT_SECRET = "bench-ghostfolio-" + "x" * 40


def start_ghostfolio_emulator(port: int, secret: str = GHOSTFOLIO_JWT_SECRET) -> subprocess.Popen[bytes]:
    """A fresh Ghostfolio emulator in its own process (its own interpreter, so its work never shares the GIL with
    what is measured), accepting any user that presents a token signed with ``secret``."""
    url = f"http://127.0.0.1:{port}"
    args = [*GHOSTFOLIO_EMULATOR, "--port", str(port), "--auto-create-users"]
    return start(args, {**os.environ, "JWT_SECRET_KEY": secret}, url + "/api/v1/health")
