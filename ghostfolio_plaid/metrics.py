"""Prometheus metrics at ``/metrics``.

Requests and webhook verifications are counted where they happen (this process). With ``serve --workers N``
each API process counts its own, in files under ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess
mode, set up by ``serve``), and a scrape of any process reads them all. Sync jobs and Ghostfolio pushes run in
workers, so their outcomes and durations, and the changes still waiting for Ghostfolio (the outbox), are read
from the database, and the queue depth from Redis, at scrape time: every API process reports the same truth
without workers exposing ports of their own.

Every label value comes from a bounded set (route templates, known methods, the schema's operation names), so
that no client can grow this page without bound.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from tortoise.functions import Count, Sum

from ghostfolio_plaid.db import DATABASE_DOWN
from ghostfolio_plaid.models import GhostfolioPush, PlaidItem, SyncJob, SyncStatus
from ghostfolio_plaid.operator_auth import refuse_without_operator_token
from ghostfolio_plaid.routes_naming import OTHER

if TYPE_CHECKING:
    from strawberry import Schema

    from ghostfolio_plaid.resolvers.services import Services

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
"""Set by ``serve --workers N`` (see serve_command.py): every API process counts into files there."""
CLIENT_OPERATIONS = frozenset({"IntrospectionQuery"})
"""Operation names well-known clients send besides the schema's own (GraphiQL's schema fetch)."""
PUSH_OUTCOMES = ("succeeded", "refused", "retrying", "running")
"""The outcomes a GhostfolioPush row can have (ghostfolio/push.py); each is always reported, 0 if none."""

REGISTRY = CollectorRegistry()
REQUESTS = Counter("ghostfolio_plaid_http_requests", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "ghostfolio_plaid_http_request_duration_seconds", "HTTP request latency", ["method", "route"], registry=REGISTRY
)
GRAPHQL = Counter("ghostfolio_plaid_graphql_operations", "GraphQL operations", ["type", "name"], registry=REGISTRY)
WEBHOOKS = Counter("ghostfolio_plaid_webhook_verifications", "Webhook verifications", ["result"], registry=REGISTRY)


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class CountOperations(SchemaExtension):
    """Counts operations by type and name; a name the schema does not suggest is counted as ``other``."""

    def on_operation(self) -> Iterator[None]:
        yield
        GRAPHQL.labels(*operation_labels(self.execution_context)).inc()


def operation_labels(context: ExecutionContext) -> tuple[str, str]:
    """``(type, name)``; type ``unparsed`` for a document that did not parse."""
    name = operation_name_label(context)
    if context.graphql_document is None:
        return "unparsed", name
    try:
        return context.operation_type.value, name
    except RuntimeError:  # the operationName names no operation of the document
        return "unknown", name


def operation_name_label(context: ExecutionContext) -> str:
    """``anonymous``, a name the schema suggests (a root field, as ``plaidItems`` or ``PlaidItems``) or ``other``."""
    name = context.operation_name
    if name is None:
        return "anonymous"
    return name if name in known_operation_names(context.schema) else OTHER


@lru_cache(maxsize=8)
def known_operation_names(schema: Schema) -> frozenset[str]:
    """Root field names of ``schema`` in both usual casings, and ``CLIENT_OPERATIONS``."""
    graphql = schema._schema
    roots = [root for root in (graphql.query_type, graphql.mutation_type, graphql.subscription_type) if root]
    fields = {name for root in roots for name in root.fields}
    return frozenset(fields | {name[:1].upper() + name[1:] for name in fields} | CLIENT_OPERATIONS)


class _Snapshot:
    """Metric families read once for one scrape (the database's and Redis's view)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> list[Metric]:
        return self.families


async def sync_job_families() -> list[Metric]:
    """Sync jobs by status and their summed duration; none while the database is down (the rest still shows)."""
    try:
        rows = (
            await SyncJob.all()
            .group_by("status")
            .annotate(jobs=Count("id"), ms=Sum("duration_ms"))
            .values("status", "jobs", "ms")
        )
    except DATABASE_DOWN:
        return []
    jobs = GaugeMetricFamily("ghostfolio_plaid_sync_jobs", "Sync jobs by status", labels=["status"])
    seconds = GaugeMetricFamily(
        "ghostfolio_plaid_sync_job_duration_seconds_total", "Summed duration of finished sync jobs", labels=["status"]
    )
    by_status = {str(row["status"]): row for row in rows}
    for status in SyncStatus:
        row = by_status.get(status.value, {})
        jobs.add_metric([status.value], row.get("jobs") or 0)
        seconds.add_metric([status.value], (row.get("ms") or 0) / 1000)
    return [jobs, seconds]


async def ghostfolio_families() -> list[Metric]:
    """Push runs by outcome and the outbox depth (changes Ghostfolio lacks); none while the database is down."""
    try:
        rows = await GhostfolioPush.all().group_by("outcome").annotate(runs=Count("id")).values("outcome", "runs")
        (waiting,) = await PlaidItem.all().annotate(pending=Sum("ghostfolio_pending")).values("pending")
    except DATABASE_DOWN:
        return []
    pushes = GaugeMetricFamily(
        "ghostfolio_plaid_ghostfolio_pushes", "Ghostfolio push runs by outcome", labels=["outcome"]
    )
    by_outcome = {str(row["outcome"]): int(row["runs"]) for row in rows}
    for outcome in sorted({*PUSH_OUTCOMES, *by_outcome}):
        pushes.add_metric([outcome], by_outcome.get(outcome, 0))
    depth = GaugeMetricFamily(
        "ghostfolio_plaid_ghostfolio_outbox_depth", "Changes waiting to be pushed to Ghostfolio, over all items"
    )
    depth.add_metric([], float(waiting["pending"] or 0))
    return [pushes, depth]


async def queue_depth(services: Services) -> float:
    """Jobs waiting in the sync queue; NaN while Redis cannot be asked."""
    queue = services.queue.queue
    try:
        depth: int = await asyncio.to_thread(lambda: queue.count)
    except RedisError:
        return float("nan")
    return float(depth)


def counted_here() -> CollectorRegistry:
    """This process's counters, or every API process's when ``serve`` runs several (multiprocess mode)."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return registry


async def metrics(request: Request) -> Response:
    refusal = refuse_without_operator_token(request)
    if refusal is not None:
        return refusal
    services: Services = request.app.state.services
    depth = GaugeMetricFamily("ghostfolio_plaid_queue_depth", "Sync jobs waiting in the queue")
    depth.add_metric([], await queue_depth(services))
    snapshot = CollectorRegistry()
    snapshot.register(_Snapshot([*await sync_job_families(), *await ghostfolio_families(), depth]))
    return Response(generate_latest(counted_here()) + generate_latest(snapshot), media_type=CONTENT_TYPE_LATEST)


METRICS_ROUTES = [Route("/metrics", metrics, methods=["GET"])]
