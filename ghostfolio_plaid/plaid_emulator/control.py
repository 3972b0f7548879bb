"""Test-control endpoints under ``/emulator/``: not Plaid's, for tests and benchmarks only."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator.errors import known_error_codes
from ghostfolio_plaid.plaid_emulator.fixtures import INSTITUTIONS, ItemShape
from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Fault


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _bad(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def list_requests(request: Request) -> Response:
    with _state(request).lock:
        return JSONResponse({"requests": list(_state(request).requests)})


async def list_webhooks(request: Request) -> Response:
    with _state(request).lock:
        return JSONResponse({"webhooks": list(_state(request).webhooks)})


async def reset(request: Request) -> Response:
    _state(request).reset()
    return JSONResponse({"reset": True})


async def seed_item(request: Request) -> Response:
    """Create an item directly, of any size: ``{"institution_id", "products", "webhook", "shape": {...}}``."""
    try:
        body = await _json(request)
        shape = ItemShape(**body.get("shape", {}))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    institution_id = body.get("institution_id", "ins_109508")
    if institution_id not in INSTITUTIONS:
        return _bad(f"unknown institution {institution_id}")
    state = _state(request)
    item = state.create_item(institution_id, body.get("products", ["investments"]), shape, body.get("webhook"))
    return JSONResponse(
        {
            "item_id": item.item_id,
            "access_token": state.issue_access_token(item),
            "public_token": state.issue_public_token(item),
        }
    )


async def complete_link(request: Request) -> Response:
    """Stand in for a user finishing Plaid Link: ``{"link_token", "institution_id"?}`` -> ``{"public_token"}``.

    In update mode the item's login is repaired (as after a successful re-authentication); otherwise a new
    item is created at the institution, with the link token's webhook.
    """
    try:
        body = await _json(request)
    except ValueError as exc:
        return _bad(str(exc))
    state = _state(request)
    with state.lock:
        token = state.link_tokens.pop(str(body.get("link_token")), None)
    if token is None:
        return _bad("unknown or already used link_token")
    if token["mode"] == "update":
        item = state.items[token["item_id"]]
        item.login_required = False
    else:
        institution_id = body.get("institution_id", "ins_109508")
        if institution_id not in INSTITUTIONS:
            return _bad(f"unknown institution {institution_id}")
        item = state.create_item(institution_id, token["products"], ItemShape(), token.get("webhook"))
    return JSONResponse({"public_token": state.issue_public_token(item), "item_id": item.item_id})


async def add_fault(request: Request) -> Response:
    """``{"path", "error_code"?, "status"?, "delay_ms"?, "times"?, "body"?}``; see ``Fault``."""
    try:
        fault = Fault(**await _json(request))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    if fault.error_code is not None and fault.error_code not in known_error_codes():
        return _bad(f"unknown error_code {fault.error_code}")
    state = _state(request)
    with state.lock:
        state.faults.append(fault)
        return JSONResponse({"faults": len(state.faults)})


async def clear_faults(request: Request) -> Response:
    state = _state(request)
    with state.lock:
        state.faults.clear()
    return JSONResponse({"faults": 0})


CONTROL_ROUTES = [
    Route("/emulator/requests", list_requests, methods=["GET"]),
    Route("/emulator/webhooks", list_webhooks, methods=["GET"]),
    Route("/emulator/reset", reset, methods=["POST"]),
    Route("/emulator/items", seed_item, methods=["POST"]),
    Route("/emulator/link/complete", complete_link, methods=["POST"]),
    Route("/emulator/faults", add_fault, methods=["POST"]),
    Route("/emulator/faults", clear_faults, methods=["DELETE"]),
]
