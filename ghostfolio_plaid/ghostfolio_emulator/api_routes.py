"""Ghostfolio's HTTP API (the routes this emulator serves), with NestJS's request pipeline in front of each:
JSON body parsing, ``AuthGuard('jwt')``, ``HasPermissionGuard``, the ValidationPipe, then the handler.

POST routes answer 201 (NestJS's default), the others 200. See the package docstring for the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ghostfolio_plaid.ghostfolio_emulator import accounts, activities, portfolio
from ghostfolio_plaid.ghostfolio_emulator.auth import authenticate, issue_auth_token, require_permission
from ghostfolio_plaid.ghostfolio_emulator.dtos import (
    CREATE_ACCOUNT,
    CREATE_ACCOUNT_BALANCE,
    GET_ACTIVITIES,
    GET_HOLDINGS,
    IMPORT_DATA,
    UPDATE_ORDER,
)
from ghostfolio_plaid.ghostfolio_emulator.enums import DATA_SOURCES, ENABLED_DATA_SOURCES
from ghostfolio_plaid.ghostfolio_emulator.errors import HttpError, ImportFailed
from ghostfolio_plaid.ghostfolio_emulator.import_service import run_import
from ghostfolio_plaid.ghostfolio_emulator.serializers import (
    NestJSONResponse,
    account_row,
    activity_json,
    balance_row,
    order_row,
)
from ghostfolio_plaid.ghostfolio_emulator.state import EmulatorState, User
from ghostfolio_plaid.ghostfolio_emulator.validation import Dto, validated

MAX_BODY_BYTES = 10 * 1024 * 1024  # app.useBodyParser('json', { limit: '10mb' })
LOG_ENTRY = "ghostfolio_emulator.log_entry"


def error_response(error: HttpError) -> Response:
    return NestJSONResponse(error.body, status_code=error.status)


def emulator_state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.ghostfolio
    return state


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token '{name[0]}', \"{name}\" is not valid JSON")


async def read_json(request: Request) -> Any:
    """Express's ``json()`` parser: only ``application/json`` bodies are read (others give no body); an empty
    body is none; a body that is not a JSON object or array is a 400; over 10 MB is a 413."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return None
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise HttpError(413, {"statusCode": 413, "message": "request entity too large"})
    if not raw.strip():
        return None
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, {"statusCode": 400, "message": str(exc)}) from None
    if not isinstance(value, dict | list):
        raise HttpError(400, {"statusCode": 400, "message": f"Unexpected token in JSON: {raw[:20]!r}"})
    return value


def query_dict(request: Request) -> dict[str, Any]:
    """Express 5's query parser: a repeated parameter becomes an array."""
    result: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        result[key] = values if len(values) > 1 else values[0]
    return result


@dataclass
class Call:
    state: EmulatorState
    user: User
    request: Request
    body: dict[str, Any]
    query: dict[str, Any]

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])


Handler = Callable[[Call], Any]


def api_route(
    path: str,
    method: str,
    handler: Handler,
    *,
    permission: str | None = None,
    body_dto: Dto | None = None,
    query_dto: Dto | None = None,
    query_defaults: dict[str, Any] | None = None,
) -> Route:
    """An authenticated Ghostfolio route; the handler runs under the state's lock."""
    status = 201 if method == "POST" else 200

    async def endpoint(request: Request) -> Response:
        state = emulator_state(request)
        try:
            raw_body = await read_json(request)
            user = authenticate(state, request.headers.get("authorization"))
            entry = request.scope.get(LOG_ENTRY)
            if entry is not None:
                entry["user_id"] = user.id
            if permission is not None:
                require_permission(user, permission)
            query = query_dict(request)
            if query_dto is not None:
                query = validated(query_dto, {**(query_defaults or {}), **query})
            body = validated(body_dto, raw_body) if body_dto is not None else {}
            with state.lock:
                result = handler(Call(state, user, request, body, query))
        except HttpError as error:
            return error_response(error)
        except ImportFailed as failure:
            return error_response(failure.as_http())
        if result is None:  # a handler that returns undefined: an empty 200
            return Response(status_code=status)
        return NestJSONResponse(result, status_code=status)

    return Route(path, endpoint, methods=[method])


# --- unauthenticated routes ----------------------------------------------------------------------------------


async def health(request: Request) -> Response:
    return NestJSONResponse({"status": "OK"})


async def data_provider_health(request: Request) -> Response:
    """GET /api/v1/health/data-provider/:dataSource: 404 for an unknown data source, 503 if it does not answer."""
    data_source = request.path_params["data_source"]
    if data_source not in DATA_SOURCES:
        return error_response(HttpError.plain(404))
    state = emulator_state(request)
    answers = data_source == "MANUAL" or (data_source in ENABLED_DATA_SOURCES and not state.settings.offline)
    if answers:
        return NestJSONResponse({"status": "OK"})
    return NestJSONResponse({"status": "Service Unavailable"}, status_code=503)


async def anonymous_login(request: Request) -> Response:
    """POST /api/v1/auth/anonymous ``{accessToken}`` -> 201 ``{authToken}``; anything else is a 403."""
    state = emulator_state(request)
    try:
        body = await read_json(request)
    except HttpError as error:
        return error_response(error)
    token = body.get("accessToken") if isinstance(body, dict) else None
    with state.lock:
        user = next((u for u in state.users.values() if isinstance(token, str) and u.access_token == token), None)
    if user is None:
        return error_response(HttpError.plain(403))
    entry = request.scope.get(LOG_ENTRY)
    if entry is not None:
        entry["user_id"] = user.id
    return NestJSONResponse({"authToken": issue_auth_token(user.id, state.config.jwt_secret)}, status_code=201)


# --- handlers ------------------------------------------------------------------------------------------------


def list_accounts(call: Call) -> Any:
    return portfolio.accounts_response(call.state, call.user.id)


def get_account(call: Call) -> Any:
    found = portfolio.accounts_response(call.state, call.user.id, only=call.param("id"))["accounts"]
    return found[0] if found else None


def create_account(call: Call) -> Any:
    return account_row(accounts.create_account(call.state, call.user, call.body))


def delete_account(call: Call) -> Any:
    return account_row(accounts.delete_account(call.state, call.user, call.param("id")))


def account_balances(call: Call) -> Any:
    account_id = call.param("id")
    own = [b for b in call.state.balances.values() if b.user_id == call.user.id and b.account_id == account_id]
    account = call.state.account(call.user.id, account_id)
    return {
        "balances": [
            {
                "account": account_row(account) if account else None,
                "accountId": b.account_id,
                "date": balance_row(b)["date"],
                "id": b.id,
                "value": b.value,
                "valueInBaseCurrency": b.value,
            }
            for b in sorted(own, key=lambda b: b.date)
        ]
    }


def create_balance(call: Call) -> Any:
    return balance_row(accounts.create_balance(call.state, call.user, call.body))


def delete_balance(call: Call) -> Any:
    return balance_row(accounts.delete_balance(call.state, call.user, call.param("id")))


def import_activities(call: Call) -> Any:
    """The controller also wants ``createAccount`` (checked after validation: a 403 after a clean body)."""
    require_permission(call.user, "createAccount")
    dry_run = call.query.get("dryRun") == "true"
    return {"activities": run_import(call.state, call.user, call.body, dry_run=dry_run)}


def list_activities(call: Call) -> Any:
    return activities.list_activities(call.state, call.user, call.query)


def get_activity(call: Call) -> Any:
    activity = activities.own_activity(call.state, call.user, call.param("id"))
    return activity_json(call.state, activity)


def update_activity(call: Call) -> Any:
    return order_row(activities.update_activity(call.state, call.user, call.param("id"), call.body))


def delete_activity(call: Call) -> Any:
    return order_row(activities.delete_activity(call.state, call.user, call.param("id")))


def holdings(call: Call) -> Any:
    return {"holdings": portfolio.holdings(call.state, call.user.id, call.query)}


API_ROUTES = [
    Route("/api/v1/health", health, methods=["GET"]),
    Route("/api/v1/health/data-provider/{data_source}", data_provider_health, methods=["GET"]),
    Route("/api/v1/auth/anonymous", anonymous_login, methods=["POST"]),
    api_route("/api/v1/account", "GET", list_accounts),
    api_route("/api/v1/account", "POST", create_account, permission="createAccount", body_dto=CREATE_ACCOUNT),
    api_route("/api/v1/account/{id}", "GET", get_account),
    api_route("/api/v1/account/{id}", "DELETE", delete_account, permission="deleteAccount"),
    api_route("/api/v1/account/{id}/balances", "GET", account_balances),
    api_route(
        "/api/v1/account-balance",
        "POST",
        create_balance,
        permission="createAccountBalance",
        body_dto=CREATE_ACCOUNT_BALANCE,
    ),
    api_route("/api/v1/account-balance/{id}", "DELETE", delete_balance, permission="deleteAccountBalance"),
    api_route("/api/v1/import", "POST", import_activities, permission="createActivity", body_dto=IMPORT_DATA),
    api_route("/api/v1/activities", "GET", list_activities, query_dto=GET_ACTIVITIES),
    api_route("/api/v1/activities/{id}", "GET", get_activity),
    api_route("/api/v1/activities/{id}", "PUT", update_activity, permission="updateActivity", body_dto=UPDATE_ORDER),
    api_route("/api/v1/activities/{id}", "DELETE", delete_activity, permission="deleteActivity"),
    api_route("/api/v1/portfolio/holdings", "GET", holdings, query_dto=GET_HOLDINGS, query_defaults={"range": "max"}),
]
