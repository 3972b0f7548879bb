"""Push speed against its floor: 50,000 activities (5 accounts, 1,000 securities) delivered into Ghostfolio.

The activities are built the cheap way: the Plaid emulator's benchmark item, linked and synced through the
service as ``benchmarks/sync.py`` does, on a scratch PostgreSQL database. Ghostfolio is the emulator, in a
process of its own, with ``auto_create_users``; its data provider knows the item's 1,000 synthetic tickers, so
they are listed as YAHOO like real tickers on an online instance (``--offline`` measures an instance that
resolves none of them instead: every security becomes MANUAL, one dry-run import per ticker). Printed:

- the first push (``deliver``): wall time, requests, how long the emulator spent answering them, and the CPU
  time of the connector and of the emulator (steadier than wall time on a shared machine);
- the floor: the same import requests (captured from that push: the same chunks of activities and asset
  profiles) sent bare with httpx, one after another, to a fresh emulator process holding the same accounts;
- a no-change second push: wall time and the requests it sent (the newest GhostfolioPush row).

Usage: ``uv run python benchmarks/ghostfolio_push.py [--offline] [--profile FILE]`` (``--profile`` runs the
first push under cProfile and writes its stats to FILE; the times it prints are then inflated).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx
from harness import (
    CLIENT_ID,
    GHOSTFOLIO_JWT_SECRET,
    GHOSTFOLIO_PLAID,
    SECRET,
    running,
    scratch_database,
    start,
    start_ghostfolio_emulator,
)
from redis.asyncio import Redis
from sync import Statements, link, timed_sync
from tortoise import Tortoise

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.ghostfolio.client import GhostfolioClient, Json, user_token
from ghostfolio_plaid.ghostfolio.jobs import deliver
from ghostfolio_plaid.ghostfolio.payloads import is_priceable
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import Account, GhostfolioPush, Order, PlaidItem, SymbolProfile
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.workers.sync import SyncServices

USER_ID = "bench-user"


def process_cpu(pid: int) -> float:
    """CPU seconds a process has used so far (Linux ``/proc``): shows whether the emulator worked harder, or
    only waited longer for a core, when its answers took longer."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Ports:
    plaid: int
    ghostfolio: int
    floor: int


@dataclass
class Push:
    seconds: float
    cpu_seconds: float
    """CPU time of this process (the connector; the emulators run in their own): steadier than wall time on a
    busy machine."""
    outcome: str
    row: GhostfolioPush
    server: dict[str, tuple[int, float]]
    """What the emulator's request log says it spent answering, by kind of request: (count, seconds)."""
    server_cpu: float

    @property
    def server_seconds(self) -> float:
        return sum(seconds for _, seconds in self.server.values())


def bench_settings(database_url: str, plaid_url: str, ghostfolio_url: str | None) -> Settings:
    return Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "PLAID_CLIENT_ID": CLIENT_ID,
            "PLAID_SECRET": SECRET,
            "PLAID_ENV": "emulator",
            "PLAID_BASE_URL": plaid_url,
            "ENABLE_FEATURE_PLAID": "true",
            "PLAID_ENCRYPTION_KEY": base64.b64encode(os.urandom(32)).decode(),
            "PLAID_TIMEOUT_SECONDS": "120",
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "JWT_SECRET_KEY": GHOSTFOLIO_JWT_SECRET,
            "GHOSTFOLIO_TIMEOUT_SECONDS": "300",
            **({"GHOSTFOLIO_URL": ghostfolio_url} if ghostfolio_url else {}),
        },
        require_jwt=False,
    )


async def build_activities(settings: Settings, plaid_url: str, shape: dict[str, Any]) -> str:
    """Link the Plaid emulator's benchmark item and sync it through the service (the connector still off)."""
    async with httpx.AsyncClient(base_url=plaid_url, timeout=300) as http:
        seeded = (await http.post("/emulator/items", json={"shape": shape})).json()
    item_id = await link(settings, seeded, plaid_url)
    redis = Redis.from_url(settings.redis_url)
    plaid = PlaidClient(settings)
    queue = SyncQueue(settings.redis_url, f"gp-bench-{uuid.uuid4().hex[:8]}")
    try:
        seconds, job = await timed_sync(
            SyncServices(settings, plaid, settings.cipher(), redis, queue), item_id, Statements()
        )
    finally:
        await redis.aclose()
        plaid.close()
        queue.close()
    print(f"built: {job.activities_created:,} activities by one sync of the benchmark item in {seconds:.1f} s")
    return item_id


async def item_tickers(item_id: str) -> list[str]:
    """The tickers of the item's securities that the connector would ask Ghostfolio's data provider about."""
    accounts = await Account.filter(plaid_item_id=item_id).values_list("id", flat=True)
    used = await Order.filter(account_id__in=list(accounts)).distinct().values_list("symbol_profile_id", flat=True)
    profiles = await SymbolProfile.filter(id__in=list(used))
    return sorted(p.symbol for p in profiles if is_priceable(p))


async def know_symbols(url: str, tickers: list[str]) -> None:
    """Teach the emulator's data provider the benchmark's tickers, on top of the ones it knows."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        known = (await http.get("/emulator/config")).json()["known_symbols"]
        answer = await http.post("/emulator/config", json={"known_symbols": sorted({*known, *tickers})})
        answer.raise_for_status()


async def go_offline(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        (await http.post("/emulator/offline", json={"offline": True})).raise_for_status()


async def emulator_log(url: str) -> dict[str, tuple[int, float]]:
    """The emulator's time answering the requests since the last call, by method, path and dry run."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        logged: list[dict[str, Any]] = (await http.get("/emulator/requests")).json()["requests"]
        await http.delete("/emulator/requests")
    kinds: dict[str, tuple[int, float]] = {}
    for entry in logged:
        kind = f"{entry['method']} {entry['path']}" + (" (dry run)" if entry["query"].get("dryRun") else "")
        count, seconds = kinds.get(kind, (0, 0.0))
        kinds[kind] = (count + 1, seconds + (entry["duration_ms"] or 0) / 1000)
    return kinds


@contextmanager
def captured_imports() -> Iterator[list[Json]]:
    """Keeps the body of every real import the connector sends (references to its own lists: nothing to time)."""
    bodies: list[Json] = []
    original = GhostfolioClient.import_activities

    async def recording(
        client: GhostfolioClient, user_id: str, activities: list[Json], asset_profiles: list[Json] | None = None
    ) -> list[Json]:
        bodies.append({"activities": activities, **({"assetProfiles": asset_profiles} if asset_profiles else {})})
        created: list[Json] = await original(client, user_id, activities, asset_profiles)
        return created

    with patch.object(GhostfolioClient, "import_activities", recording):
        yield bodies


async def timed_push(
    settings: Settings, item_id: str, emulator: subprocess.Popen[bytes], profile: cProfile.Profile | None = None
) -> Push:
    queue = SyncQueue(settings.redis_url, f"gp-bench-{uuid.uuid4().hex[:8]}")
    assert settings.ghostfolio_url is not None
    await emulator_log(settings.ghostfolio_url)
    server_cpu = process_cpu(emulator.pid)
    try:
        if profile is not None:
            profile.enable()
        started, cpu_started = time.perf_counter(), time.process_time()
        outcome = await deliver(settings, queue, item_id)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        if profile is not None:
            profile.disable()
        server_cpu = process_cpu(emulator.pid) - server_cpu
    finally:
        queue.queue.delete(delete_jobs=True)
        queue.close()
    server = await emulator_log(settings.ghostfolio_url)
    row = await GhostfolioPush.filter(plaid_item_id=item_id).order_by("-started_at").first()
    assert row is not None
    return Push(seconds, cpu_seconds, outcome, row, server, server_cpu)


@dataclass
class Floor:
    seconds: float
    cpu_seconds: float
    server_seconds: float
    server_cpu: float


async def floor(url: str, emulator: subprocess.Popen[bytes], item_id: str, bodies: list[Json]) -> Floor:
    """The captured imports, sent bare to a fresh instance that holds the same accounts (created untimed, with
    the connector's ids, since the activities name them)."""
    headers = {"Authorization": f"Bearer {user_token(USER_ID, GHOSTFOLIO_JWT_SECRET)}"}
    async with httpx.AsyncClient(base_url=url, timeout=300, headers=headers) as http:
        for account in await Account.filter(plaid_item_id=item_id):
            body = {"id": account.ghostfolio_account_id, "name": account.name, "currency": account.currency}
            (await http.post("/api/v1/account", json={**body, "platformId": None})).raise_for_status()
        await emulator_log(url)
        server_cpu = process_cpu(emulator.pid)
        started, cpu_started = time.perf_counter(), time.process_time()
        for body in bodies:
            answer = await http.post("/api/v1/import", json=body)
            answer.raise_for_status()
            answer.json()
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
        server_cpu = process_cpu(emulator.pid) - server_cpu
    server_seconds = sum(spent for _, spent in (await emulator_log(url)).values())
    return Floor(seconds, cpu_seconds, server_seconds, server_cpu)


def report(first: Push, bare: Floor, bodies: list[Json], again: Push) -> None:
    activities = sum(len(body["activities"]) for body in bodies)
    profiles = sum(len(body.get("assetProfiles") or []) for body in bodies)
    row, own = first.row, first.seconds - first.server_seconds
    rate = activities / first.seconds
    print(f"first push (deliver): {first.seconds:.2f} s, outcome {first.outcome}, {rate:,.0f} activities/s")
    print(f"  {row.requests} requests ({len(bodies)} imports carrying {profiles} asset profiles)")
    print(f"  created {row.created}, balances {row.balances}")
    print(f"  emulator time answering: {first.server_seconds:.2f} s; the rest (connector, network): {own:.2f} s")
    for kind, (count, seconds) in sorted(first.server.items(), key=lambda entry: -entry[1][1]):
        print(f"    {kind}: {count} requests, {seconds:.2f} s")
    print(f"  CPU: connector {first.cpu_seconds:.2f} s, emulator {first.server_cpu:.2f} s")
    print(f"floor, the same {len(bodies)} imports bare with httpx: {bare.seconds:.2f} s")
    print(f"  emulator time answering: {bare.server_seconds:.2f} s")
    print(f"  CPU: client {bare.cpu_seconds:.2f} s, emulator {bare.server_cpu:.2f} s")
    print(f"first push / floor: {first.seconds / bare.seconds:.2f}x (goal: at most 1.5x)")
    by_cpu = (first.cpu_seconds + first.server_cpu) / (bare.cpu_seconds + bare.server_cpu)
    print(f"  the same by CPU, (connector + emulator) / (client + emulator): {by_cpu:.2f}x (PostgreSQL's not counted)")
    print(f"no-change second push: {again.seconds:.2f} s, {again.row.requests} requests (goal: 0), {again.outcome}")
    print(f"  connector CPU: {again.cpu_seconds:.2f} s")


async def prepare(url: str, tickers: list[str], offline: bool) -> None:
    await (go_offline(url) if offline else know_symbols(url, tickers))


async def push_twice(
    settings: Settings, item_id: str, port: int, tickers: list[str], offline: bool, profile_file: str | None
) -> tuple[Push, Push, list[Json]]:
    """The first push (captured, and profiled if asked) and a second one with nothing new, on one emulator."""
    with running([start_ghostfolio_emulator(port)]) as (emulator,):
        assert settings.ghostfolio_url is not None
        await prepare(settings.ghostfolio_url, tickers, offline)
        print(f"Ghostfolio emulator: {'offline' if offline else f'knows the {len(tickers)} tickers'}")
        profile = cProfile.Profile() if profile_file else None
        with captured_imports() as bodies:
            first = await timed_push(settings, item_id, emulator, profile)
        if profile is not None and profile_file:
            profile.dump_stats(profile_file)
        again = await timed_push(settings, item_id, emulator)
    return first, again, bodies


async def measure(
    database_url: str, ports: Ports, shape: dict[str, Any], offline: bool, profile_file: str | None
) -> None:
    plaid_url = f"http://127.0.0.1:{ports.plaid}"
    settings = bench_settings(database_url, plaid_url, f"http://127.0.0.1:{ports.ghostfolio}")
    await Tortoise.init(config=tortoise_config(database_url))
    try:
        item_id = await build_activities(settings, plaid_url, shape)
        tickers = await item_tickers(item_id)
        first, again, bodies = await push_twice(settings, item_id, ports.ghostfolio, tickers, offline, profile_file)
        floor_url = f"http://127.0.0.1:{ports.floor}"
        with running([start_ghostfolio_emulator(ports.floor)]) as (fresh,):
            await prepare(floor_url, tickers, offline)
            bare = await floor(floor_url, fresh, item_id, bodies)
        report(first, bare, bodies, again)
        assert (await PlaidItem.get(id=item_id)).ghostfolio_pending == 0
    finally:
        await Tortoise.close_connections()


async def main(args: argparse.Namespace) -> None:
    shape = {
        "investment_accounts": args.accounts,
        "securities": args.securities,
        "transactions_per_account": args.transactions_per_account,
        "depository_account": False,
    }
    ports = Ports(args.port, args.port + 1, args.port + 2)
    env = {**os.environ, "PLAID_CLIENT_ID": CLIENT_ID, "PLAID_SECRET": SECRET}
    plaid_url = f"http://127.0.0.1:{ports.plaid}"
    emulator = start([*GHOSTFOLIO_PLAID, "emulator", "--port", str(ports.plaid)], env, plaid_url + "/emulator/requests")
    async with scratch_database() as database_url:
        with running([emulator]):
            await measure(database_url, ports, shape, args.offline, args.profile)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--securities", type=int, default=1000)
    parser.add_argument("--transactions-per-account", type=int, default=10000)
    parser.add_argument("--port", type=int, default=8921)
    parser.add_argument("--offline", action="store_true", help="an instance whose data provider resolves nothing")
    parser.add_argument("--profile", metavar="FILE", help="run the first push under cProfile, stats to FILE")
    asyncio.run(main(parser.parse_args()))
