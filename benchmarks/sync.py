"""Sync speed against its floors: one item of 5 accounts, 1,000 securities and 50,000 transactions.

Runs the Plaid emulator as a separate process and the sync in this one (as a worker would), on a scratch
PostgreSQL database. Prints the first sync's wall time, transactions per second, SQL statements and peak
memory; a resync with nothing changed; and two floors on the same data: fetching the same pages with plain
httpx + json, and inserting the same rows with asyncpg's COPY. Usage: ``uv run python benchmarks/sync.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import resource
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from harness import CLIENT_ID, GHOSTFOLIO_PLAID, SECRET, running, scratch_database, start
from redis.asyncio import Redis
from tortoise import Tortoise

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import Account, PlaidItem, SyncJob, SyncTrigger, User
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync

WRITES = ("INSERT", "UPDATE", "DELETE", "COPY")


class Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())

    def writes(self) -> int:
        return sum(1 for s in self.seen if s.lstrip().upper().startswith(WRITES))


async def fetch_floor(url: str, access_token: str, start: date, end: date) -> tuple[float, int]:
    """The same requests with plain httpx and json: what any client must spend at least."""
    started = time.perf_counter()
    credentials = {"client_id": CLIENT_ID, "secret": SECRET, "access_token": access_token}
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        (await http.post("/investments/holdings/get", json=credentials)).json()
        fetched, total = 0, None
        while total is None or fetched < total:
            page = (
                await http.post(
                    "/investments/transactions/get",
                    json={
                        **credentials,
                        "start_date": start.isoformat(),
                        "end_date": end.isoformat(),
                        "options": {"count": 500, "offset": fetched},
                    },
                )
            ).json()
            total = page["total_investment_transactions"]
            if not page["investment_transactions"]:
                break
            fetched += len(page["investment_transactions"])
    return time.perf_counter() - started, fetched


async def insert_floor(database_url: str, rows: int) -> float:
    """The same number of order rows written with COPY into a scratch copy of the table."""
    dsn = database_url.replace("postgres://", "postgresql://", 1)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute('CREATE TEMP TABLE floor_order (LIKE "order" INCLUDING DEFAULTS)')
        now = datetime.now(UTC)
        account, profile, user = uuid.uuid4(), uuid.uuid4(), "bench-user"
        records = [
            (
                uuid.uuid4(),
                user,
                account,
                profile,
                "BUY",
                now - timedelta(minutes=n),
                1,
                10,
                0,
                "USD",
                f"floor-{n}",
                now,
                now,
            )
            for n in range(rows)
        ]
        columns = [
            "id",
            "user_id",
            "account_id",
            "symbol_profile_id",
            "type",
            "date",
            "quantity",
            "unit_price",
            "fee",
            "currency",
            "plaid_transaction_id",
            "created_at",
            "updated_at",
        ]
        started = time.perf_counter()
        await connection.copy_records_to_table("floor_order", records=records, columns=columns)
        return time.perf_counter() - started
    finally:
        await connection.close()


async def link(settings: Settings, seeded: dict[str, Any], url: str) -> str:
    cipher = settings.cipher()
    user, _ = await User.get_or_create(id="bench-user")
    item_id = uuid.uuid4()
    item = await PlaidItem.create(
        id=item_id,
        user=user,
        item_id=seeded["item_id"],
        institution_id="ins_109508",
        institution_name="First Platypus Bank",
        access_token=cipher.encrypt(seeded["access_token"], row_id=str(item_id)),
    )
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        answer = await http.post(
            "/accounts/get", json={"client_id": CLIENT_ID, "secret": SECRET, "access_token": seeded["access_token"]}
        )
    accounts = answer.json()["accounts"]
    for plaid_account in accounts:
        await Account.create(
            user=user,
            name=plaid_account["name"],
            plaid_item=item,
            plaid_account_id=plaid_account["account_id"],
            account_type=plaid_account["type"],
            account_subtype=plaid_account["subtype"],
            mask=plaid_account["mask"],
        )
    return str(item.id)


async def timed_sync(services: SyncServices, item_id: str, counter: Statements) -> tuple[float, SyncJob]:
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    counter.seen.clear()
    started = time.perf_counter()
    await execute_sync(services, str(job.id))
    elapsed = time.perf_counter() - started
    return elapsed, await SyncJob.get(id=job.id)


async def main(accounts: int, securities: int, per_account: int, port: int) -> None:
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PLAID_CLIENT_ID": CLIENT_ID, "PLAID_SECRET": SECRET}
    emulator = start([*GHOSTFOLIO_PLAID, "emulator", "--port", str(port)], env, url + "/emulator/requests")
    async with scratch_database() as database_url:
        with running([emulator]):
            await measure(database_url, url, accounts, securities, per_account)


async def measure(database_url: str, url: str, accounts: int, securities: int, per_account: int) -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "PLAID_CLIENT_ID": CLIENT_ID,
            "PLAID_SECRET": SECRET,
            "PLAID_ENV": "emulator",
            "PLAID_BASE_URL": url,
            "ENABLE_FEATURE_PLAID": "true",
            "PLAID_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
            "PLAID_TIMEOUT_SECONDS": "120",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        },
        require_jwt=False,
    )
    shape = {
        "investment_accounts": accounts,
        "securities": securities,
        "transactions_per_account": per_account,
        "depository_account": False,
    }
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        seeded = (await http.post("/emulator/items", json={"shape": shape})).json()
    await Tortoise.init(config=tortoise_config(database_url))
    item_id = await link(settings, seeded, url)
    counter = Statements()
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    redis = Redis.from_url(settings.redis_url)
    plaid = PlaidClient(settings)
    queue = SyncQueue(settings.redis_url, f"gp-bench-{uuid.uuid4().hex[:8]}")
    services = SyncServices(settings, plaid, settings.cipher(), redis, queue)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    first, job = await timed_sync(services, item_id, counter)
    first_statements, first_writes = len(counter.seen), counter.writes()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    again, rejob = await timed_sync(services, item_id, counter)
    today = datetime.now(UTC).date()
    fetch_seconds, fetched = await fetch_floor(url, seeded["access_token"], today - timedelta(days=730), today)
    insert_seconds = await insert_floor(database_url, fetched)
    await redis.aclose()
    plaid.close()
    await Tortoise.close_connections()
    floor = fetch_seconds + insert_seconds
    print(f"item: {accounts} accounts, {securities} securities, {fetched} investment transactions")
    print(f"first sync: {first:.2f} s, {fetched / first:,.0f} transactions/s, status {job.status.value}")
    print(f"  SQL statements: {first_statements} ({first_writes} writes); pages: {-(-fetched // 500) + 1}")
    print(f"  activities created {job.activities_created}, holdings seen {job.holdings_seen}")
    print(f"  peak worker memory: {peak_mb:.0f} MiB (before the sync: {rss_before / 1024:.0f} MiB)")
    print(
        f"no-change resync: {again:.2f} s, {len(counter.seen)} statements, {counter.writes()} writes, "
        f"created/updated/removed {rejob.activities_created}/{rejob.activities_updated}/"
        f"{rejob.activities_removed}"
    )
    print(f"floor, fetch (httpx + json): {fetch_seconds:.2f} s")
    print(f"floor, insert (asyncpg COPY): {insert_seconds:.2f} s")
    print(f"first sync / (fetch + insert floors): {first / floor:.2f}x (goal: at most 3x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--securities", type=int, default=1000)
    parser.add_argument("--transactions-per-account", type=int, default=10000)
    parser.add_argument("--port", type=int, default=8911)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.securities, args.transactions_per_account, args.port))
