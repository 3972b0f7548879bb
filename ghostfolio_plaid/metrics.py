"""Prometheus metrics at ``/metrics``.

Requests and webhook verifications are counted where they happen (this process). Sync jobs run in workers,
so their outcomes and durations are read from the database, and the queue depth from Redis, at scrape time:
every API process reports the same truth without workers exposing ports of their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope
from strawberry.extensions import SchemaExtension
from tortoise.functions import Count, Sum

from ghostfolio_plaid.models import SyncJob, SyncStatus
from ghostfolio_plaid.resolvers.services import Services

REGISTRY = CollectorRegistry()
REQUESTS = Counter("ghostfolio_plaid_http_requests", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "ghostfolio_plaid_http_request_duration_seconds", "HTTP request latency", ["method", "route"], registry=REGISTRY
)
GRAPHQL = Counter("ghostfolio_plaid_graphql_operations", "GraphQL operations", ["type", "name"], registry=REGISTRY)
WEBHOOKS = Counter("ghostfolio_plaid_webhook_verifications", "Webhook verifications", ["result"], registry=REGISTRY)
SYNC_JOBS = Gauge("ghostfolio_plaid_sync_jobs", "Sync jobs by status", ["status"], registry=REGISTRY)
SYNC_SECONDS = Gauge(
    "ghostfolio_plaid_sync_job_duration_seconds_total",
    "Summed duration of finished sync jobs",
    ["status"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge("ghostfolio_plaid_queue_depth", "Sync jobs waiting in the queue", registry=REGISTRY)


def route_template(scope: Scope) -> str:
    """The matched route with its parameters named (``/sync/{plaidItemId}``), never raw ids."""
    path: str = scope.get("path", "")
    if "endpoint" not in scope:
        return "unmatched"
    for name, value in (scope.get("path_params") or {}).items():
        path = path.replace(str(value), "{" + name + "}")
    return path


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


class CountOperations(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.graphql_document is None:
            GRAPHQL.labels("unparsed", "anonymous").inc()
            return
        GRAPHQL.labels(context.operation_type.value, context.operation_name or "anonymous").inc()


async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    rows = (
        await SyncJob.all()
        .group_by("status")
        .annotate(jobs=Count("id"), ms=Sum("duration_ms"))
        .values("status", "jobs", "ms")
    )
    by_status = {str(row["status"]): row for row in rows}
    for status in SyncStatus:
        row = by_status.get(status.value, {})
        SYNC_JOBS.labels(status.value).set(row.get("jobs") or 0)
        SYNC_SECONDS.labels(status.value).set((row.get("ms") or 0) / 1000)
    try:
        QUEUE_DEPTH.set(await asyncio.to_thread(services.queue.queue.count))
    except Exception:
        QUEUE_DEPTH.set(float("nan"))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


METRICS_ROUTES = [Route("/metrics", metrics, methods=["GET"])]
