"""Portfolio truth under Plaid's real-world traps: after a sync, the portfolio tells the broker's story.

The emulator's ``traps`` dataset (``plaid_emulator/traps.py``) holds every trap at once. What the broker
reports is Plaid's own holdings answer; the tests compare it, account by account and to the cent, with what a
user sees: positions (BUYs minus SELLs of the orders), their value at the stored market price, the cash
balance and the cash kept per currency. Nothing here reuses the mapping's code to compute expectations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.ghostfolio.jobs import deliver
from ghostfolio_plaid.ghostfolio.payloads import manual_listing
from ghostfolio_plaid.models import (
    Account,
    GhostfolioSymbol,
    Holding,
    MarketData,
    Order,
    OrderType,
    PlaidItem,
    SymbolProfile,
    SyncJob,
    SyncStatus,
    SyncTrigger,
)
from ghostfolio_plaid.plaid_emulator import EmulatorServer, ThreadedServer
from ghostfolio_plaid.plaid_emulator.fixtures import plaid_id
from ghostfolio_plaid.workers.sync import RetryLater, SyncServices, execute_sync
from tests.conftest import Caller, SQLCounter, emulator_call, plaid_post
from tests.linking import link_seeded_item

CENT = Decimal("0.01")
TRAPS_TRANSACTIONS = (
    "deposit", "bond", "btc", "target", "acme", "oldco", "qualified", "shop-us", "shop-ca", "cash-dividend",
    "coupon", "fee-interest", "account-fee", "withheld", "lt-gain", "nq-dividend", "split", "call", "put",
    "spin-off", "merger-out", "merger-in", "acats-out", "withdrawal", "cash-out", "pending", "recent-buy",
    "recent-shop", "recent-dividend", "withdrawn-dividend", "new-interest", "acats-in", "cash-in", "reinvest",
)  # fmt: skip
TRAPS = {"dataset": "traps"}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Any) -> Decimal:
    return Decimal(str(value))


async def start_sync(item_id: str, services: SyncServices, **kwargs: Any) -> SyncJob:
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    await execute_sync(services, str(job.id), **kwargs)
    return await SyncJob.get(id=job.id)


async def access_token(item_id: str, services: SyncServices) -> str:
    item = await PlaidItem.get(id=item_id)
    return services.cipher.decrypt(item.access_token, row_id=str(item.id))


async def broker_holdings(emulator: EmulatorServer, token: str) -> dict[str, Any]:
    answer: dict[str, Any] = await plaid_post(emulator, "/investments/holdings/get", {"access_token": token})
    return answer


async def broker_transactions(emulator: EmulatorServer, token: str) -> dict[str, dict[str, Any]]:
    today = datetime.now(UTC).date()
    answer = await plaid_post(
        emulator,
        "/investments/transactions/get",
        {
            "access_token": token,
            "start_date": (today - timedelta(days=729)).isoformat(),
            "end_date": today.isoformat(),
            "options": {"count": 500},
        },
    )
    return {t["name"] + "|" + t["date"]: t for t in answer["investment_transactions"]}


async def our_positions(account: Account) -> dict[str, Decimal]:
    """Per symbol profile: what the user's activities add up to (BUY minus SELL), positions that are not zero."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for order in await Order.filter(account_id=account.id, type__in=[OrderType.BUY, OrderType.SELL]):
        sign = 1 if order.type == OrderType.BUY else -1
        totals[str(order.symbol_profile_id)] += sign * order.quantity
    return {profile: quantity for profile, quantity in totals.items() if quantity != 0}


async def latest_price(profile: SymbolProfile) -> Decimal:
    row = await MarketData.filter(data_source=profile.data_source, symbol=profile.symbol).order_by("-date").first()
    assert row is not None, f"no market price for {profile.symbol}"
    return row.market_price


async def assert_the_brokers_story(item_id: str, emulator: EmulatorServer, token: str) -> None:
    """Every account's positions, values and cash equal what the broker reports, to the cent."""
    answer = await broker_holdings(emulator, token)
    securities = {s["security_id"]: s for s in answer["securities"]}
    for plaid_account in answer["accounts"]:
        account = await Account.get(plaid_item_id=item_id, plaid_account_id=plaid_account["account_id"])
        reported = [h for h in answer["holdings"] if h["account_id"] == plaid_account["account_id"]]
        cash = [h for h in reported if securities[h["security_id"]]["is_cash_equivalent"]]
        held = [h for h in reported if not securities[h["security_id"]]["is_cash_equivalent"]]
        positions = await our_positions(account)
        profiles = {str(p.id): p for p in await SymbolProfile.filter(id__in=list(positions))}
        assert len(positions) == len(held), (plaid_account["name"], positions, held)
        ours = Counter()
        for profile_id, quantity in positions.items():
            profile = profiles[profile_id]
            ours[(quantity, cents(quantity * await latest_price(profile)), profile.currency)] += 1
        theirs = Counter(
            (number(h["quantity"]), cents(number(h["institution_value"])), h["iso_currency_code"]) for h in held
        )
        assert ours == theirs, plaid_account["name"]
        stored = {
            str(h.symbol_profile_id): h
            for h in await Holding.filter(account_id=account.id).select_related("symbol_profile")
        }
        for profile_id, quantity in positions.items():
            holding = stored[profile_id]
            assert holding.quantity == quantity
            assert holding.price is not None and holding.value is not None
            assert cents(holding.quantity * holding.price) == cents(holding.value)
        account_cash = sum(
            (number(h["institution_value"]) for h in cash if h["iso_currency_code"] == account.currency), Decimal(0)
        )
        if plaid_account["type"] == "investment":
            assert account.balance == account_cash, plaid_account["name"]
        foreign = {h["iso_currency_code"]: number(h["institution_value"]) for h in cash} | {account.currency: None}
        kept = {h.currency: h.value for h in stored.values() if h.symbol_profile.asset_sub_class == "CASH"} | {
            account.currency: None
        }
        assert kept == foreign, plaid_account["name"]


async def orders_by_ident(item_id: str) -> dict[str, Order]:
    """Our orders by the traps dataset's name of their transaction (``traps.py``: ``txn(..., ident, ...)``)."""
    item = await PlaidItem.get(id=item_id)
    idents = {plaid_id("traps-txn", item.item_id, ident): ident for ident in TRAPS_TRANSACTIONS}
    orders = await Order.filter(account__plaid_item_id=item_id).select_related("symbol_profile")
    return {idents[o.plaid_transaction_id]: o for o in orders if o.plaid_transaction_id in idents}


async def test_one_sync_then_a_resync_after_revisions_tell_the_brokers_story(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    sql_counter: SQLCounter,
) -> None:
    item_id, plaid_accounts = await link_seeded_item(client, emulator, alice, shape=TRAPS)
    plaid_item = await PlaidItem.get(id=item_id)
    token = await access_token(item_id, sync_services)
    await emulator_call(
        emulator,
        "POST",
        "/emulator/faults",
        {"path": "/investments/transactions/get", "item_id": plaid_item.item_id, "error_code": "PRODUCT_NOT_READY"},
    )
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.LINK)
    with pytest.raises(RetryLater):
        await execute_sync(sync_services, str(job.id), final_attempt=True, can_wait=True)
    assert (await SyncJob.get(id=job.id)).status == SyncStatus.QUEUED  # 8: still waiting for Plaid, not FAILED
    assert await execute_sync(sync_services, str(job.id), final_attempt=True, can_wait=True) == SyncStatus.SUCCEEDED
    await assert_the_brokers_story(item_id, emulator, token)

    orders = await orders_by_ident(item_id)
    expected_types = {
        "qualified": OrderType.DIVIDEND,  # fee/qualified dividend: income, not a fee
        "cash-dividend": OrderType.DIVIDEND,
        "lt-gain": OrderType.DIVIDEND,
        "nq-dividend": OrderType.DIVIDEND,
        "withdrawn-dividend": OrderType.DIVIDEND,
        "coupon": OrderType.INTEREST,
        "fee-interest": OrderType.INTEREST,
        "account-fee": OrderType.FEE,
        "withheld": OrderType.FEE,
        "reinvest": OrderType.BUY,
    }
    assert {ident: orders[ident].type for ident in expected_types} == expected_types  # 1
    assert (orders["qualified"].unit_price, orders["account-fee"].fee) == (Decimal("12.34"), Decimal("2.5"))
    assert orders["nq-dividend"].currency == "CAD"  # 9
    assert not {"deposit", "withdrawal", "pending", "cash-out", "cash-in"} & set(orders)  # 6: cash moves only

    call, put = orders["call"], orders["put"]
    assert (call.quantity, call.unit_price, call.fee) == (200, Decimal("12.5"), Decimal("1.3"))  # 2
    assert (put.quantity, put.unit_price) == (100, Decimal("3.2"))
    option = call.symbol_profile
    assert (option.option_type, option.option_strike, option.option_underlying) == ("CALL", 60, "ACME")
    assert option.option_expiration is not None and option.option_expiration.isoformat() == "2027-01-15"
    bond = orders["bond"]
    assert (bond.quantity, bond.unit_price, bond.quantity * bond.unit_price) == (10000, Decimal("0.97"), 9700)  # 3

    shop = {p.symbol: p for p in await SymbolProfile.filter(isin="CA82509L1076")}
    assert {s: (p.currency, p.market_identifier_code) for s, p in shop.items()} == {
        "SHOP": ("USD", "XNYS"),
        "SHOP:XTSE": ("CAD", "XTSE"),
    }  # 4
    assert (orders["shop-ca"].symbol_profile.symbol, orders["shop-ca"].currency) == ("SHOP:XTSE", "CAD")  # 9
    assert orders["shop-us"].symbol_profile.symbol == "SHOP"
    bitcoin = orders["btc"].symbol_profile
    assert (bitcoin.currency, bitcoin.asset_sub_class) == ("USD", "CRYPTOCURRENCY")  # 9

    legs = (orders["acats-out"], orders["acats-in"])
    assert [(o.type, o.quantity, o.unit_price) for o in legs] == [
        (OrderType.SELL, 20, Decimal(50)),
        (OrderType.BUY, 20, Decimal(50)),
    ]  # 6: the arriving shares carry the leaving shares' cost (100 a share, split 2:1), not the day's 55
    split, spin = orders["split"], orders["spin-off"]
    assert (split.type, split.quantity, split.unit_price, spin.unit_price) == (OrderType.BUY, 30, 0, 0)
    merger_out, merger_in = orders["merger-out"], orders["merger-in"]
    assert (merger_out.unit_price * merger_out.quantity, merger_in.unit_price * merger_in.quantity) == (200, 200)

    legacy = next(a for a in plaid_accounts if a["name"] == "Traps Legacy")
    openings = await Order.filter(
        account__plaid_account_id=legacy["account_id"], plaid_transaction_id__startswith="opening:"
    ).select_related("symbol_profile")
    assert sorted((o.symbol_profile.name, o.quantity, o.unit_price) for o in openings) == [
        ("Acme Private Growth Fund", 100, Decimal("10.5")),  # 7: no cost basis: the price of the day
        ("Total Market ETF", 12, Decimal(200)),  # 7: cost basis / quantity
    ]

    revised = await emulator_call(emulator, "POST", f"/emulator/items/{plaid_item.item_id}/revise")
    assert revised["revision"] == 1
    resync = await start_sync(item_id, sync_services)
    assert resync.status == SyncStatus.SUCCEEDED, resync.error
    assert (resync.activities_created, resync.activities_updated, resync.activities_removed) == (1, 2, 2)  # 5
    await assert_the_brokers_story(item_id, emulator, token)
    assert (await orders_by_ident(item_id))["acats-in"].unit_price == 50  # 6: its other half is out of the window
    renamed = await SymbolProfile.get(isin="US00OLDCO001")
    assert renamed.symbol == "NEWC"  # 4: a new security_id and ticker, the same position

    sql_counter.statements.clear()
    again = await start_sync(item_id, sync_services)
    assert (again.activities_created, again.activities_updated, again.activities_removed) == (0, 0, 0)
    writes = [s for s in sql_counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [s[:60] for s in writes if '"sync_job"' not in s and '"plaid_item"' not in s] == []
    await assert_the_brokers_story(item_id, emulator, token)


async def ghostfolio_get(ghostfolio: ThreadedServer, path: str, caller: Caller | None = None, **params: str) -> Any:
    headers = caller.headers if caller else {}
    async with httpx.AsyncClient(base_url=ghostfolio.url) as http:
        response = await http.get(path, params=params, headers=headers)
    response.raise_for_status()
    return response.json()


async def test_the_traps_reach_ghostfolio_as_the_broker_reports_them(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    settings: Settings,
    ghostfolio: ThreadedServer,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice, shape=TRAPS)
    assert (await start_sync(item_id, sync_services)).status == SyncStatus.SUCCEEDED
    await assert_the_brokers_story(item_id, emulator, await access_token(item_id, sync_services))
    connected = replace(settings, ghostfolio_url=ghostfolio.url)
    assert await deliver(connected, sync_services.queue, item_id) == "succeeded"

    expected: dict[str, tuple[Decimal, Decimal]] = {}
    listed = {str(r.symbol_profile_id): r for r in await GhostfolioSymbol.all()}
    for holding in await Holding.filter(account__plaid_item_id=item_id).select_related("symbol_profile", "account"):
        profile = holding.symbol_profile
        if profile.asset_sub_class == "CASH" and holding.currency == holding.account.currency:
            continue  # 9: the account's own cash is its balance; cash in another currency is a position of its own
        row = listed.get(str(profile.id))
        symbol = row.symbol if row and row.data_source != "MANUAL" else manual_listing(profile, alice.id).symbol
        quantity, value = expected.get(symbol, (Decimal(0), Decimal(0)))
        assert holding.value is not None
        expected[symbol] = (quantity + holding.quantity, value + holding.value)
    holdings = (await ghostfolio_get(ghostfolio, "/api/v1/portfolio/holdings", alice))["holdings"]
    shown = {h["assetProfile"]["symbol"]: h for h in holdings}
    assert {s: number(h["quantity"]) for s, h in shown.items()} == {s: q for s, (q, _) in expected.items()}
    manual = {s: h for s, h in shown.items() if h["assetProfile"]["dataSource"] == "MANUAL"}
    assert len(manual) >= 6  # bond, options, bitcoin, the TSX listing, the private fund priced from our data
    for symbol, holding in manual.items():
        assert cents(number(holding["valueInBaseCurrency"])) == cents(expected[symbol][1]), holding["assetProfile"]

    activities = (await ghostfolio_get(ghostfolio, "/emulator/state", userId=alice.id))["activities"]
    ours = Counter(str(o.type) for o in await Order.filter(account__plaid_item_id=item_id))
    foreign_cash = [a for a in activities if a["comment"].startswith("plaid:cash:")]
    assert [(a["type"], a["currency"]) for a in foreign_cash] == [("BUY", "CAD")]  # 9: kept, as its own position
    assert Counter(a["type"] for a in activities) == ours + Counter(BUY=1)
    assert ours["DIVIDEND"] == 6 and ours["INTEREST"] == 2 and ours["FEE"] == 2  # income is income (1)


async def test_a_ticker_changed_before_the_first_sync_is_one_position(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sync_services: SyncServices
) -> None:
    """Revision 1 from the start: the old buy names the old security_id, the holding the new one (same ISIN)."""
    item_id, _ = await link_seeded_item(client, emulator, alice, shape=TRAPS)
    plaid_item = await PlaidItem.get(id=item_id)
    await emulator_call(emulator, "POST", f"/emulator/items/{plaid_item.item_id}/revise")
    assert (await start_sync(item_id, sync_services)).status == SyncStatus.SUCCEEDED
    await assert_the_brokers_story(item_id, emulator, await access_token(item_id, sync_services))
    orders = await orders_by_ident(item_id)
    assert orders["oldco"].symbol_profile.symbol == "NEWC"
    assert not await Order.filter(account__plaid_item_id=item_id, plaid_transaction_id__startswith="opening:").filter(
        symbol_profile_id=orders["oldco"].symbol_profile_id
    )


async def test_a_resync_holding_both_transfer_legs_keeps_their_cost_from_older_history(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sync_services: SyncServices
) -> None:
    """The legs are re-read, the purchase they carry the cost of is not: its cost comes from the stored orders."""
    item_id, _ = await link_seeded_item(client, emulator, alice, shape=TRAPS)
    assert (await start_sync(item_id, sync_services)).status == SyncStatus.SUCCEEDED
    await PlaidItem.filter(id=item_id).update(last_synced_at=datetime.now(UTC) - timedelta(days=5))
    resync = await start_sync(item_id, sync_services)
    assert (resync.activities_created, resync.activities_updated, resync.activities_removed) == (0, 0, 0)
    orders = await orders_by_ident(item_id)
    assert (orders["acats-out"].unit_price, orders["acats-in"].unit_price) == (50, 50)
