"""Ghostfolio 3.58's request DTOs as validation specs (``libs/common/src/lib/dtos/*.dto.ts`` and the query DTOs
of the activities and portfolio controllers).

Each property lists its checks in the order class-validator registers them: decorators apply bottom-up, so
``@IsNumber() @Min(0) fee`` reports "fee must not be less than 0" before "fee must be a number ...". A subclass's
own properties come before the inherited ones, and a property it redeclares replaces the parent's check of the
same kind (``CreateAssetProfileWithMarketDataDto.dataSource``).
"""

from __future__ import annotations

from typing import Any

from ghostfolio_plaid.ghostfolio_emulator.enums import (
    ACTIVITY_TYPES,
    ASSET_CLASSES,
    ASSET_SUB_CLASSES,
    DATA_SOURCES,
    DATE_RANGES,
    HOLDING_TYPES,
    ORDER_SCALAR_FIELDS,
)
from ghostfolio_plaid.ghostfolio_emulator.validation import (
    Check,
    Dto,
    Prop,
    after_1970_check,
    array_unique_check,
    currency_check,
    each_string_check,
    enum_check,
    is_array_check,
    is_boolean_check,
    is_in_check,
    is_int_check,
    is_number,
    is_number_check,
    is_string_check,
    iso8601_check,
    matches_check,
    min_check,
    trim_if_string,
    url_check,
    uuid_check,
)

_STRING = (is_string_check(),)
_NON_NEGATIVE = (min_check(0), is_number_check())  # @IsNumber() @Min(0)
_DATE = (after_1970_check(), iso8601_check())  # @IsISO8601() @Validate(IsAfter1970Constraint)
_TAG_IDS = (each_string_check(), is_array_check(), array_unique_check())  # @ArrayUnique() @IsArray() ...
_WEIGHT = (
    min_check(0),
    Check("max", lambda v: is_number(v) and v <= 1, "$property must not be greater than 1"),
    is_number_check(),
)


def _optional(name: str, *checks: Check, transform: Any = None) -> Prop:
    return Prop(name, tuple(checks), optional=True, transform=transform)


CREATE_ORDER = Dto(
    "CreateOrderDto",
    (
        _optional("accountId", *_STRING),
        _optional("assetClass", enum_check(ASSET_CLASSES)),
        _optional("assetSubClass", enum_check(ASSET_SUB_CLASSES)),
        _optional("comment", *_STRING, transform=trim_if_string),
        Prop("currency", (currency_check(),)),
        _optional("customCurrency", currency_check()),
        _optional("dataSource", enum_check(DATA_SOURCES)),
        Prop("date", _DATE),
        Prop("fee", _NON_NEGATIVE),
        Prop("quantity", _NON_NEGATIVE),
        Prop("symbol", _STRING),
        _optional("tags", *_TAG_IDS),
        Prop("type", (enum_check(ACTIVITY_TYPES),)),
        Prop("unitPrice", _NON_NEGATIVE),
        _optional("updateAccountBalance", is_boolean_check()),
    ),
)

UPDATE_ORDER = Dto(
    "UpdateOrderDto",
    (
        _optional("accountId", *_STRING),
        _optional("assetClass", enum_check(ASSET_CLASSES)),
        _optional("assetSubClass", enum_check(ASSET_SUB_CLASSES)),
        _optional("comment", *_STRING, transform=trim_if_string),
        Prop("currency", (currency_check(),)),
        _optional("customCurrency", currency_check()),
        Prop("dataSource", _STRING),  # @IsString() only: "FOO" passes and fails in the database (500)
        Prop("date", _DATE),
        Prop("fee", _NON_NEGATIVE),
        Prop("id", _STRING),
        Prop("quantity", _NON_NEGATIVE),
        Prop("symbol", _STRING),
        _optional("tags", *_TAG_IDS),
        Prop("type", _STRING),  # @IsString() only, as above
        Prop("unitPrice", _NON_NEGATIVE),
    ),
)

_ACCOUNT_PROPS = (
    _optional("balance", is_number_check()),
    _optional("comment", *_STRING, transform=trim_if_string),
    Prop("currency", (currency_check(),)),
    _optional("id", *_STRING),
    Prop("name", _STRING),
    Prop("platformId", _STRING, skip_if_null=True),  # required key: a string or null
    _optional("tags", *_TAG_IDS),
)

CREATE_ACCOUNT = Dto("CreateAccountDto", _ACCOUNT_PROPS)

CREATE_ACCOUNT_WITH_BALANCES = Dto(
    "CreateAccountWithBalancesDto",
    (_optional("balances", is_array_check()), _optional("isExcluded", is_boolean_check()), *_ACCOUNT_PROPS),
)

CREATE_ACCOUNT_BALANCE = Dto(
    "CreateAccountBalanceDto",
    (Prop("accountId", (uuid_check(),)), Prop("balance", (is_number_check(),)), Prop("date", (iso8601_check(),))),
)

_COUNTRY = Dto(
    "CountryDto",
    (
        Prop(
            "code",
            (
                Check(
                    "isISO31661Alpha2",
                    lambda v: isinstance(v, str) and len(v) == 2 and v.isascii() and v.isalpha(),
                    "$property must be a valid ISO31661 Alpha2 code",
                ),
            ),
        ),
        Prop("weight", _WEIGHT),
    ),
)
_HOLDING = Dto("HoldingDto", (Prop("allocationInPercentage", _WEIGHT), Prop("name", _STRING)))
_SECTOR = Dto("SectorDto", (Prop("name", _STRING), Prop("weight", _WEIGHT)))

CREATE_ASSET_PROFILE_WITH_MARKET_DATA = Dto(
    "CreateAssetProfileWithMarketDataDto",
    (
        Prop("dataSource", (is_in_check(("MANUAL",), "dataSource must be 'MANUAL'"),)),
        _optional("marketData", is_array_check()),
        _optional("assetClass", enum_check(ASSET_CLASSES)),
        _optional("assetSubClass", enum_check(ASSET_SUB_CLASSES)),
        _optional("comment", *_STRING),
        Prop("countries", (is_array_check(),), optional=True, nested=_COUNTRY),
        Prop("currency", (currency_check(),)),
        _optional("cusip", *_STRING),
        _optional("figi", *_STRING),
        _optional("figiComposite", *_STRING),
        _optional("figiShareClass", *_STRING),
        Prop("holdings", (is_array_check(),), optional=True, nested=_HOLDING),
        _optional("isActive", is_boolean_check()),
        _optional("isin", *_STRING),
        _optional("name", *_STRING),
        Prop("sectors", (is_array_check(),), optional=True, nested=_SECTOR),
        Prop("symbol", _STRING),
        _optional("url", url_check()),
    ),
)

CREATE_PLATFORM = Dto(
    "CreatePlatformDto", (_optional("id", *_STRING), Prop("name", _STRING), Prop("url", (url_check(),)))
)

CREATE_TAG = Dto("CreateTagDto", (_optional("id", *_STRING), Prop("name", _STRING), _optional("userId", *_STRING)))

IMPORT_DATA = Dto(
    "ImportDataDto",
    (
        Prop("accounts", (is_array_check(),), optional=True, nested=CREATE_ACCOUNT_WITH_BALANCES),
        Prop("activities", (is_array_check(),), nested=CREATE_ORDER),
        Prop("assetProfiles", (is_array_check(),), optional=True, nested=CREATE_ASSET_PROFILE_WITH_MARKET_DATA),
        Prop("platforms", (is_array_check(),), optional=True, nested=CREATE_PLATFORM),
        Prop("tags", (is_array_check(),), optional=True, nested=CREATE_TAG),
    ),
)

# --- query DTOs: every value arrives as a string (a list if the parameter is repeated) -------------------------

_DATE_RANGE = (matches_check(r"^(" + "|".join(DATE_RANGES) + r"|\d{4})$", "/^(1d|1y|5y|max|mtd|wtd|ytd|\\d{4})$/"),)


def js_number(value: Any) -> Any:
    """``@Type(() => Number)``: JavaScript's ``Number(value)`` for a query string (NaN is None here)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text == "":
        return 0
    try:
        number = float(text)
    except ValueError:
        return float("nan")
    return int(number) if number.is_integer() else number


def _split_commas(value: Any) -> Any:
    return value.split(",") if isinstance(value, str) else value


_FILTER_PROPS = (
    _optional("accounts", *_STRING),
    _optional("assetClasses", *_STRING),
    _optional("dataSource", *_STRING),
    _optional("symbol", *_STRING),
    _optional("tags", *_STRING),
)

GET_ACTIVITIES = Dto(
    "GetActivitiesDto",
    (
        _optional("skip", min_check(0), is_int_check(), transform=js_number),
        _optional("sortColumn", is_in_check(ORDER_SCALAR_FIELDS)),
        _optional("sortDirection", is_in_check(("asc", "desc"))),
        _optional("take", min_check(0), is_int_check(), transform=js_number),
        _optional("activityTypes", enum_check(ACTIVITY_TYPES, each=True), transform=_split_commas),
        _optional("range", *_DATE_RANGE),
        *_FILTER_PROPS,
    ),
)

GET_HOLDINGS = Dto(
    "GetHoldingsDto",
    (
        _optional("holdingType", is_in_check(HOLDING_TYPES)),
        _optional("query", *_STRING),
        Prop("range", _DATE_RANGE),  # defaults to "max"
        *_FILTER_PROPS,
    ),
)
