"""A fleet of small items drained by 1 and by 2 workers: items/s, per-job overhead, Plaid limits, memory.

Starts the Plaid emulator and ``serve`` as processes on a scratch database, links N sandbox items through the
API (202 activities each), drains their first syncs, then queues a resync of every item (through the API) and
drains it with ``ghostfolio-plaid worker`` processes: 1 worker, 2 workers, and 1 worker forking a new horse
for every job (``--max-jobs-per-horse 1``). With ``--before DIR`` (a checkout of the code before the change,
e.g. ``git archive HEAD | tar -x -C DIR``) a worker of that code drains a round too, on the same data. A
round's wall time runs from the moment its jobs appear on the queue (the workers started and waiting on it,
so interpreter start-up is not counted; forking and setting up a horse is) to the last job's end; the per-job
overhead is the worker-seconds per item minus the jobs' own mean ``durationMs``.

Then a round with the per-client limits lowered so that they bind (``PLAID_RATE_LIMITS``), plus two items of
four pages each under Plaid's own per-item limits: the emulator's request log shows what each limit let
through. Last, one long-lived worker runs ``--memory-jobs`` resyncs with horse recycling off, and the horse's
resident memory is read after every round. Usage: ``uv run python benchmarks/fleet.py [--items 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from harness import CLIENT_ID, GHOSTFOLIO_PLAID, SECRET, running, scratch_database, service_env, start
from redis import Redis
from rq import Queue, Worker
from tortoise import Tortoise

from ghostfolio_plaid.auth import issue_token
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.models import SyncJob, SyncStatus

USERS = 20
PAGED_SHAPE = {
    "investment_accounts": 1,
    "securities": 20,
    "transactions_per_account": 1600,
    "depository_account": False,
}
LIMITS = {"investments_holdings_get": 600, "investments_transactions_get": 600}
CLIENT_LIMITED = ("investments_holdings_get", "investments_transactions_get", "accounts_get", "item_get")
ENDPOINTS = {
    "/investments/holdings/get": "investments_holdings_get",
    "/investments/transactions/get": "investments_transactions_get",
}


@dataclass
class Fleet:
    env: dict[str, str]
    api: str
    emulator: str
    tokens: dict[str, str]
    items: dict[str, str]
    """Our item id -> its user."""
    emulator_pid: int = 0
    database: str = ""


@dataclass
class Round:
    name: str
    workers: int
    items: int
    wall: float
    mean_ms: float
    failed: int
    cpu: dict[str, float]

    def report(self) -> str:
        per_item_ms = self.wall * self.workers / self.items * 1000
        cpu = {name: seconds * 1000 / self.items for name, seconds in self.cpu.items()}
        return (
            f"  {self.name:44} {self.items / self.wall:6.1f} items/s  wall {self.wall:6.2f} s  "
            f"in-job mean {self.mean_ms:5.0f} ms  overhead {per_item_ms - self.mean_ms:5.0f} ms/job"
            + (f"  FAILED {self.failed}" if self.failed else "")
            + "\n      CPU per item: "
            + ", ".join(f"{name} {ms:.0f} ms" for name, ms in cpu.items())
            + f" (all: {sum(cpu.values()):.0f} ms)"
        )


def cpu_seconds(pid: int) -> float:
    """A live process's user and system CPU time (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``database`` (by its process title)."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pid = int(cmdline.parent.name)
            found[pid] = cpu_seconds(pid)
    return found


def reaped_children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


async def link(fleet: Fleet, http: httpx.AsyncClient, user: str, shape: dict[str, Any] | None = None) -> str:
    credentials = {"client_id": CLIENT_ID, "secret": SECRET}
    if shape is None:
        body = {**credentials, "institution_id": "ins_109508", "initial_products": ["investments"]}
        public_token = (await http.post(f"{fleet.emulator}/sandbox/public_token/create", json=body)).json()
    else:
        public_token = (await http.post(f"{fleet.emulator}/emulator/items", json={"shape": shape})).json()
    exchanged = await http.post(
        f"{fleet.api}/api/v1/plaid/exchange-token",
        json={
            "publicToken": public_token["public_token"],
            "institutionId": "ins_109508",
            "institutionName": "First Platypus Bank",
            "accounts": [],
        },
        headers={"Authorization": f"Bearer {fleet.tokens[user]}"},
    )
    assert exchanged.status_code == 201, exchanged.text
    item_id: str = exchanged.json()["plaidItemId"]
    fleet.items[item_id] = user
    return item_id


async def link_many(fleet: Fleet, count: int, shape: dict[str, Any] | None = None) -> list[str]:
    users = list(fleet.tokens)
    slots = asyncio.Semaphore(8)

    async def one(n: int, http: httpx.AsyncClient) -> str:
        async with slots:
            return await link(fleet, http, users[n % len(users)], shape)

    async with httpx.AsyncClient(timeout=60) as http:
        return list(await asyncio.gather(*(one(n, http) for n in range(count))))


async def queue_syncs(fleet: Fleet, item_ids: Sequence[str]) -> list[str]:
    """``POST /sync/:id`` for every item, as a user (or the daily run) would; the job ids, in order."""
    slots = asyncio.Semaphore(8)

    async def one(item_id: str, http: httpx.AsyncClient) -> str:
        async with slots:
            headers = {"Authorization": f"Bearer {fleet.tokens[fleet.items[item_id]]}"}
            answer = await http.post(f"{fleet.api}/api/v1/plaid/sync/{item_id}", headers=headers)
            assert answer.status_code == 202, answer.text
            job_id: str = answer.json()["jobId"]
            return job_id

    async with httpx.AsyncClient(timeout=60) as http:
        return list(await asyncio.gather(*(one(item_id, http) for item_id in item_ids)))


def worker_command(options: Sequence[str], before: Path | None) -> tuple[list[str], Path | None]:
    if before is not None:
        return [sys.executable, "-m", "ghostfolio_plaid", "worker"], before
    return [*GHOSTFOLIO_PLAID, "worker", *options], None


async def drain(
    fleet: Fleet,
    name: str,
    job_ids: Sequence[str],
    workers: int,
    options: Sequence[str] = (),
    env: dict[str, str] | None = None,
    before: Path | None = None,
) -> Round:
    """Drain the queued jobs with ``workers`` workers, timed from the moment the jobs appear on the queue (the
    workers already started and waiting on it, so interpreter start-up is not counted; forking and setting
    up their horses is) to the last job's end (``finished_at``)."""
    environment = env or fleet.env
    args, cwd = worker_command(options, before)
    redis = Redis.from_url(environment["REDIS_URL"])
    queue = Queue(environment["SYNC_QUEUE_NAME"], connection=redis)
    held = queue.key + ":held"
    redis.rename(queue.key, held)
    processes = await asyncio.to_thread(start_idle_workers, args, environment, cwd, workers, queue)
    try:
        started_up = sum(cpu_seconds(p.pid) for p in processes) + reaped_children_cpu()
        emulator, database = cpu_seconds(fleet.emulator_pid), backends(fleet.database)
        released = time.time()
        redis.rename(held, queue.key)
        await until_finished(list(job_ids))
        emulator = cpu_seconds(fleet.emulator_pid) - emulator
        database = {pid: seconds - database.get(pid, 0.0) for pid, seconds in backends(fleet.database).items()}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await asyncio.to_thread(process.wait, 30)
        redis.close()
    cpu = {"workers": reaped_children_cpu() - started_up, "emulator": emulator, "PostgreSQL": sum(database.values())}
    jobs = await SyncJob.filter(id__in=list(job_ids))
    wall = max(j.finished_at.timestamp() for j in jobs if j.finished_at) - released
    durations = [j.duration_ms for j in jobs if j.duration_ms is not None]
    failed = sum(j.status != SyncStatus.SUCCEEDED for j in jobs)
    return Round(name, workers, len(job_ids), wall, sum(durations) / max(1, len(durations)), failed, cpu)


def start_idle_workers(
    args: list[str], env: dict[str, str], cwd: Path | None, count: int, queue: Queue
) -> list[subprocess.Popen[bytes]]:
    """Start ``count`` workers and return once every one of them waits on the (empty) queue."""
    processes = [
        subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    while True:
        assert all(p.poll() is None for p in processes), "a worker exited before it started"
        workers = Worker.all(queue=queue)
        if len(workers) == count and all(w.get_state() == "idle" for w in workers):
            time.sleep(0.2)  # from "idle" to blocking on the queue
            return processes
        time.sleep(0.02)


async def until_finished(job_ids: list[str], seconds: float = 600) -> None:
    for _ in range(int(seconds / 0.2)):
        if not await SyncJob.filter(id__in=job_ids, status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]).exists():
            return
        await asyncio.sleep(0.2)
    raise SystemExit("the worker did not finish its jobs in time")


def peak(times: Sequence[float], window: float) -> int:
    """The most calls in any ``window`` seconds."""
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def plaid_calls(fleet: Fleet, since: float) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=60) as http:
        requests: list[dict[str, Any]] = (await http.get(f"{fleet.emulator}/emulator/requests")).json()["requests"]
    return [r for r in requests if r["time"] >= since and r["path"] in ENDPOINTS]


def limits_report(calls: list[dict[str, Any]], client_limits: dict[str, int], item_limits: dict[str, int]) -> None:
    by_endpoint: dict[str, list[float]] = defaultdict(list)
    by_item: dict[tuple[str, str], list[float]] = defaultdict(list)
    for call in calls:
        endpoint = ENDPOINTS[call["path"]]
        by_endpoint[endpoint].append(call["time"])
        by_item[(endpoint, call["item_id"])].append(call["time"])
    for endpoint, times in sorted(by_endpoint.items()):
        times.sort()
        limit = client_limits[endpoint]
        span = times[-1] - times[0]
        print(
            f"  per client, {endpoint}: {len(times)} calls in {span:.1f} s; peak {peak(times, 60)} in any 60 s "
            f"(limit {limit}/min), {peak(times, 1)} in any 1 s (limit {limit / 60:.0f}/s); "
            f"mean {(len(times) - 1) / span if span else 0:.1f}/s"
        )
    for endpoint, limit in sorted(item_limits.items()):
        series = [sorted(t) for (e, _), t in by_item.items() if e == endpoint]
        busiest = max(series, key=len)
        gaps = [b - a for s in series for a, b in itertools.pairwise(s)]
        gap_note = f"; closest two calls of one item {min(gaps):.2f} s apart (slot {60 / limit:.1f} s)" if gaps else ""
        print(
            f"  per item, {endpoint}: {len(series)} items, at most {len(busiest)} calls of one item, peak "
            f"{max(peak(s, 60) for s in series)} in any 60 s (limit {limit}/min){gap_note}"
        )


def horse_rss_mib(worker_pid: int) -> tuple[int, float] | None:
    """The worker's horse (its child that leads its own process group) and its resident memory."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            if int(fields[1]) == worker_pid and int(fields[2]) == pid:
                pages = int((stat.parent / "statm").read_text().split()[1])
                return pid, pages * os.sysconf("SC_PAGE_SIZE") / 1048576
        except (OSError, IndexError, ValueError):
            continue
    return None


async def memory_round(fleet: Fleet, small: list[str], jobs: int) -> None:
    options = ["--max-jobs-per-horse", "1000000", "--max-horse-mib", "1000000"]
    worker = await asyncio.to_thread(
        subprocess.Popen,
        [*GHOSTFOLIO_PLAID, "worker", *options],
        env=fleet.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples: list[tuple[int, int, float]] = []
    try:
        done = 0
        while done < jobs:
            batch = small[: min(len(small), jobs - done)]
            ids = await queue_syncs(fleet, batch)
            await until_finished(ids)
            done += len(ids)
            horse = horse_rss_mib(worker.pid)
            if horse is not None:
                samples.append((done, *horse))
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    pids = {pid for _, pid, _ in samples}
    print(f"memory, one worker, {jobs} resyncs, recycling off ({len(pids)} horse{'s' * (len(pids) > 1)}):")
    print("  horse RSS after " + ", ".join(f"{n}: {rss:.0f} MiB" for n, _, rss in samples))
    if len(samples) > 1:
        print(f"  growth from the first sample to the last: {samples[-1][2] - samples[0][2]:+.0f} MiB")


async def main(args: argparse.Namespace) -> None:
    api, emulator = f"http://127.0.0.1:{args.port}", f"http://127.0.0.1:{args.port + 1}"
    async with scratch_database() as database_url:
        env = service_env(database_url, emulator, LINK_TOKENS_PER_HOUR="0", MANUAL_SYNCS_PER_HOUR="0")
        env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
        env["LOG_FORMAT"] = "text"
        settings = Settings.from_env(env)
        tokens = {f"fleet-user-{n}": issue_token(f"fleet-user-{n}", settings.jwt_secret_key) for n in range(USERS)}
        emulator_process = start([*GHOSTFOLIO_PLAID, "emulator", "--port", str(args.port + 1)], env, emulator + "/")
        fleet = Fleet(env, api, emulator, tokens, {}, emulator_process.pid, database_url.rsplit("/", 1)[1])
        with running([emulator_process]) as processes:
            processes.append(start([*GHOSTFOLIO_PLAID, "serve", "--port", str(args.port)], env, api + "/healthz"))
            await Tortoise.init(config=tortoise_config(database_url))
            try:
                await measure(fleet, args)
            finally:
                await Tortoise.close_connections()
                Redis.from_url(env["REDIS_URL"]).delete(f"rq:queue:{env['SYNC_QUEUE_NAME']}")


async def measure(fleet: Fleet, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    small = await link_many(fleet, args.items)
    print(f"{args.items} sandbox items linked through the API in {time.perf_counter() - started:.1f} s")
    unlimited = {**fleet.env, "PLAID_RATE_LIMITS": ",".join(f"{e}=0" for e in CLIENT_LIMITED)}
    first = [str(i) for i in await SyncJob.filter(plaid_item_id__in=small).values_list("id", flat=True)]
    print((await drain(fleet, "first syncs, 2 workers", first, 2, env=unlimited)).report())
    print("resync of every item (per-client limits off; per-item limits on), drained by:")
    one = await drain(fleet, "1 worker", await queue_syncs(fleet, small), 1, env=unlimited)
    print(one.report())
    two = await drain(fleet, "2 workers", await queue_syncs(fleet, small), 2, env=unlimited)
    print(two.report())
    subset = small[: args.baseline_items]
    options = ["--max-jobs-per-horse", "1"]
    fork = await drain(fleet, "1 worker, a new horse per job", await queue_syncs(fleet, subset), 1, options, unlimited)
    print(fork.report())
    if args.before is not None:
        before = await drain(
            fleet, "1 worker, the code before", await queue_syncs(fleet, subset), 1, env=unlimited, before=args.before
        )
        print(before.report())
    print(f"2 workers / 1 worker: {one.wall / two.wall:.2f}x (goal: close to 2x on 2 cores)")
    capped = await drain(fleet, "2 workers, Plaid's per-client limits", await queue_syncs(fleet, small), 2)
    print(capped.report())
    print("  (holdings 2,000/min per client: no fleet syncs more than 33 items/s, however many workers)")
    await limits_round(fleet, small)
    if args.memory_jobs:
        await memory_round(fleet, small, args.memory_jobs)


async def limits_round(fleet: Fleet, small: list[str]) -> None:
    paged = await link_many(fleet, 2, PAGED_SHAPE)
    paged_jobs = await SyncJob.filter(plaid_item_id__in=paged).values_list("id", flat=True)
    since = time.time()
    job_ids = [*[str(i) for i in paged_jobs], *await queue_syncs(fleet, small)]
    rates = ",".join(f"{endpoint}={limit}" for endpoint, limit in LIMITS.items())
    env = {**fleet.env, "PLAID_RATE_LIMITS": rates}
    limited = await drain(fleet, "2 workers, per-client limits lowered", job_ids, 2, env=env)
    print(f"Plaid limits across 2 workers (PLAID_RATE_LIMITS={rates}; per item: Plaid's own):")
    print(limited.report())
    defaults = Settings().rate_limits_per_minute()
    item_limits = {endpoint: defaults["item:" + endpoint] for endpoint in LIMITS}
    limits_report(await plaid_calls(fleet, since), LIMITS, item_limits)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--baseline-items", type=int, default=60, help="items of the horse-per-job rounds")
    parser.add_argument("--before", type=Path, help="a checkout of the code before, to drain a round with")
    parser.add_argument("--memory-jobs", type=int, default=1000, help="0 skips the memory round")
    parser.add_argument("--port", type=int, default=8951)
    asyncio.run(main(parser.parse_args()))
