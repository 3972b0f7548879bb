"""The floor for ``GET /items``: a bare Starlette endpoint running the same SQL with asyncpg, no framework."""

import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SQL = (
    "SELECT i.id, i.institution_id, i.institution_name, i.last_synced_at, i.error, i.consent_expires_at, "
    "i.created_at, i.disconnected_at, COUNT(a.id) AS account_count FROM plaid_item i "
    "LEFT JOIN account a ON a.plaid_item_id = i.id WHERE i.user_id = $1 GROUP BY i.id ORDER BY i.created_at, i.id"
)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    app.state.pool = await asyncpg.create_pool(dsn, min_size=1, max_size=5)
    yield
    await app.state.pool.close()


async def items(request: Request) -> Response:
    rows = await request.app.state.pool.fetch(SQL, request.query_params["user"])
    return Response(json.dumps({"items": [dict(row) for row in rows]}, default=str), media_type="application/json")


app = Starlette(routes=[Route("/items", items)], lifespan=lifespan)

if __name__ == "__main__":
    uvicorn.run(
        "bare_items:app",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=2,
        log_level="warning",
        access_log=False,
        app_dir=os.path.dirname(__file__),
    )
