"""The ``worker`` process: an RQ worker (with RQ's scheduler, for retries) on the sync queue."""

from __future__ import annotations

from rq import Queue, Worker

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.redis_connections import sync_redis


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    connection = sync_redis(settings.redis_url)
    queue = Queue(settings.sync_queue_name, connection=connection)
    Worker([queue], connection=connection).work(with_scheduler=True, burst=burst)
