"""The JSON shapes of Ghostfolio's answers: Prisma rows as JavaScript serialises them.

Dates are ``Date.toJSON()`` strings; numbers follow ``JSON.stringify`` (``1.0`` is ``1``), which
``NestJSONResponse`` applies to every answer, so a client never sees a float where Ghostfolio sends an integer.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from ghostfolio_plaid.ghostfolio_emulator.dates import to_json
from ghostfolio_plaid.ghostfolio_emulator.state import (
    Account,
    AccountBalance,
    Activity,
    EmulatorState,
    MarketPrice,
    Platform,
    SymbolProfile,
    Tag,
)


def js_numbers(value: Any) -> Any:
    """Integral floats as integers, recursively: ``JSON.stringify(1.0) === "1"``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: js_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [js_numbers(item) for item in value]
    return value


class NestJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(js_numbers(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def tag_json(tag: Tag) -> dict[str, Any]:
    return {"id": tag.id, "name": tag.name, "userId": tag.user_id}


def platform_json(platform: Platform) -> dict[str, Any]:
    return {"id": platform.id, "name": platform.name, "url": platform.url}


def account_row(account: Account) -> dict[str, Any]:
    """The Account row (what POST and DELETE /api/v1/account answer): no balance column."""
    return {
        "comment": account.comment,
        "createdAt": to_json(account.created_at),
        "currency": account.currency,
        "id": account.id,
        "name": account.name,
        "platformId": account.platform_id,
        "updatedAt": to_json(account.updated_at),
        "userId": account.user_id,
    }


def balance_row(balance: AccountBalance) -> dict[str, Any]:
    return {
        "accountId": balance.account_id,
        "createdAt": to_json(balance.created_at),
        "date": to_json(balance.date),
        "id": balance.id,
        "updatedAt": to_json(balance.updated_at),
        "userId": balance.user_id,
        "value": balance.value,
    }


def profile_row(profile: SymbolProfile) -> dict[str, Any]:
    extra = profile.extra
    return {
        "assetClass": profile.asset_class,
        "assetSubClass": profile.asset_sub_class,
        "comment": extra.get("comment"),
        "countries": extra.get("countries"),
        "createdAt": to_json(profile.created_at),
        "currency": profile.currency,
        "cusip": extra.get("cusip"),
        "dataGatheringFrequency": "DAILY",
        "dataSource": profile.data_source,
        "figi": extra.get("figi"),
        "figiComposite": extra.get("figiComposite"),
        "figiShareClass": extra.get("figiShareClass"),
        "holdings": extra.get("holdings", []),
        "id": profile.id,
        "isActive": extra.get("isActive", True),
        "isin": extra.get("isin"),
        "name": profile.name,
        "scraperConfiguration": None,
        "sectors": extra.get("sectors"),
        "symbol": profile.symbol,
        "symbolMapping": None,
        "updatedAt": to_json(profile.updated_at),
        "url": extra.get("url"),
        "userId": profile.user_id,
    }


def market_price_json(price: MarketPrice) -> dict[str, Any]:
    return {"date": to_json(price.date), "marketPrice": price.market_price, "state": price.state}


def order_row(activity: Activity) -> dict[str, Any]:
    """The Order row (what PUT and DELETE /api/v1/activities/:id answer)."""
    return {
        "accountId": activity.account_id,
        "accountUserId": activity.user_id if activity.account_id else None,
        "comment": activity.comment,
        "createdAt": to_json(activity.created_at),
        "currency": activity.currency,
        "date": to_json(activity.date),
        "fee": activity.fee,
        "id": activity.id,
        "quantity": activity.quantity,
        "symbolProfileId": activity.symbol_profile_id,
        "type": activity.type,
        "unitPrice": activity.unit_price,
        "updatedAt": to_json(activity.updated_at),
        "userId": activity.user_id,
    }


def account_with_relations(state: EmulatorState, account: Account) -> dict[str, Any]:
    platform = state.platforms.get(account.platform_id) if account.platform_id else None
    return {
        **account_row(account),
        "platform": platform_json(platform) if platform else None,
        "tags": [tag_json(state.tags[tag_id]) for tag_id in account.tag_ids if tag_id in state.tags],
    }


def activity_json(state: EmulatorState, activity: Activity) -> dict[str, Any]:
    """One entry of GET /api/v1/activities: the Order with its account, asset profile and tags, plus values.

    Exchange rates are not emulated: amounts in another currency are counted 1:1 (as an instance without
    market data does).
    """
    profile = state.profiles[activity.symbol_profile_id]
    account = state.account(activity.user_id, activity.account_id) if activity.account_id else None
    value = activity.quantity * activity.unit_price
    return {
        **order_row(activity),
        "account": account_with_relations(state, account) if account else None,
        "SymbolProfile": profile_row(profile),
        "tags": [tag_json(state.tags[tag_id]) for tag_id in activity.tag_ids if tag_id in state.tags],
        "assetProfile": profile_row(profile),
        "feeInAssetProfileCurrency": activity.fee,
        "feeInBaseCurrency": activity.fee,
        "unitPriceInAssetProfileCurrency": activity.unit_price,
        "value": value,
        "valueInBaseCurrency": value,
    }
