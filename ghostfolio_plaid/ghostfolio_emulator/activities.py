"""Activities (Ghostfolio's Orders): creating one the way ``ActivitiesService.createActivity`` does, updating,
deleting and listing them as the activities controller does (``apps/api/src/app/activities/``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ghostfolio_plaid.ghostfolio_emulator.dates import end_of_today, parse_date, start_of_day, utc_now
from ghostfolio_plaid.ghostfolio_emulator.enums import (
    ACTIVITY_TYPES,
    NON_INVESTMENT_ACTIVITY_TYPES,
    TAG_ID_DRAFT,
)
from ghostfolio_plaid.ghostfolio_emulator.errors import HttpError, ImportFailed
from ghostfolio_plaid.ghostfolio_emulator.serializers import activity_json
from ghostfolio_plaid.ghostfolio_emulator.state import Activity, EmulatorState, SymbolProfile, User, new_id
from ghostfolio_plaid.ghostfolio_emulator.symbols import is_custom_symbol


def is_draft_to_be_assigned(activity_type: str, date: datetime | None, original: datetime | None = None) -> bool:
    """Ghostfolio tags an investment activity dated after today "Draft" (kept out of the portfolio)."""
    if activity_type in NON_INVESTMENT_ACTIVITY_TYPES or date is None or date <= end_of_today():
        return False
    return original is None or original <= end_of_today()


def with_draft_tag(tag_ids: list[str], activity_type: str, date: datetime | None) -> list[str]:
    if not is_draft_to_be_assigned(activity_type, date) or TAG_ID_DRAFT in tag_ids:
        return list(tag_ids)
    return [*tag_ids, TAG_ID_DRAFT]


@dataclass
class NewActivity:
    """What the import hands ``createActivity``."""

    user_id: str
    account_id: str | None
    comment: str | None
    currency: str | None
    date: datetime | None
    fee: float
    quantity: float
    type: str
    unit_price: float
    data_source: str
    symbol: str
    name: str | None
    profile_currency: str
    tag_ids: list[str]


def create_activity(state: EmulatorState, new: NewActivity) -> tuple[Activity, SymbolProfile]:
    """Connect or create the asset profile, then write the activity (the caller holds the lock).

    FEE, INTEREST, LIABILITY and MANUAL BUY activities always get a MANUAL profile: the given symbol if it is a
    valid custom symbol, otherwise a fresh UUID named after the given symbol (so re-importing such an
    activity with a non-custom symbol never matches it as a duplicate). An unparseable date fails the database
    write; the activities written before stay (the import is not a transaction).
    """
    data_source, symbol, name = new.data_source, new.symbol, new.name
    user_id_of_profile = None
    if new.type in NON_INVESTMENT_ACTIVITY_TYPES or (data_source == "MANUAL" and new.type == "BUY"):
        data_source, user_id_of_profile = "MANUAL", new.user_id
        if not is_custom_symbol(symbol):
            name = name if name is not None else symbol
            symbol = new_id()
    elif data_source == "MANUAL":
        user_id_of_profile = new.user_id
    if new.date is None:
        raise ImportFailed(
            "\nInvalid `prisma.order.create()` invocation:\n\n\nInvalid value for argument `date`: "
            "Provided Date object is invalid. Expected Date."
        )
    profile = state.profile(data_source, symbol)
    if profile is None:
        profile = SymbolProfile(
            id=new_id(),
            data_source=data_source,
            symbol=symbol,
            currency=new.profile_currency,
            name=name,
            user_id=user_id_of_profile,
        )
        state.add_profile(profile)
    activity = Activity(
        id=new_id(),
        user_id=new.user_id,
        symbol_profile_id=profile.id,
        type=new.type,
        date=new.date,
        fee=float(new.fee),
        quantity=float(new.quantity),
        unit_price=float(new.unit_price),
        currency=new.currency,
        comment=new.comment or None,
        account_id=new.account_id,
        tag_ids=with_draft_tag(new.tag_ids, new.type, new.date),
    )
    state.activities[activity.id] = activity
    state.portfolio_changed(new.user_id)
    return activity, profile


def own_activity(state: EmulatorState, user: User, activity_id: str) -> Activity:
    """``order({id, userId})``: another user's activity is as unknown as a missing one (404)."""
    activity = state.activities.get(activity_id)
    if activity is None or activity.user_id != user.id:
        raise HttpError.plain(404)
    return activity


def update_activity(state: EmulatorState, user: User, activity_id: str, data: dict[str, Any]) -> Activity:
    """PUT /api/v1/activities/:id with a validated UpdateOrderDto.

    As in Ghostfolio: the symbol is not checked against a data provider; a symbol without an asset profile,
    an account of someone else, an invalid type or date are database errors (500); the body's ``id`` is
    written too (a different id renames the activity); tags that do not exist are a 400 "Bad Request".
    """
    activity = own_activity(state, user, activity_id)
    date = parse_date(data["date"])
    tags_provided = "tags" in data  # null counts as provided: Ghostfolio then sets no tags
    requested_tags = list(dict.fromkeys(data.get("tags") or []))
    known = {tag.id for tag in state.tags_for(user.id)}
    if any(tag_id not in known for tag_id in requested_tags):
        raise HttpError.plain(400)
    activity_type, data_source, symbol = data["type"], data["dataSource"], data["symbol"]
    if date is None or activity_type not in ACTIVITY_TYPES:
        raise HttpError.internal()
    account_id = data.get("accountId")
    if account_id and state.account(user.id, account_id) is None:
        raise HttpError.internal()
    profile = state.profiles[activity.symbol_profile_id]
    if activity_type in NON_INVESTMENT_ACTIVITY_TYPES or (data_source == "MANUAL" and activity_type == "BUY"):
        for field, attribute in (("assetClass", "asset_class"), ("assetSubClass", "asset_sub_class")):
            if data.get(field) is not None:
                setattr(profile, attribute, data[field])
    else:
        target = state.profile(data_source, symbol)
        if target is None:
            raise HttpError.internal()
        profile = target
    new_id_of_activity = data["id"]
    if new_id_of_activity != activity.id and new_id_of_activity in state.activities:
        raise HttpError.internal()
    original_date = activity.date
    activity.account_id = account_id or None
    activity.comment = data.get("comment") or None
    activity.currency = data.get("customCurrency") or data["currency"]
    activity.date = date
    activity.fee = float(data["fee"])
    activity.quantity = float(data["quantity"])
    activity.unit_price = float(data["unitPrice"])
    activity.type = activity_type
    activity.symbol_profile_id = profile.id
    activity.updated_at = utc_now()
    if tags_provided:
        if is_draft_to_be_assigned(activity_type, date, original_date) and TAG_ID_DRAFT not in requested_tags:
            requested_tags.append(TAG_ID_DRAFT)
        activity.tag_ids = requested_tags
    elif is_draft_to_be_assigned(activity_type, date, original_date) and TAG_ID_DRAFT not in activity.tag_ids:
        activity.tag_ids.append(TAG_ID_DRAFT)
    if new_id_of_activity != activity.id:
        del state.activities[activity.id]
        activity.id = new_id_of_activity
        state.activities[activity.id] = activity
    state.portfolio_changed(user.id)
    return activity


def delete_activity(state: EmulatorState, user: User, activity_id: str) -> Activity:
    activity = own_activity(state, user, activity_id)
    del state.activities[activity.id]
    state.delete_profile_if_unused(activity.symbol_profile_id)
    state.portfolio_changed(user.id)
    return activity


def _range_start(date_range: str, today: datetime) -> datetime | None:
    """``getIntervalFromDateRange``'s start (the end is today, or the year's end for a year)."""
    if date_range == "max":
        return None
    if date_range.isdigit():
        return datetime(int(date_range), 1, 1, tzinfo=today.tzinfo)
    starts = {
        "1d": today - timedelta(days=1),
        "1y": today.replace(year=today.year - 1) if not (today.month == 2 and today.day == 29) else today,
        "5y": today.replace(year=today.year - 5) if not (today.month == 2 and today.day == 29) else today,
        "mtd": today.replace(day=1),
        "wtd": today - timedelta(days=today.weekday()),
        "ytd": today.replace(month=1, day=1),
    }
    return starts.get(date_range)


def filter_activities(
    profiles: Mapping[str, SymbolProfile], activities: list[Activity], query: dict[str, Any]
) -> list[Activity]:
    """The filters of the activities and portfolio routes: accounts, assetClasses, dataSource, symbol, tags."""
    accounts = query["accounts"].split(",") if query.get("accounts") else None
    asset_classes = query["assetClasses"].split(",") if query.get("assetClasses") else None
    tags = query["tags"].split(",") if query.get("tags") else None
    kept = []
    for activity in activities:
        profile = profiles[activity.symbol_profile_id]
        if accounts is not None and activity.account_id not in accounts:
            continue
        if asset_classes is not None and profile.asset_class not in asset_classes:
            continue
        if query.get("dataSource") and profile.data_source != query["dataSource"]:
            continue
        if query.get("symbol") and profile.symbol != query["symbol"]:
            continue
        if tags is not None and not set(tags) & set(activity.tag_ids):
            continue
        kept.append(activity)
    return kept


# Prisma's Order columns (GET /api/v1/activities?sortColumn=) and the attributes that hold them.
_SORT_ATTRIBUTES = {
    "accountId": "account_id",
    "accountUserId": "account_id",
    "comment": "comment",
    "createdAt": "created_at",
    "currency": "currency",
    "date": "date",
    "fee": "fee",
    "id": "id",
    "quantity": "quantity",
    "symbolProfileId": "symbol_profile_id",
    "type": "type",
    "unitPrice": "unit_price",
    "updatedAt": "updated_at",
    "userId": "user_id",
}


def list_activities(state: EmulatorState, user: User, query: dict[str, Any]) -> dict[str, Any]:
    """GET /api/v1/activities: ``{activities, count}``, oldest first (then by id), drafts included."""
    activities = filter_activities(state.profiles, state.activities_of(user.id), query)
    if query.get("activityTypes"):
        activities = [a for a in activities if a.type in query["activityTypes"]]
    if query.get("range"):
        today = start_of_day(utc_now())
        start = _range_start(query["range"], today)
        is_year = query["range"].isdigit()
        end = datetime(int(query["range"]), 12, 31, 23, 59, 59, tzinfo=today.tzinfo) if is_year else None
        activities = [a for a in activities if (start is None or a.date >= start) and (end is None or a.date <= end)]
    column = query.get("sortColumn") or "date"
    attribute = _SORT_ATTRIBUTES[column]

    def sort_key(activity: Activity) -> tuple[bool, Any, str]:
        value = getattr(activity, attribute)
        if column == "accountUserId":
            value = activity.user_id if activity.account_id else None
        return (value is None, value if value is not None else "", activity.id)

    ordered = sorted(activities, key=sort_key, reverse=query.get("sortDirection") == "desc")
    skip = query.get("skip") or 0
    take = query.get("take")
    page = ordered[skip : None if take is None else skip + take]
    return {"activities": [activity_json(state, activity) for activity in page], "count": len(ordered)}
