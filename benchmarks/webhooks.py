"""Webhook acknowledgements per second and latency, against a bare Starlette route in the same run.

Starts ``ghostfolio-plaid serve`` and a bare route as processes, the Plaid emulator in this one (it signs the
webhooks, exactly as Plaid would, and serves the key). The key cache is warmed first; then a fixed number of
signed webhooks are sent by concurrent clients. Usage: ``uv run python benchmarks/webhooks.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
from harness import CLIENT_ID, GHOSTFOLIO_PLAID, SECRET, running, scratch_database, service_env, start
from tortoise import Tortoise

from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.models import PlaidItem, User
from ghostfolio_plaid.plaid_emulator import EmulatorConfig, EmulatorServer, create_app
from ghostfolio_plaid.plaid_emulator.signing import WebhookSigner

HOOK = "/api/v1/plaid/webhook"


async def load(url: str, bodies: list[tuple[bytes, str]], concurrency: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[tuple[bytes, str]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            while not queue.empty():
                body, token = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(HOOK, content=body, headers={"Plaid-Verification": token})
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, errors


def report(name: str, elapsed: float, latencies: list[float], errors: int) -> float:
    ordered = sorted(latencies)
    rate = len(latencies) / elapsed
    p50, p99 = ordered[len(ordered) // 2] * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(
        f"{name}: {rate:,.0f} acks/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms, mean "
        f"{statistics.fmean(latencies) * 1000:.1f} ms, errors {errors}"
    )
    return rate


async def main(requests: int, concurrency: int, port: int) -> None:
    emulator_app = create_app(EmulatorConfig(client_id=CLIENT_ID, secret=SECRET))
    async with scratch_database() as database_url:
        with EmulatorServer(emulator_app) as emulator, running([]) as processes:
            await Tortoise.init(config=tortoise_config(database_url))
            user, _ = await User.get_or_create(id="bench-user")
            item_id = f"bench-item-{uuid.uuid4().hex}"
            await PlaidItem.create(id=uuid.uuid4(), user=user, item_id=item_id, access_token="unused")
            await Tortoise.close_connections()
            env = service_env(database_url, emulator.url)
            service_url, bare_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
            processes.append(start([*GHOSTFOLIO_PLAID, "serve", "--port", str(port)], env, service_url))
            bare = Path(__file__).with_name("bare_app.py")
            processes.append(start([sys.executable, str(bare), str(port + 1)], env, bare_url))
            signer: WebhookSigner = emulator.app.state.emulator.signer  # type: ignore[attr-defined]
            kinds = {
                "HOLDINGS:DEFAULT_UPDATE (coalesced sync)": ("HOLDINGS", "DEFAULT_UPDATE"),
                "ITEM:WEBHOOK_UPDATE_ACKNOWLEDGED (verify only)": ("ITEM", "WEBHOOK_UPDATE_ACKNOWLEDGED"),
            }
            print(f"{requests} webhooks per run, {concurrency} concurrent clients, one uvicorn process each")
            for label, (kind, code) in kinds.items():
                raw = json.dumps(
                    {"webhook_type": kind, "webhook_code": code, "item_id": item_id, "environment": "sandbox"}, indent=2
                ).encode()
                bodies = [(raw, signer.sign(raw)) for _ in range(requests)]
                await load(service_url, bodies[:50], 5)
                print(label)
                service = report("  service webhook route", *await load(service_url, bodies, concurrency))
                ceiling = report("  bare Starlette route  ", *await load(bare_url, bodies, concurrency))
                print(f"  throughput ratio: {service / ceiling:.0%} of the bare route (goal: at least 25%)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--port", type=int, default=8921)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.port))
