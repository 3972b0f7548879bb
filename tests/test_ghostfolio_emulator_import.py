"""POST /api/v1/import on the Ghostfolio emulator: validation messages, the symbol rules, duplicates, dry runs,
the cap, the offline switch, and what a failed import leaves behind (Ghostfolio 3.58 behaviour)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.test_ghostfolio_emulator import Ghostfolio, User, activity, alice, gf, ghostfolio_server

__all__ = ["alice", "gf", "ghostfolio_server"]  # fixtures shared with test_ghostfolio_emulator

ORDER_KEYS = {
    "accountId",
    "accountUserId",
    "comment",
    "createdAt",
    "currency",
    "date",
    "fee",
    "id",
    "quantity",
    "symbolProfileId",
    "type",
    "unitPrice",
    "updatedAt",
    "userId",
    "SymbolProfile",
    "assetProfile",
    "value",
    "valueInBaseCurrency",
}
NUMBER = "must be a number conforming to the specified constraints"


def bad_request(*messages: str) -> dict[str, Any]:
    """A failed import as Ghostfolio's import controller sends it (no statusCode key)."""
    return {"error": "Bad Request", "message": list(messages)}


def validation(*messages: str) -> dict[str, Any]:
    return {"message": list(messages), "error": "Bad Request", "statusCode": 400}


def test_import_happy_path(alice: User) -> None:
    account = alice.create_account()
    response = alice.import_(
        [
            activity(accountId=account["id"], comment="plaid:buy", date="2024-01-02"),
            activity(
                accountId=account["id"],
                comment="plaid:sell",
                type="SELL",
                quantity=4,
                unitPrice=170.5,
                fee=1.25,
                date="2024-02-01T15:30:00Z",
            ),
            activity(
                accountId=account["id"], comment="plaid:div", type="DIVIDEND", symbol="MSFT", quantity=1, unitPrice=3.1
            ),
            activity(
                accountId=account["id"],
                comment="  plaid:fee  ",
                type="FEE",
                dataSource=None,
                symbol="Fee",
                quantity=1,
                unitPrice=2,
            ),
        ]
    )
    assert response.status_code == 201, response.text
    created = response.json()["activities"]
    assert [a["comment"] for a in created] == ["plaid:buy", "plaid:div", "plaid:fee", "plaid:sell"]  # by date
    assert all(set(a) == ORDER_KEYS for a in created)
    assert all(a["accountId"] == account["id"] and a["accountUserId"] == alice.id for a in created)
    buy = created[0]
    assert buy["date"] == "2024-01-02T00:00:00.000Z" and buy["value"] == 1500 and buy["valueInBaseCurrency"] == 1500
    assert buy["assetProfile"] == {
        "assetClass": "EQUITY",
        "assetSubClass": "STOCK",
        "currency": "USD",
        "dataSource": "YAHOO",
        "name": "Apple Inc.",
        "symbol": "AAPL",
    }
    assert buy["SymbolProfile"]["symbol"] == "AAPL" and buy["SymbolProfile"]["userId"] is None
    fee = created[2]
    assert fee["SymbolProfile"]["dataSource"] == "MANUAL" and fee["SymbolProfile"]["name"] == "Fee"
    uuid.UUID(fee["SymbolProfile"]["symbol"])  # a non-custom symbol becomes a fresh UUID
    state = alice.state()
    assert sorted(a["id"] for a in state["activities"]) == sorted(a["id"] for a in created)
    listed = alice.call("GET", "/api/v1/activities").json()
    assert listed["count"] == 4  # sorted by date, then id (the import's answer keeps request order on ties)
    assert [a["id"] for a in listed["activities"]] == [
        a["id"] for a in sorted(created, key=lambda a: (a["date"], a["id"]))
    ]


def test_unknown_top_level_keys_are_refused(alice: User) -> None:
    response = alice.call("POST", "/api/v1/import", json={"activities": [activity()], "meta": {}, "user": {}})
    assert response.status_code == 400
    assert response.json() == validation("property meta should not exist", "property user should not exist")
    assert alice.state()["activities"] == []


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        ({"currency": "usd"}, ["currency must be a valid ISO4217 currency code"]),
        ({"currency": "XYZ"}, ["currency must be a valid ISO4217 currency code"]),
        ({"currency": None}, ["currency must be a valid ISO4217 currency code"]),
        (
            {"dataSource": "BLOOMBERG"},
            [
                "dataSource must be one of the following values: ALPHA_VANTAGE, COINGECKO, EOD_HISTORICAL_DATA, "
                "FINANCIAL_MODELING_PREP, GHOSTFOLIO, GOOGLE_SHEETS, MANUAL, RAPID_API, YAHOO"
            ],
        ),
        ({"date": "yesterday"}, ["date must be after 1970", "date must be a valid ISO 8601 date string"]),
        ({"date": "1969-12-31"}, ["date must be after 1970"]),
        ({"date": "1970-01-01T00:00:00.000Z"}, ["date must be after 1970"]),
        ({"date": 1700000000000}, ["date must be a valid ISO 8601 date string"]),
        ({"date": None}, ["date must be after 1970", "date must be a valid ISO 8601 date string"]),
        ({"fee": -0.01}, ["fee must not be less than 0"]),
        ({"fee": "1"}, ["fee must not be less than 0", f"fee {NUMBER}"]),
        ({"fee": None}, ["fee must not be less than 0", f"fee {NUMBER}"]),
        ({"quantity": -1}, ["quantity must not be less than 0"]),
        ({"quantity": True}, ["quantity must not be less than 0", f"quantity {NUMBER}"]),
        ({"unitPrice": -5}, ["unitPrice must not be less than 0"]),
        ({"unitPrice": [1]}, ["unitPrice must not be less than 0", f"unitPrice {NUMBER}"]),
        ({"symbol": 5}, ["symbol must be a string"]),
        ({"symbol": None}, ["symbol must be a string"]),
        (
            {"type": "TRANSFER"},
            ["type must be one of the following values: BUY, DIVIDEND, FEE, INTEREST, LIABILITY, SELL"],
        ),
        ({"accountId": 7}, ["accountId must be a string"]),
        ({"comment": 7}, ["comment must be a string"]),
        ({"tags": ["a", "a"]}, ["All tags's elements must be unique"]),
        ({"tags": [1]}, ["each value in tags must be a string"]),
        ({"updateAccountBalance": "yes"}, ["updateAccountBalance must be a boolean value"]),
        (
            {"assetClass": "STOCK"},
            [
                "assetClass must be one of the following values: "
                "ALTERNATIVE_INVESTMENT, COMMODITY, EQUITY, FIXED_INCOME, LIQUIDITY, REAL_ESTATE"
            ],
        ),
        ({"isin": "US0378331005"}, ["property isin should not exist"]),
    ],
)
def test_every_activity_field_is_validated(alice: User, overrides: dict[str, Any], messages: list[str]) -> None:
    body = activity(**{k: v for k, v in overrides.items() if v is not None})
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
    response = alice.import_([activity(comment="fine"), body])
    assert response.status_code == 400
    assert response.json() == validation(*(f"activities.1.{m}" for m in messages))
    assert alice.state()["activities"] == []


def test_validation_collects_every_message_in_ghostfolio_order(alice: User) -> None:
    response = alice.call(
        "POST",
        "/api/v1/import",
        json={"activities": [{"currency": "usd", "fee": -1, "extra": 1}, "x"], "tags": 5},
    )
    assert response.json() == validation(
        "activities.0.property extra should not exist",
        "activities.0.currency must be a valid ISO4217 currency code",
        "activities.0.date must be after 1970",
        "activities.0.date must be a valid ISO 8601 date string",
        "activities.0.fee must not be less than 0",
        "activities.0.quantity must not be less than 0",
        f"activities.0.quantity {NUMBER}",
        "activities.0.symbol must be a string",
        "activities.0.type must be one of the following values: BUY, DIVIDEND, FEE, INTEREST, LIABILITY, SELL",
        "activities.0.unitPrice must not be less than 0",
        f"activities.0.unitPrice {NUMBER}",
        "activities.each value in nested property activities must be either object or array",
        "tags must be an array",
        "each value in nested property tags must be either object or array",
    )
    missing = alice.call("POST", "/api/v1/import", json={})
    assert missing.json() == validation("activities must be an array")


def test_iso_dates_ghostfolio_accepts(alice: User) -> None:
    dates = ["2024-01-03", "2024-01-04T10:00:00Z", "2024-01-05T10:00:00.123+02:00", "2024-01-06 09:30", "2024-02"]
    response = alice.import_([activity(date=d, comment=d) for d in dates])
    assert response.status_code == 201, response.text
    stored = {a["comment"]: a["date"] for a in alice.state()["activities"]}
    assert stored == {
        "2024-01-03": "2024-01-03T00:00:00.000Z",
        "2024-01-04T10:00:00Z": "2024-01-04T10:00:00.000Z",
        "2024-01-05T10:00:00.123+02:00": "2024-01-05T08:00:00.123Z",
        "2024-01-06 09:30": "2024-01-06T09:30:00.000Z",
        "2024-02": "2024-02-01T00:00:00.000Z",
    }
    week = alice.import_([activity(date="2024-W05-2")])  # ISO 8601, but not for new Date()
    assert week.json() == validation("activities.0.date must be after 1970")


def test_manual_symbols_must_be_uuid_or_gf_prefixed(alice: User) -> None:
    refused = alice.import_([activity(comment="ok"), activity(dataSource="MANUAL", symbol="My House")])
    assert refused.status_code == 400
    assert refused.json() == bad_request(
        'activities.1.symbol ("My House") must be a UUID or start with the prefix "GF_" for the data source ("MANUAL")'
    )
    profile = {
        "dataSource": "MANUAL",
        "symbol": "house",
        "currency": "USD",
        "name": "My House",
        "assetClass": "REAL_ESTATE",
        "assetSubClass": None,
        "marketData": [],
    }
    bad_profile = alice.import_([activity()], assetProfiles=[profile])
    assert bad_profile.json() == bad_request(
        'assetProfiles.0.symbol ("house") must be a UUID or start with the prefix "GF_" for the data source ("MANUAL")'
    )
    assert alice.state()["activities"] == []


def test_manual_asset_profile_with_market_data(alice: User) -> None:
    profile = {
        "dataSource": "MANUAL",
        "symbol": "GF_HOUSE",
        "currency": "EUR",
        "name": "My House",
        "assetClass": "REAL_ESTATE",
        "assetSubClass": "PRIVATE_EQUITY",
        "marketData": [
            {"date": "2024-01-01T00:00:00.000Z", "marketPrice": 300000},
            {"date": "2024-06-01T00:00:00.000Z", "marketPrice": 320000},
        ],
    }
    unused = {**profile, "symbol": "GF_UNUSED", "name": "Unused", "marketData": []}
    response = alice.import_(
        [
            activity(dataSource="MANUAL", symbol="GF_HOUSE", currency="EUR", quantity=1, unitPrice=280000),
            activity(dataSource="MANUAL", symbol=str(uuid.uuid4()), comment="uuid symbol", quantity=1, unitPrice=5),
        ],
        assetProfiles=[profile, unused],
    )
    assert response.status_code == 201, response.text
    profiles = {p["symbol"]: p for p in alice.state()["assetProfiles"]}
    assert "GF_UNUSED" not in profiles  # only profiles an imported activity uses are created
    house = profiles["GF_HOUSE"]
    assert (house["name"], house["currency"], house["assetClass"], house["userId"]) == (
        "My House",
        "EUR",
        "REAL_ESTATE",
        alice.id,
    )
    assert [(m["date"][:10], m["marketPrice"]) for m in house["marketData"]] == [
        ("2024-01-01", 300000),
        ("2024-06-01", 320000),
    ]
    holding = next(
        h
        for h in alice.call("GET", "/api/v1/portfolio/holdings").json()["holdings"]
        if h["assetProfile"]["symbol"] == "GF_HOUSE"
    )
    assert holding["marketPrice"] == 320000 and holding["valueInBaseCurrency"] == 320000
    date_only = {**profile, "symbol": "GF_OTHER", "marketData": [{"date": "2024-01-01", "marketPrice": 1}]}
    refused = alice.import_([activity(dataSource="MANUAL", symbol="GF_OTHER")], assetProfiles=[date_only])
    assert refused.status_code == 400 and "Expected ISO-8601 DateTime" in refused.json()["message"][0]
    wrong_source = alice.import_([activity()], assetProfiles=[{**profile, "dataSource": "YAHOO"}])
    assert wrong_source.json() == validation("assetProfiles.0.dataSource must be 'MANUAL'")


def test_unknown_yahoo_symbol_refuses_the_whole_request(alice: User) -> None:
    response = alice.import_(
        [activity(comment="known"), activity(symbol="MSFT", comment="also known"), activity(symbol="NOPE")]
    )
    assert response.status_code == 400
    assert response.json() == bad_request(
        'activities.2.symbol ("NOPE") is not valid for the specified data source ("YAHOO")'
    )
    assert alice.state()["activities"] == []
    lower = alice.import_([activity(symbol="aapl")])  # the emulator's lookups are case-sensitive
    assert lower.status_code == 400


def test_a_missing_data_source_means_yahoo(alice: User) -> None:
    response = alice.import_([activity(dataSource=None, symbol="MSFT")])
    assert response.status_code == 201 and response.json()["activities"][0]["SymbolProfile"]["dataSource"] == "YAHOO"
    other = alice.import_([activity(dataSource="ALPHA_VANTAGE")])
    assert other.json() == bad_request('activities.0.dataSource ("ALPHA_VANTAGE") is not valid')


def test_offline_instance_refuses_every_market_symbol(gf: Ghostfolio, alice: User) -> None:
    gf.control("POST", "/emulator/offline", {"offline": True})
    response = alice.import_([activity(symbol="MSFT")])
    assert response.json() == bad_request(
        'activities.0.symbol ("MSFT") is not valid for the specified data source ("YAHOO")'
    )
    coin = alice.import_([activity(dataSource="COINGECKO", symbol="bitcoin")])
    assert coin.json() == bad_request(
        'activities.0.symbol ("bitcoin") is not valid for the specified data source ("COINGECKO")'
    )
    manual = alice.import_([activity(dataSource="MANUAL", symbol="GF_CASH", type="INTEREST", quantity=1, unitPrice=3)])
    assert manual.status_code == 201
    gf.control("POST", "/emulator/offline", {"offline": False})
    assert alice.import_([activity(symbol="MSFT")]).status_code == 201


def test_known_symbols_are_configurable(gf: Ghostfolio, alice: User) -> None:
    gf.control("POST", "/emulator/config", {"known_symbols": ["S00001", "COINGECKO:solana"]})
    assert alice.import_([activity(symbol="S00001")]).status_code == 201
    assert alice.import_([activity(dataSource="COINGECKO", symbol="solana")]).status_code == 201
    assert alice.import_([activity(symbol="AAPL")]).status_code == 400


def test_duplicates_are_skipped_silently_even_across_accounts(alice: User) -> None:
    first, second = alice.create_account("One"), alice.create_account("Two")
    original = activity(accountId=first["id"], date="2024-01-02T10:00:00.000Z")
    assert alice.import_([original]).status_code == 201
    again = alice.import_(
        [
            activity(accountId=second["id"], date="2024-01-02T10:00:00.900Z"),  # same second, other account
            activity(accountId=second["id"], date="2024-01-02T10:00:01Z", comment="plaid:tx-2"),
        ]
    )
    assert again.status_code == 201
    assert [a["comment"] for a in again.json()["activities"]] == ["plaid:tx-2"]
    assert len(alice.state()["activities"]) == 2
    fee_differs = alice.import_([activity(accountId=first["id"], date="2024-01-02T10:00:00.000Z", fee=0.01)])
    assert len(fee_differs.json()["activities"]) == 1


def test_duplicates_within_one_request_are_all_written(alice: User) -> None:
    """Only activities that already exist count as duplicates: a client must de-duplicate its own batch."""
    response = alice.import_([activity(), activity()])
    assert response.status_code == 201 and len(response.json()["activities"]) == 2


def test_cash_activities_with_a_market_symbol_are_never_duplicates(alice: User) -> None:
    """A FEE filed under YAHOO/AAPL is stored under a fresh MANUAL UUID, so re-importing it matches nothing."""
    fee = activity(type="FEE", quantity=1, unitPrice=4.95, comment="plaid:fee-1")
    assert alice.import_([fee]).status_code == 201
    assert len(alice.import_([fee]).json()["activities"]) == 1
    assert len(alice.state()["activities"]) == 2
    custom = activity(
        type="FEE", dataSource="MANUAL", symbol="GF_FEES", quantity=1, unitPrice=4.95, comment="plaid:fee-2"
    )
    assert len(alice.import_([custom]).json()["activities"]) == 1
    assert alice.import_([custom]).json()["activities"] == []  # a custom symbol is kept: duplicate found


def test_duplicates_are_per_user(gf: Ghostfolio, alice: User) -> None:
    bob = gf.new_user()
    assert alice.import_([activity()]).status_code == 201
    assert len(bob.import_([activity()]).json()["activities"]) == 1


def test_dry_run_writes_nothing_and_marks_duplicates(alice: User) -> None:
    account = alice.create_account()
    alice.import_([activity(accountId=account["id"])])
    before = alice.state()
    preview = alice.import_(
        [activity(accountId=account["id"]), activity(accountId=account["id"], comment="new")], dry_run=True
    )
    assert preview.status_code == 201
    entries = preview.json()["activities"]
    assert [e.get("error") for e in entries] == [{"code": "IS_DUPLICATE"}, None]
    assert entries[1]["account"] == {"id": account["id"], "name": "Brokerage"}
    assert alice.state() == before
    accounts_preview = alice.import_(
        [activity(accountId="imported-account", comment="other")],
        dry_run=True,
        accounts=[{"id": "imported-account", "name": "Imported", "currency": "USD", "platformId": None}],
    )
    assert accounts_preview.json()["activities"][0]["accountId"] == "imported-account"
    assert alice.state() == before
    refused = alice.import_([activity(symbol="NOPE")], dry_run=True)
    assert refused.status_code == 400  # a dry run validates symbols too


def test_the_import_cap(gf: Ghostfolio, alice: User) -> None:
    gf.control("POST", "/emulator/config", {"max_activities_to_import": 2})
    over = alice.import_([activity(comment=str(i)) for i in range(3)])
    assert over.json() == bad_request("Too many activities (2 at most)")
    assert alice.import_([activity(comment=str(i)) for i in range(2)]).status_code == 201
    gf.control("POST", "/emulator/config", {"max_activities_to_import": 1})
    single = alice.import_([activity(symbol="NOPE")])
    assert single.json() == bad_request('activity.symbol ("NOPE") is not valid for the specified data source ("YAHOO")')


def test_an_unknown_account_id_is_dropped_not_refused(gf: Ghostfolio, alice: User) -> None:
    bobs = gf.new_user().create_account()
    response = alice.import_([activity(accountId=bobs["id"]), activity(accountId="nope", comment="x")])
    assert response.status_code == 201
    assert [a["accountId"] for a in response.json()["activities"]] == [None, None]


def test_a_failed_import_is_not_rolled_back(alice: User) -> None:
    """2024-02-31 passes validation (V8 rolls it over) but not date-fns: that write fails after earlier ones."""
    response = alice.import_([activity(comment="first"), activity(comment="second", date="2024-02-31")])
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request" and "statusCode" not in response.json()
    assert [a["comment"] for a in alice.state()["activities"]] == ["first"]
    accounts = [{"id": "acc-import", "name": "Imported", "currency": "USD", "platformId": None, "balance": 5}]
    failed = alice.import_([activity(symbol="NOPE")], accounts=accounts)
    assert failed.status_code == 400
    assert [a["name"] for a in alice.state()["accounts"]] == ["Imported"]  # written before the symbol check


def test_import_accounts_are_created_or_reused(alice: User) -> None:
    existing = alice.create_account("Plaid", "USD")
    accounts = [
        {"id": "old-id", "name": "Plaid", "currency": "USD", "platformId": None},
        {
            "id": "brand-new",
            "name": "New",
            "currency": "EUR",
            "platformId": None,
            "balances": [{"date": "2024-01-01T00:00:00.000Z", "value": 7}],
        },
    ]
    response = alice.import_(
        [activity(accountId="old-id"), activity(accountId="brand-new", comment="eur", currency="EUR")],
        accounts=accounts,
    )
    assert response.status_code == 201, response.text
    by_comment = {a["comment"]: a["accountId"] for a in response.json()["activities"]}
    assert by_comment == {"plaid:tx-1": existing["id"], "eur": "brand-new"}
    state = alice.state()
    assert sorted(a["id"] for a in state["accounts"]) == sorted([existing["id"], "brand-new"])
    assert [(b["accountId"], b["value"]) for b in state["balances"]] == [("brand-new", 7)]
    platform = alice.import_(
        [activity(comment="p")], platforms=[{"name": "Broker", "url": "https://broker.example.com"}]
    )
    assert platform.json() == bad_request('Insufficient permissions to create platform ("Broker")')


def test_future_activities_become_drafts(alice: User) -> None:
    future = (datetime.now(UTC) + timedelta(days=10)).strftime("%Y-%m-%dT00:00:00.000Z")
    response = alice.import_([activity(date=future)])
    assert response.status_code == 201
    listed = alice.call("GET", "/api/v1/activities").json()["activities"]
    assert [t["name"] for t in listed[0]["tags"]] == ["DRAFT"]
    assert alice.call("GET", "/api/v1/portfolio/holdings").json()["holdings"] == []


def test_import_permissions(gf: Ghostfolio) -> None:
    demo = gf.new_user("DEMO")
    response = demo.import_([activity()])
    assert (response.status_code, response.json()) == (403, {"statusCode": 403, "message": "Forbidden"})


def test_manual_sells_need_an_existing_profile(alice: User) -> None:
    sell = activity(dataSource="MANUAL", symbol="GF_GOLD", type="SELL", quantity=1, unitPrice=2000, comment="sell")
    refused = alice.import_([sell])
    assert refused.json() == bad_request(
        'activities.0.symbol ("GF_GOLD") is not valid for the specified data source ("MANUAL")'
    )
    buy = activity(dataSource="MANUAL", symbol="GF_GOLD", quantity=2, unitPrice=1900, comment="buy")
    assert alice.import_([buy]).status_code == 201
    assert alice.import_([sell]).status_code == 201
    gold = alice.state()["assetProfiles"][0]
    assert (gold["symbol"], gold["name"], gold["userId"]) == ("GF_GOLD", "GF_GOLD", alice.id)
