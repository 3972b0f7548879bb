"""Test-control endpoints under ``/emulator/``: not Plaid's, for tests, benchmarks and linking by hand.

They take no credentials and answer 400 ``{"error": "...", "error_code"?: "<Plaid's code>"}`` for a bad
request (``error_code`` when Plaid would refuse the same thing, e.g. INVALID_PRODUCT). Every endpoint, with
its body and answer, is described in ``docs/emulator.md``; ``CONTROL_ENDPOINTS`` gives the one-line summary
the index (``GET /``) shows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator.errors import PlaidErrorResponse, known_error_codes
from ghostfolio_plaid.plaid_emulator.fixtures import ItemShape
from ghostfolio_plaid.plaid_emulator.institutions import INSTITUTIONS
from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Fault, Item
from ghostfolio_plaid.plaid_emulator.validation import products, webhook_url
from ghostfolio_plaid.plaid_emulator.webhook_bodies import SANDBOX_CODES, WEBHOOKS, webhook_body
from ghostfolio_plaid.plaid_emulator.webhooks import send


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


def _bad(message: str, error_code: str | None = None) -> JSONResponse:
    body = {"error": message} if error_code is None else {"error": message, "error_code": error_code}
    return JSONResponse(body, status_code=400)


def _refused(error: PlaidErrorResponse) -> JSONResponse:
    """Plaid's refusal of the same request, in the control endpoints' error shape."""
    return _bad(error.error_message, error.error_code)


def link_metadata(item: Item) -> dict[str, Any]:
    """What Plaid Link hands the front end on success (``onSuccess`` metadata): the institution and accounts,
    ready for the service's ``POST /api/v1/plaid/exchange-token`` body."""
    institution = INSTITUTIONS[item.institution_id]
    return {
        "institution": {"institution_id": institution.institution_id, "name": institution.name},
        "accounts": [
            {"id": a["account_id"], "name": a["name"], "mask": a["mask"], "type": a["type"], "subtype": a["subtype"]}
            for a in item.data.accounts
        ],
    }


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
        item_products = products(body.get("products", ["investments"]), "products")
        webhook = webhook_url(body.get("webhook"), "webhook")
    except PlaidErrorResponse as exc:
        return _refused(exc)
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    state = _state(request)
    item = state.create_item(institution_id, item_products, shape, webhook)
    return JSONResponse(
        {
            "item_id": item.item_id,
            "access_token": state.issue_access_token(item),
            "public_token": state.issue_public_token(item),
            "metadata": link_metadata(item),
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
            if not set(INSTITUTIONS[institution_id].country_codes) & set(token["country_codes"]):
                raise ValueError(
                    f"{institution_id} is not in the link token's country_codes ({', '.join(token['country_codes'])})"
                )
        except ValueError as exc:
            with state.lock:
                state.link_tokens[str(body.get("link_token"))] = token
            return _bad(str(exc))
        item = state.create_item(institution_id, token["products"], ItemShape(), token.get("webhook"))
    return JSONResponse(
        {"public_token": state.issue_public_token(item), "item_id": item.item_id, "metadata": link_metadata(item)}
    )


async def revise_item(request: Request) -> Response:
    """Plaid revising its recent past: the item's next revision (the ``traps`` dataset has one) -> its number."""
    state = _state(request)
    item_id = request.path_params["item_id"]
    with state.lock:
        item = state.items.get(item_id)
        if item is None or item.removed:
            return _bad(f"unknown item_id {item_id!r}")
        try:
            revision = item.revise()
        except ValueError as exc:
            return _bad(str(exc))
    return JSONResponse({"item_id": item_id, "revision": revision})


async def fire_webhook(request: Request) -> Response:
    """Fire any webhook the emulator can send, including the ITEM codes Plaid's own ``/sandbox/item/fire_webhook``
    refuses (PENDING_EXPIRATION, WEBHOOK_UPDATE_ACKNOWLEDGED): ``{"item_id", "webhook_code", "webhook_type"?}``."""
    try:
        body = await _json(request)
    except ValueError as exc:
        return _bad(str(exc))
    state = _state(request)
    item = state.items.get(str(body.get("item_id")))
    if item is None or item.removed:
        return _bad(f"unknown item_id {body.get('item_id')!r}")
    code = body.get("webhook_code")
    kind = body.get("webhook_type") or SANDBOX_CODES.get(str(code), "ITEM")
    if not isinstance(kind, str) or not isinstance(code, str) or (kind, code) not in WEBHOOKS:
        codes = sorted({f"{t}:{c}" for t, c in WEBHOOKS})
        return _bad(f"cannot fire {kind}:{code}; the emulator fires {', '.join(codes)}")
    if not item.webhook:
        return _refused(PlaidErrorResponse("SANDBOX_WEBHOOK_INVALID"))
    try:
        payload = webhook_body(item, kind, code)
    except PlaidErrorResponse as exc:
        return _refused(exc)
    send(state, item, payload)
    return JSONResponse({"webhook_fired": True, "body": payload})


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


# (method, path, handler, what it does): the routes, and the summary the index shows.
CONTROL_ENDPOINTS: list[tuple[str, str, Callable[[Request], Awaitable[Response]], str]] = [
    ("GET", "/emulator/requests", list_requests, "the Plaid calls received, in order, without secrets or tokens"),
    ("GET", "/emulator/webhooks", list_webhooks, "webhook deliveries as they complete, with the receiver's status"),
    ("POST", "/emulator/webhooks", fire_webhook, "fire any webhook at an item, PENDING_EXPIRATION included"),
    ("POST", "/emulator/reset", reset, "forget items, tokens, logs, deliveries and faults (the signing key stays)"),
    ("POST", "/emulator/items", seed_item, "create an item of any size; answers its access and public tokens"),
    (
        "POST",
        "/emulator/items/{item_id}/revise",
        revise_item,
        "Plaid revising an item's recent past: revised and withdrawn transactions (traps dataset)",
    ),
    ("POST", "/emulator/link/complete", complete_link, "a user finishing Plaid Link with a link token"),
    ("POST", "/emulator/faults", add_fault, "make the next calls of a path fail, stall or answer garbage"),
    ("GET", "/emulator/faults", list_faults, "the pending faults"),
    ("DELETE", "/emulator/faults", clear_faults, "clear every pending fault"),
]
CONTROL_ROUTES = [Route(path, handler, methods=[method]) for method, path, handler, _ in CONTROL_ENDPOINTS]
