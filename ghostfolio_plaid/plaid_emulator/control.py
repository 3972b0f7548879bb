"""Test-control endpoints under ``/emulator/``: not Plaid's, for tests and benchmarks only (no credentials).

They answer ``{"error": "..."}`` with 400 for a bad request; see the package docstring for the shapes.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator.errors import PlaidErrorResponse, known_error_codes
from ghostfolio_plaid.plaid_emulator.fixtures import INSTITUTIONS, ItemShape
from ghostfolio_plaid.plaid_emulator.plaid_routes import KNOWN_PRODUCTS, webhook_url
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


def _institution(body: dict[str, Any]) -> str:
    institution_id = body.get("institution_id", "ins_109508")
    if not isinstance(institution_id, str) or institution_id not in INSTITUTIONS:
        raise ValueError(f"unknown institution_id {institution_id!r}; known: {', '.join(INSTITUTIONS)}")
    return institution_id


async def seed_item(request: Request) -> Response:
    """Create an item directly, of any size: ``{"institution_id", "products", "webhook", "shape": {...}}``."""
    try:
        body = await _json(request)
        shape_fields = body.get("shape", {})
        if not isinstance(shape_fields, dict):
            raise ValueError("shape must be an object")
        shape = ItemShape(**shape_fields)
        institution_id = _institution(body)
        products = body.get("products", ["investments"])
        if not isinstance(products, list) or not products or any(p not in KNOWN_PRODUCTS for p in products):
            raise ValueError(f"products must be a non-empty array of {', '.join(sorted(KNOWN_PRODUCTS))}")
        webhook = webhook_url(body.get("webhook"), "webhook")
    except PlaidErrorResponse as exc:
        return _bad(exc.error_message)
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    state = _state(request)
    item = state.create_item(institution_id, products, shape, webhook)
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
    if token["expires_at"] < time.time():
        return _bad("link_token expired (link tokens live 4 hours)")
    if token["mode"] == "update":
        item = state.items[token["item_id"]]
        item.login_required = False
        if token.get("webhook"):
            item.webhook = token["webhook"]
    else:
        try:
            institution_id = _institution(body)
        except ValueError as exc:
            with state.lock:
                state.link_tokens[str(body.get("link_token"))] = token
            return _bad(str(exc))
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


async def list_faults(request: Request) -> Response:
    state = _state(request)
    with state.lock:
        return JSONResponse({"faults": [asdict(fault) for fault in state.faults]})


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
    Route("/emulator/faults", list_faults, methods=["GET"]),
    Route("/emulator/faults", clear_faults, methods=["DELETE"]),
]
