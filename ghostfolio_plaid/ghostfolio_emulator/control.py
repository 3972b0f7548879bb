"""Test-control endpoints under ``/emulator/``: not Ghostfolio's, for tests, benchmarks and the demo only.

No authentication; a bad request answers 400 ``{"error": "..."}``. Shapes are in the package docstring.
Nothing here ever returns a JWT or security token except ``POST /emulator/users`` (which mints them).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.ghostfolio_emulator.api_routes import emulator_state
from ghostfolio_plaid.ghostfolio_emulator.auth import issue_auth_token
from ghostfolio_plaid.ghostfolio_emulator.enums import ROLES
from ghostfolio_plaid.ghostfolio_emulator.portfolio import current_balance
from ghostfolio_plaid.ghostfolio_emulator.serializers import (
    account_row,
    balance_row,
    js_numbers,
    market_price_json,
    order_row,
    platform_json,
    profile_row,
    tag_json,
)
from ghostfolio_plaid.ghostfolio_emulator.state import EmulatorState, Fault


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


async def reset(request: Request) -> Response:
    emulator_state(request).reset()
    return JSONResponse({"reset": True})


async def create_user(request: Request) -> Response:
    """``{"id"?, "role"?: "USER"}`` -> 201 ``{"id", "role", "accessToken", "authToken"}``; an existing id
    answers 200 with the same user (and its role changed, if one is given)."""
    try:
        body = await _json(request)
    except ValueError as exc:
        return _bad(str(exc))
    user_id, role = body.get("id"), body.get("role")
    if user_id is not None and (not isinstance(user_id, str) or not user_id or len(user_id) > 255):
        return _bad("id must be a non-empty string of at most 255 characters")
    if role is not None and role not in ROLES:
        return _bad(f"role must be one of {', '.join(ROLES)}")
    state = emulator_state(request)
    with state.lock:
        user = state.users.get(user_id) if user_id else None
        status = 200 if user is not None else 201
        if user is None:
            user = state.create_user(user_id, role or "USER")
        elif role is not None:
            user.role = role
    return JSONResponse(
        {
            "id": user.id,
            "role": user.role,
            "accessToken": user.access_token,
            "authToken": issue_auth_token(user.id, state.config.jwt_secret),
        },
        status_code=status,
    )


async def list_users(request: Request) -> Response:
    state = emulator_state(request)
    with state.lock:
        return JSONResponse({"users": [{"id": u.id, "role": u.role} for u in state.users.values()]})


async def list_requests(request: Request) -> Response:
    state = emulator_state(request)
    with state.lock:
        return JSONResponse({"requests": [dict(entry) for entry in state.requests]})


async def clear_requests(request: Request) -> Response:
    state = emulator_state(request)
    with state.lock:
        state.requests.clear()
    return JSONResponse({"requests": []})


def dump(state: EmulatorState, user_id: str | None) -> dict[str, Any]:
    """Everything the instance stores (one user's part of it with ``userId``), tokens left out."""
    accounts = [a for (owner, _), a in state.accounts.items() if user_id is None or owner == user_id]
    activities = [a for a in state.activities.values() if user_id is None or a.user_id == user_id]
    used = {a.symbol_profile_id for a in activities}
    profiles = [p for p in state.profiles.values() if user_id is None or p.id in used or p.user_id == user_id]
    answer: dict[str, Any] = js_numbers(
        {
            "settings": state.settings.as_json(),
            "users": [{"id": u.id, "role": u.role} for u in state.users.values() if user_id in (None, u.id)],
            "accounts": [account_row(a) | {"balance": current_balance(state, a)} for a in accounts],
            "balances": [
                balance_row(b)
                for b in sorted(state.balances.values(), key=lambda b: (b.account_id, b.date))
                if user_id is None or b.user_id == user_id
            ],
            "activities": [
                order_row(a)
                | {
                    "dataSource": state.profiles[a.symbol_profile_id].data_source,
                    "symbol": state.profiles[a.symbol_profile_id].symbol,
                    "tagIds": list(a.tag_ids),
                }
                for a in sorted(activities, key=lambda a: (a.date, a.id))
            ],
            "assetProfiles": [
                profile_row(p)
                | {"marketData": [market_price_json(m) for m in state.prices_of(p.data_source, p.symbol)]}
                for p in profiles
            ],
            "platforms": [platform_json(p) for p in state.platforms.values()],
            "tags": [tag_json(t) for t in state.tags.values() if user_id is None or t.user_id in (None, user_id)],
        }
    )
    return answer


async def state_dump(request: Request) -> Response:
    state = emulator_state(request)
    with state.lock:
        return JSONResponse(dump(state, request.query_params.get("userId")))


async def add_fault(request: Request) -> Response:
    """``{"path", "method"?, "status"?, "times"?: 1, "delay_ms"?: 0, "body"?}``; see ``Fault``."""
    try:
        fault = Fault(**await _json(request))
    except (ValueError, TypeError) as exc:
        return _bad(str(exc))
    state = emulator_state(request)
    with state.lock:
        state.faults.append(fault)
        return JSONResponse({"faults": len(state.faults)})


async def list_faults(request: Request) -> Response:
    state = emulator_state(request)
    with state.lock:
        return JSONResponse({"faults": [asdict(f) for f in state.faults]})


async def clear_faults(request: Request) -> Response:
    state = emulator_state(request)
    with state.lock:
        state.faults.clear()
    return JSONResponse({"faults": 0})


async def set_offline(request: Request) -> Response:
    """``{"offline": true}``: every YAHOO/COINGECKO symbol becomes unresolvable, like an instance without
    internet access; ``false`` brings the data providers back."""
    try:
        offline = (await _json(request)).get("offline")
    except ValueError as exc:
        return _bad(str(exc))
    if not isinstance(offline, bool):
        return _bad("offline must be true or false")
    state = emulator_state(request)
    with state.lock:
        state.settings.offline = offline
    return JSONResponse({"offline": offline})


async def get_config(request: Request) -> Response:
    state = emulator_state(request)
    with state.lock:
        return JSONResponse(state.settings.as_json())


def _apply_settings(state: EmulatorState, body: dict[str, Any]) -> None:
    unknown = set(body) - set(state.settings.as_json())
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    if "offline" in body and not isinstance(body["offline"], bool):
        raise ValueError("offline must be true or false")
    if "auto_create_users" in body and not isinstance(body["auto_create_users"], bool):
        raise ValueError("auto_create_users must be true or false")
    cap = body.get("max_activities_to_import")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 0):
        raise ValueError("max_activities_to_import must be a non-negative integer or null")
    symbols = body.get("known_symbols")
    if "known_symbols" in body and (not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols)):
        raise ValueError("known_symbols must be an array of strings")
    debounce = body.get("portfolio_debounce_seconds")
    if "portfolio_debounce_seconds" in body and (
        isinstance(debounce, bool) or not isinstance(debounce, int | float) or debounce < 0
    ):
        raise ValueError("portfolio_debounce_seconds must be a non-negative number")
    settings = state.settings
    settings.offline = body.get("offline", settings.offline)
    settings.auto_create_users = body.get("auto_create_users", settings.auto_create_users)
    if "max_activities_to_import" in body:
        settings.max_activities_to_import = cap
    if symbols is not None:
        settings.known_symbols = frozenset(symbols)
    if debounce is not None:
        settings.portfolio_debounce_seconds = float(debounce)


async def set_config(request: Request) -> Response:
    """Change any of ``offline``, ``max_activities_to_import``, ``auto_create_users``, ``known_symbols`` and
    ``portfolio_debounce_seconds``; answers all settings."""
    state = emulator_state(request)
    try:
        body = await _json(request)
        with state.lock:
            _apply_settings(state, body)
    except ValueError as exc:
        return _bad(str(exc))
    with state.lock:
        return JSONResponse(state.settings.as_json())


CONTROL_ROUTES = [
    Route("/emulator/reset", reset, methods=["POST"]),
    Route("/emulator/users", create_user, methods=["POST"]),
    Route("/emulator/users", list_users, methods=["GET"]),
    Route("/emulator/requests", list_requests, methods=["GET"]),
    Route("/emulator/requests", clear_requests, methods=["DELETE"]),
    Route("/emulator/state", state_dump, methods=["GET"]),
    Route("/emulator/faults", add_fault, methods=["POST"]),
    Route("/emulator/faults", list_faults, methods=["GET"]),
    Route("/emulator/faults", clear_faults, methods=["DELETE"]),
    Route("/emulator/offline", set_offline, methods=["POST"]),
    Route("/emulator/config", get_config, methods=["GET"]),
    Route("/emulator/config", set_config, methods=["POST"]),
]
