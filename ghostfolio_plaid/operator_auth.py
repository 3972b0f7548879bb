"""``METRICS_TOKEN``: an optional bearer token for the operator's endpoints (``/metrics``, ``/readyz``).

They are meant to sit behind the operator's network; the token is a second fence for deployments where the
port is reachable from further away. It is compared in constant time, so timing tells nothing about it.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from ghostfolio_plaid.resolvers.services import Services


def refuse_without_operator_token(request: Request) -> Response | None:
    """A 401 answer when ``METRICS_TOKEN`` is set and the request does not carry it; ``None`` to go on."""
    services: Services = request.app.state.services
    expected = services.settings.metrics_token
    if not expected:
        return None
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode()):
        return None
    return JSONResponse(
        {"statusCode": 401, "message": "This endpoint needs Authorization: Bearer <METRICS_TOKEN>"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )
