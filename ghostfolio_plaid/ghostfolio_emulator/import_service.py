"""POST /api/v1/import, step by step as Ghostfolio 3.58's ``ImportService.import`` runs it
(``apps/api/src/app/import/import.service.ts`` and ``DataProviderService.validateActivities``).

The order of steps is what a client can observe, because the import is not a transaction:

1. MANUAL symbols (in ``assetProfiles`` and ``activities``) must be a UUID or start with ``GF_``; an activity
   without ``dataSource`` gets MANUAL (FEE, INTEREST, LIABILITY) or YAHOO. Nothing is written yet.
2. Platforms (creating one needs an admin), tags, accounts and the market data of the user's existing asset
   profiles are written (unless ``dryRun``).
3. ``validateActivities``: the ``MAX_ACTIVITIES_TO_IMPORT`` cap, the data source (COINGECKO, MANUAL or YAHOO),
   then each new (dataSource, symbol) must resolve at its data provider. The first failure answers 400 and
   what step 2 wrote stays.
4. Duplicates: an activity equal to one the user already has (comment, currency, dataSource, symbol, type,
   fee, quantity, unitPrice, date to the second; the account is ignored) is skipped without a word. Two equal
   activities in the same request are both written: only existing activities count.
5. New asset profiles that a written activity uses are created, then the activities one by one. A failing
   write (an impossible date such as 2024-02-31 passes validation) answers 400 and keeps the ones before it.

The answer is ``{"activities": [...]}``: the written activities (dry run: all of them, duplicates marked with
``error: {"code": "IS_DUPLICATE"}``), sorted by date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ghostfolio_plaid.ghostfolio_emulator.accounts import record_balance
from ghostfolio_plaid.ghostfolio_emulator.activities import NewActivity, create_activity, with_draft_tag
from ghostfolio_plaid.ghostfolio_emulator.dates import (
    is_prisma_datetime,
    parse_date,
    start_of_day,
    to_json,
    utc_now,
)
from ghostfolio_plaid.ghostfolio_emulator.enums import (
    DATA_SOURCE_IMPORT,
    ENABLED_DATA_SOURCES,
    NON_INVESTMENT_ACTIVITY_TYPES,
    ROLE_PERMISSIONS,
    TAG_ID_DRAFT,
    TAG_ID_EXCLUDE_FROM_ANALYSIS,
)
from ghostfolio_plaid.ghostfolio_emulator.errors import ImportFailed
from ghostfolio_plaid.ghostfolio_emulator.serializers import order_row, profile_row
from ghostfolio_plaid.ghostfolio_emulator.state import (
    Account,
    AccountBalance,
    EmulatorState,
    Platform,
    SymbolProfile,
    Tag,
    User,
    new_id,
)
from ghostfolio_plaid.ghostfolio_emulator.symbols import is_custom_symbol, resolve
from ghostfolio_plaid.ghostfolio_emulator.validation import is_number

MAX_SAFE_INTEGER = 2**53 - 1
_PRISMA_DATE_ERROR = "Invalid value for argument `date`: premature end of input. Expected ISO-8601 DateTime."


@dataclass
class _ProfileToCreate:
    fields: dict[str, Any]
    market_data: list[dict[str, Any]]


def _profile_key(data_source: str, symbol: str) -> str:
    return f"{data_source}-{symbol}"


def _prisma_datetime(value: Any, what: str) -> datetime:
    """A DateTime Prisma accepts from JSON: an RFC 3339 string with time and zone (``toISOString()``)."""
    if not is_prisma_datetime(value):
        raise ImportFailed(f"\nInvalid `prisma.{what}` invocation:\n\n\n{_PRISMA_DATE_ERROR}")
    parsed = parse_date(value)
    assert parsed is not None  # is_prisma_datetime parsed it already
    return parsed


def _duplicate_key(
    data_source: str, symbol: str, activity_type: str, fee: float, quantity: float, unit_price: float, date: Any
) -> tuple[Any, ...]:
    """The exact fields of Ghostfolio's duplicate test; the date to the second (``isSameSecond``)."""
    second = date.replace(microsecond=0) if isinstance(date, datetime) else None
    return (data_source, symbol, activity_type, fee, quantity, unit_price, second)


def _market_rows(profile: dict[str, Any], symbol: str) -> list[dict[str, Any]]:
    rows = []
    for item in profile.get("marketData") or []:
        if not isinstance(item, dict) or not is_number(item.get("marketPrice")):
            raise ImportFailed(
                "\nInvalid `prisma.marketData.upsert()` invocation:\n\n\n"
                "Argument `marketPrice` must be a number (Float)."
            )
        date = _prisma_datetime(item.get("date"), "marketData.upsert()")
        rows.append({"dataSource": profile["dataSource"], "symbol": symbol, "date": date, "price": item["marketPrice"]})
    return rows


class Importer:
    """One import request; the caller holds the state's lock for the whole run."""

    def __init__(self, state: EmulatorState, user: User, data: dict[str, Any], *, dry_run: bool) -> None:
        self.state = state
        self.user = user
        self.dry_run = dry_run
        self.accounts_dto: list[dict[str, Any]] = [dict(a) for a in data.get("accounts") or []]
        self.activities_dto: list[dict[str, Any]] = [dict(a) for a in data["activities"]]
        self.profiles_dto: list[dict[str, Any]] = [dict(p) for p in data.get("assetProfiles") or []]
        self.platforms_dto: list[dict[str, Any]] = list(data.get("platforms") or [])
        self.tags_dto: list[dict[str, Any]] = list(data.get("tags") or [])
        self.account_ids: dict[str, str] = {}
        self.symbols: dict[str, str] = {}
        self.platform_ids: dict[str, str] = {}
        self.tag_ids: dict[str, str] = {}
        self.profiles_to_create: list[_ProfileToCreate] = []
        self.permissions = ROLE_PERMISSIONS.get(user.role, frozenset())

    def run(self) -> list[dict[str, Any]]:
        self._check_manual_symbols()
        self._import_platforms()
        user_tags = self._import_tags()
        self._import_accounts(user_tags)
        self._plan_asset_profiles()
        self._apply_mappings()
        profiles = self._validate_activities()
        extended = self._mark_duplicates()
        return self._write(extended, profiles)

    # --- step 1 ------------------------------------------------------------------------------------------------

    def _check_manual_symbols(self) -> None:
        for index, profile in enumerate(self.profiles_dto):
            if profile["dataSource"] == "MANUAL" and not is_custom_symbol(profile["symbol"]):
                raise ImportFailed(
                    f'assetProfiles.{index}.symbol ("{profile["symbol"]}") must be a UUID or start with the '
                    'prefix "GF_" for the data source ("MANUAL")'
                )
        for index, activity in enumerate(self.activities_dto):
            if not activity.get("dataSource"):
                is_cash = activity["type"] in NON_INVESTMENT_ACTIVITY_TYPES
                activity["dataSource"] = "MANUAL" if is_cash else DATA_SOURCE_IMPORT
            elif activity["dataSource"] == "MANUAL" and not is_custom_symbol(activity["symbol"]):
                raise ImportFailed(
                    f'activities.{index}.symbol ("{activity["symbol"]}") must be a UUID or start with the '
                    'prefix "GF_" for the data source ("MANUAL")'
                )

    # --- step 2 ------------------------------------------------------------------------------------------------

    def _import_platforms(self) -> None:
        for platform in self.platforms_dto:
            existing = self.state.platforms.get(platform.get("id") or "") or next(
                (p for p in self.state.platforms.values() if p.url == platform["url"]), None
            )
            if existing is not None:
                if platform.get("id") and existing.id != platform["id"]:
                    self.platform_ids[platform["id"]] = existing.id
                continue
            if "createPlatform" not in self.permissions:
                raise ImportFailed(f'Insufficient permissions to create platform ("{platform["name"]}")')
            if not self.dry_run:
                created = Platform(platform.get("id") or new_id(), platform["name"], platform["url"])
                self.state.platforms[created.id] = created

    def _import_tags(self) -> list[Tag]:
        if not (self.tags_dto or (not self.dry_run and self.accounts_dto)):
            return []
        user_tags = self.state.tags_for(self.user.id)
        for tag in self.tags_dto:
            if any(existing.id == tag.get("id") for existing in user_tags):
                continue
            if "createOwnTag" not in self.permissions:
                raise ImportFailed(f'Insufficient permissions to create custom tag ("{tag["name"]}")')
            if self.dry_run:
                continue
            tag_id = tag.get("id") or new_id()
            if tag_id in self.state.tags:  # the id belongs to someone else's tag: a new id
                self.tag_ids[tag_id] = new_id()
                tag_id = self.tag_ids[tag_id]
            created = Tag(tag_id, tag["name"], self.user.id)
            self.state.tags[created.id] = created
            user_tags.append(created)
        return user_tags

    def _account_to_reuse(self, dto: dict[str, Any], own: list[Account]) -> Account | None:
        """An account of the user with the same name and currency, if that is unambiguous on both sides."""
        same_own = [a for a in own if a.currency == dto["currency"] and a.name == dto["name"]]
        same_import = [a for a in self.accounts_dto if a["currency"] == dto["currency"] and a["name"] == dto["name"]]
        return same_own[0] if len(same_own) == 1 and len(same_import) == 1 else None

    def _import_accounts(self, user_tags: list[Tag]) -> None:
        if not self.accounts_dto:
            return
        own = self.state.accounts_of(self.user.id)
        known_tag_ids = {tag.id for tag in user_tags}
        for dto in self.accounts_dto:
            if any(account.id == dto.get("id") for account in own):
                continue
            reused = self._account_to_reuse(dto, own)
            if reused is not None:
                if dto.get("id") and dto["id"] != reused.id:
                    self.account_ids[dto["id"]] = reused.id
                continue
            if self.dry_run:
                continue
            taken_by_other = bool(dto.get("id")) and any(
                account_id == dto["id"] for (owner, account_id) in self.state.accounts if owner != self.user.id
            )
            account_id = new_id() if taken_by_other or not dto.get("id") else dto["id"]
            tag_ids = [self.tag_ids.get(t, t) for t in dto.get("tags") or []]
            tag_ids = [t for t in tag_ids if t in known_tag_ids]
            if dto.get("isExcluded") and TAG_ID_EXCLUDE_FROM_ANALYSIS in known_tag_ids:
                tag_ids = list(dict.fromkeys([*tag_ids, TAG_ID_EXCLUDE_FROM_ANALYSIS]))
            platform_id = self.platform_ids.get(dto.get("platformId") or "", dto.get("platformId"))
            balances = [self._balance_row(item, account_id) for item in dto.get("balances") or []]
            account = Account(
                id=account_id,
                user_id=self.user.id,
                name=dto["name"],
                currency=dto["currency"],
                comment=dto.get("comment") or None,
                platform_id=platform_id if platform_id in self.state.platforms else None,
                tag_ids=tag_ids,
            )
            self.state.accounts[(self.user.id, account.id)] = account
            for balance in balances:
                self.state.balances[balance.id] = balance
            if is_number(dto.get("balance")):
                record_balance(self.state, account, float(dto["balance"]), start_of_day(utc_now()))
            self.state.portfolio_changed(self.user.id)
            if taken_by_other:
                self.account_ids[dto["id"]] = account.id

    def _balance_row(self, item: Any, account_id: str) -> AccountBalance:
        if not isinstance(item, dict) or not is_number(item.get("value")):
            raise ImportFailed(
                "\nInvalid `prisma.account.create()` invocation:\n\n\nArgument `value` must be a number (Float)."
            )
        date = _prisma_datetime(item.get("date"), "account.create()")
        return AccountBalance(new_id(), account_id, self.user.id, date, float(item["value"]))

    def _plan_asset_profiles(self) -> None:
        """Reuse or plan the MANUAL asset profiles of the import; write market data of the user's own ones."""
        for dto in self.profiles_dto:
            symbol = dto["symbol"]
            existing = self.state.profile(dto["dataSource"], symbol)
            fields: dict[str, Any] | None = None
            if existing is None or existing.user_id != self.user.id:
                same_name = next(
                    (
                        p
                        for p in self.state.profiles.values()
                        if dto["dataSource"] == "MANUAL"
                        and dto.get("name")
                        and p.data_source == "MANUAL"
                        and p.user_id == self.user.id
                        and p.name == dto["name"]
                        and is_custom_symbol(p.symbol)
                    ),
                    None,
                )
                if same_name is not None:
                    symbol = same_name.symbol
                else:
                    if existing is not None and not self.dry_run:
                        symbol = new_id()  # the symbol is someone else's profile
                    if not self.dry_run:
                        fields = {k: v for k, v in dto.items() if k != "marketData"} | {"symbol": symbol}
                if symbol != dto["symbol"]:
                    self.symbols[dto["symbol"]] = symbol
                    dto["symbol"] = symbol
            if self.dry_run:
                continue
            rows = _market_rows(dto, symbol)
            if fields is None:
                for row in rows:
                    self.state.upsert_market_price(row["dataSource"], row["symbol"], row["date"], row["price"])
                continue
            key = _profile_key(fields["dataSource"], symbol)
            planned = next(
                (p for p in self.profiles_to_create if _profile_key(p.fields["dataSource"], p.fields["symbol"]) == key),
                None,
            )
            if planned is not None:
                planned.market_data.extend(rows)
            else:
                self.profiles_to_create.append(_ProfileToCreate(fields, rows))

    def _apply_mappings(self) -> None:
        for activity in self.activities_dto:
            if activity["symbol"] in self.symbols:
                activity["symbol"] = self.symbols[activity["symbol"]]
            if activity.get("accountId") in self.account_ids:
                activity["accountId"] = self.account_ids[activity["accountId"]]
            if not self.dry_run:
                activity["tags"] = [self.tag_ids.get(t, t) for t in activity.get("tags") or []]

    # --- step 3 ------------------------------------------------------------------------------------------------

    def _validate_activities(self) -> dict[str, dict[str, Any]]:
        cap = self.state.settings.max_activities_to_import
        cap = MAX_SAFE_INTEGER if cap is None else cap
        if len(self.activities_dto) > cap:
            raise ImportFailed(f"Too many activities ({cap} at most)")
        profiles: dict[str, dict[str, Any]] = {}
        for index, activity in enumerate(self.activities_dto):
            path = "activity" if cap == 1 else f"activities.{index}"
            data_source, symbol, activity_type = activity["dataSource"], activity["symbol"], activity["type"]
            if data_source not in ENABLED_DATA_SOURCES:
                raise ImportFailed(f'{path}.dataSource ("{data_source}") is not valid')
            key = _profile_key(data_source, symbol)
            if key in profiles:
                continue
            in_import = next(
                (p for p in self.profiles_dto if p["dataSource"] == data_source and p["symbol"] == symbol), None
            )
            if (
                (data_source == "MANUAL" and activity_type == "BUY")
                or (in_import is not None and in_import["dataSource"] == "MANUAL")
                or activity_type in NON_INVESTMENT_ACTIVITY_TYPES
            ):
                base = {k: v for k, v in (in_import or {}).items() if k not in ("dataSource", "marketData", "symbol")}
                currency = in_import.get("currency") if in_import else None
                name = in_import.get("name") if in_import else None
                profiles[key] = base | {
                    "dataSource": data_source,
                    "symbol": symbol,
                    "currency": currency if currency is not None else activity["currency"],
                    "name": name if name is not None else symbol,
                }
                continue
            resolved = resolve(self.state, data_source, symbol)
            if resolved is None or not resolved.get("name"):
                raise ImportFailed(
                    f'{path}.symbol ("{symbol}") is not valid for the specified data source ("{data_source}")'
                )
            profiles[key] = resolved
        return profiles

    # --- step 4 ------------------------------------------------------------------------------------------------

    def _mark_duplicates(self) -> list[dict[str, Any]]:
        """Ghostfolio compares each activity with every existing one of the user; the emulator indexes them by the
        exact fields first (same result, so that benchmark-sized imports stay fast)."""
        existing: dict[tuple[Any, ...], list[tuple[str | None, str | None, str]]] = {}
        for activity in self.state.activities_of(self.user.id):
            profile = self.state.profiles[activity.symbol_profile_id]
            key = _duplicate_key(
                profile.data_source,
                profile.symbol,
                activity.type,
                activity.fee,
                activity.quantity,
                activity.unit_price,
                activity.date,
            )
            existing.setdefault(key, []).append((activity.comment or None, activity.currency, profile.currency))
        extended = []
        for dto in self.activities_dto:
            date = parse_date(dto["date"])
            key = _duplicate_key(
                dto["dataSource"], dto["symbol"], dto["type"], dto["fee"], dto["quantity"], dto["unitPrice"], date
            )
            duplicate = date is not None and any(
                comment == (dto.get("comment") or None) and dto["currency"] in (currency, profile_currency)
                for comment, currency, profile_currency in existing.get(key, [])
            )
            extended.append(dto | {"parsedDate": date, "error": {"code": "IS_DUPLICATE"} if duplicate else None})
        return extended

    # --- step 5 ------------------------------------------------------------------------------------------------

    def _create_planned_profiles(self, extended: list[dict[str, Any]]) -> None:
        used = {_profile_key(a["dataSource"], a["symbol"]) for a in extended if not a["error"]}
        for planned in self.profiles_to_create:
            fields = planned.fields
            if _profile_key(fields["dataSource"], fields["symbol"]) not in used:
                continue
            extra_keys = set(fields) - {"dataSource", "symbol", "currency", "name", "assetClass", "assetSubClass"}
            profile = SymbolProfile(
                id=new_id(),
                data_source=fields["dataSource"],
                symbol=fields["symbol"],
                currency=fields["currency"],
                name=fields.get("name"),
                asset_class=fields.get("assetClass"),
                asset_sub_class=fields.get("assetSubClass"),
                user_id=self.user.id,
                extra={k: fields[k] for k in extra_keys},
            )
            self.state.add_profile(profile)
            for row in planned.market_data:
                self.state.upsert_market_price(row["dataSource"], row["symbol"], row["date"], row["price"])

    def _write(self, extended: list[dict[str, Any]], profiles: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        accounts: list[dict[str, Any]] = [{"id": a.id, "name": a.name} for a in self.state.accounts_of(self.user.id)]
        tags: list[dict[str, Any]] = [{"id": t.id, "name": t.name} for t in self.state.tags_for(self.user.id)]
        if self.dry_run:
            known = {a["id"] for a in accounts}
            for dto in self.accounts_dto:
                if dto.get("id") not in self.account_ids and dto.get("id") not in known:
                    accounts.append({"id": dto.get("id"), "name": dto["name"]})
            known_tags = {tag["id"] for tag in tags}
            tags += [{"id": t.get("id"), "name": t["name"]} for t in self.tags_dto if t.get("id") not in known_tags]
        if not self.dry_run:
            self._create_planned_profiles(extended)
        answer: list[dict[str, Any]] = []
        for dto in extended:
            key = _profile_key(dto["dataSource"], dto["symbol"])
            profile = profiles.setdefault(key, {"dataSource": dto["dataSource"], "symbol": dto["symbol"]})
            account = next((a for a in accounts if a["id"] == dto.get("accountId")), None)
            wanted_tags = dto.get("tags") or []
            tag_rows = [t for t in tags if t["id"] in wanted_tags]
            if self.dry_run:
                order = self._preview(dto, profile, account, tag_rows)
            else:
                if dto["error"]:
                    continue
                activity, stored = create_activity(
                    self.state,
                    NewActivity(
                        user_id=self.user.id,
                        account_id=account["id"] if account else None,
                        comment=dto.get("comment"),
                        currency=dto["currency"],
                        date=dto["parsedDate"],
                        fee=dto["fee"],
                        quantity=dto["quantity"],
                        type=dto["type"],
                        unit_price=dto["unitPrice"],
                        data_source=profile["dataSource"],
                        symbol=profile["symbol"],
                        name=profile.get("name"),
                        profile_currency=profile.get("currency") or dto["currency"],
                        tag_ids=[t["id"] for t in tag_rows],
                    ),
                )
                order = order_row(activity) | {"SymbolProfile": profile_row(stored)}
                profile["symbol"] = stored.symbol  # Ghostfolio updates the symbol createActivity assigned
            value = dto["quantity"] * dto["unitPrice"]
            entry = order | {"assetProfile": dict(profile), "value": value, "valueInBaseCurrency": value}
            if dto["error"]:
                entry["error"] = dto["error"]
            answer.append(entry)
        answer.sort(key=lambda entry: entry["date"] or "")
        return answer

    def _preview(
        self,
        dto: dict[str, Any],
        profile: dict[str, Any],
        account: dict[str, Any] | None,
        tag_rows: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """A dry run's activity: what would be written, with a random id, nothing stored."""
        now = to_json(utc_now())
        draft = next((t for t in tag_rows if t["id"] == TAG_ID_DRAFT), {"id": TAG_ID_DRAFT, "name": "DRAFT"})
        preview_tags = with_draft_tag([t["id"] for t in tag_rows], dto["type"], dto["parsedDate"])
        order: dict[str, Any] = {
            "comment": dto.get("comment"),
            "currency": dto["currency"],
            "date": to_json(dto["parsedDate"]),
            "fee": dto["fee"],
            "quantity": dto["quantity"],
            "type": dto["type"],
            "unitPrice": dto["unitPrice"],
            "createdAt": now,
            "id": new_id(),
            "SymbolProfile": {
                "assetClass": profile.get("assetClass"),
                "assetSubClass": profile.get("assetSubClass"),
                "currency": profile.get("currency"),
                "dataGatheringFrequency": "DAILY",
                "dataSource": profile.get("dataSource"),
                "name": profile.get("name"),
                "symbol": profile.get("symbol"),
            },
            "tags": [t for t in tag_rows if t["id"] in preview_tags]
            + ([draft] if TAG_ID_DRAFT in preview_tags and draft not in tag_rows else []),
            "updatedAt": now,
            "userId": self.user.id,
        }
        if account is not None:
            order["account"] = account
            order["accountId"] = account["id"]
        return order


def run_import(state: EmulatorState, user: User, data: dict[str, Any], *, dry_run: bool) -> list[dict[str, Any]]:
    with state.lock:
        return Importer(state, user, data, dry_run=dry_run).run()
