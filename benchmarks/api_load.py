"""Mixed API load over loopback against ``ghostfolio-plaid serve --workers 2``, with a bare floor.

Seeds users with linked items on a scratch database, starts the emulator, the service (2 uvicorn workers) and
a bare Starlette + asyncpg endpoint running the same SQL as ``GET /items`` (also 2 workers). Each operation is
driven for a fixed time by concurrent clients; prints throughput, p50/p99 and errors per operation, the ratios
to the bare endpoint, and checks that every accepted sync request left exactly one row (no lost writes).
Usage: ``uv run python benchmarks/api_load.py [--seconds 8 --concurrency 16]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from harness import GHOSTFOLIO_PLAID, running, scratch_database, service_env, start
from tortoise import Tortoise

from ghostfolio_plaid.auth import issue_token
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.models import Account, PlaidItem, SyncJob, User

HERE = Path(__file__).parent
Operation = Callable[[httpx.AsyncClient, str], Awaitable[httpx.Response]]
ACCEPTED = {"rest_items": {200}, "graphql_items": {200}, "link_token": {200}, "sync": {202, 409}, "bare_items": {200}}


async def seed(users: int, items_per_user: int, accounts_per_item: int) -> dict[str, list[str]]:
    owned: dict[str, list[str]] = {}
    for n in range(users):
        user = await User.create(id=f"load-user-{n}")
        owned[user.id] = []
        for m in range(items_per_user):
            item = await PlaidItem.create(
                id=uuid.uuid4(),
                user=user,
                item_id=f"load-{n}-{m}-{uuid.uuid4().hex[:8]}",
                access_token="unused",
                institution_id="ins_109508",
                institution_name="First Platypus Bank",
            )
            owned[user.id].append(str(item.id))
            for k in range(accounts_per_item):
                await Account.create(user=user, name=f"Account {k}", plaid_item=item, plaid_account_id=f"acc-{m}-{k}")
    return owned


async def drive(
    url: str,
    operation: Operation,
    users: list[str],
    tokens: dict[str, str],
    seconds: float,
    concurrency: int,
    accepted: set[int],
) -> tuple[int, list[float], int, dict[int, int]]:
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            while time.perf_counter() < deadline:
                user = random.choice(users)
                http.headers["Authorization"] = f"Bearer {tokens[user]}"
                started = time.perf_counter()
                response = await operation(http, user)
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                errors += response.status_code not in accepted

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return int(len(latencies) / (time.perf_counter() - started)), latencies, errors, statuses


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


async def main(seconds: float, concurrency: int, port: int) -> None:
    async with scratch_database() as database_url:
        await Tortoise.init(config=tortoise_config(database_url))
        try:
            await load(database_url, seconds, concurrency, port)
        finally:
            await Tortoise.close_connections()


async def load(database_url: str, seconds: float, concurrency: int, port: int) -> None:
    with running([]) as processes:
        owned = await seed(users=50, items_per_user=2, accounts_per_item=3)
        env = service_env(
            database_url, f"http://127.0.0.1:{port + 2}", LINK_TOKENS_PER_HOUR="0", MANUAL_SYNCS_PER_HOUR="0"
        )
        settings = Settings.from_env(env)
        tokens = {user: issue_token(user, settings.jwt_secret_key) for user in owned}
        ghostfolio = GHOSTFOLIO_PLAID
        processes.append(
            start(
                [*ghostfolio, "emulator", "--port", str(port + 2)],
                env,
                f"http://127.0.0.1:{port + 2}/emulator/requests",
            )
        )
        processes.append(
            start(
                [*ghostfolio, "serve", "--workers", "2", "--port", str(port)], env, f"http://127.0.0.1:{port}/healthz"
            )
        )
        processes.append(
            start(
                [sys.executable, str(HERE / "bare_items.py"), str(port + 1)],
                env,
                f"http://127.0.0.1:{port + 1}/items?user=nobody",
            )
        )
        service, bare = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
        query = "{ plaidItems { id institutionName status accounts { id name balance currency } } }"
        operations: dict[str, tuple[str, Operation]] = {
            "bare_items": (bare, lambda http, user: http.get("/items", params={"user": user})),
            "rest_items": (service, lambda http, user: http.get("/api/v1/plaid/items")),
            "graphql_items": (service, lambda http, user: http.post("/graphql", json={"query": query})),
            "link_token": (service, lambda http, user: http.post("/api/v1/plaid/link-token")),
            "sync": (service, lambda http, user: http.post(f"/api/v1/plaid/sync/{random.choice(owned[user])}")),
        }
        print(
            f"{len(owned)} users x 2 items x 3 accounts; {concurrency} clients, {seconds:.0f} s per operation; "
            "service and bare endpoint on 2 uvicorn workers each"
        )
        rates: dict[str, int] = {}
        accepted_syncs = 0
        for name, (url, operation) in operations.items():
            rate, latencies, errors, statuses = await drive(
                url, operation, list(owned), tokens, seconds, concurrency, ACCEPTED[name]
            )
            rates[name] = rate
            accepted_syncs += statuses.get(202, 0) if name == "sync" else 0
            print(
                f"  {name:14} {rate:6,} req/s  p50 {percentile(latencies, 0.5):6.1f} ms  "
                f"p99 {percentile(latencies, 0.99):6.1f} ms  errors {errors}  statuses {dict(sorted(statuses.items()))}"
            )
        print(f"REST GET /items: {rates['rest_items'] / rates['bare_items']:.0%} of the bare endpoint (goal >= 50%)")
        print(
            f"GraphQL plaidItems: {rates['graphql_items'] / rates['bare_items']:.0%} of the bare endpoint (goal >= 30%)"
        )
        rows = await SyncJob.all().count()
        print(f"sync requests accepted: {accepted_syncs}, SyncJob rows: {rows} (lost writes: {accepted_syncs - rows})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=8931)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency, args.port))
