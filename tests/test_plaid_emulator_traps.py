"""The ``traps`` dataset and ``/emulator/items/{item_id}/revise``: Plaid's shapes, and statements that add up."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from plaid.api import plaid_api
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest
from plaid.model.investments_transactions_get_request import InvestmentsTransactionsGetRequest
from plaid.model.investments_transactions_get_request_options import InvestmentsTransactionsGetRequestOptions

from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.plaid_emulator.state import EmulatorState
from tests.test_plaid_emulator import SpecCheckedPlaid, control, sdk, start_emulator

TODAY = date.today()


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with start_emulator() as server:
        yield server


@pytest.fixture
def plaid_http(emulator: EmulatorServer) -> SpecCheckedPlaid:
    return SpecCheckedPlaid(emulator.url)


def seed_traps(emulator: EmulatorServer) -> dict[str, Any]:
    seeded: dict[str, Any] = control(emulator, "POST", "/emulator/items", {"shape": {"dataset": "traps"}})
    return seeded


def read(plaid_http: SpecCheckedPlaid, token: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    holdings = plaid_http("/investments/holdings/get", access_token=token)
    transactions = plaid_http(
        "/investments/transactions/get",
        access_token=token,
        start_date=(TODAY - timedelta(days=729)).isoformat(),
        end_date=TODAY.isoformat(),
        options={"count": 500},
    )
    assert len(transactions["investment_transactions"]) == transactions["total_investment_transactions"]
    return holdings, transactions["investment_transactions"]


def test_both_revisions_are_plaids_shapes_and_the_revision_changes_the_recent_past(
    emulator: EmulatorServer, plaid_http: SpecCheckedPlaid
) -> None:
    seeded = seed_traps(emulator)
    before_holdings, before = read(plaid_http, seeded["access_token"])
    assert control(emulator, "POST", f"/emulator/items/{seeded['item_id']}/revise") == {
        "item_id": seeded["item_id"],
        "revision": 1,
    }
    after_holdings, after = read(plaid_http, seeded["access_token"])
    old = {t["investment_transaction_id"]: t for t in before}
    new = {t["investment_transaction_id"]: t for t in after}
    changed = {tid for tid in set(old) & set(new) if old[tid] != new[tid]}
    recent = (TODAY - timedelta(days=30)).isoformat()
    assert len(set(old) - set(new)) == 2 and len(set(new) - set(old)) == 1 and len(changed) == 2
    differing = [old[i] for i in set(old) - set(new)] + [new[i] for i in set(new) - set(old) | changed]
    assert all(t["date"] >= recent for t in differing)  # within a resync's window (30 days)
    renamed = {s["ticker_symbol"]: s for s in after_holdings["securities"]}
    assert "NEWC" in renamed and "OLDC" not in renamed
    assert renamed["NEWC"]["isin"] == {s["ticker_symbol"]: s for s in before_holdings["securities"]}["OLDC"]["isin"]


def test_every_holding_adds_up_the_way_the_statement_does(
    emulator: EmulatorServer, plaid_http: SpecCheckedPlaid
) -> None:
    """quantity x price = value, except the traps: the percent-of-par bond (x 1/100)."""
    holdings, transactions = read(plaid_http, seed_traps(emulator)["access_token"])
    securities = {s["security_id"]: s for s in holdings["securities"]}
    for holding in holdings["holdings"]:
        factor = Decimal("0.01") if securities[holding["security_id"]]["type"] == "fixed income" else Decimal(1)
        product = Decimal(str(holding["quantity"])) * Decimal(str(holding["institution_price"])) * factor
        assert product.quantize(Decimal("0.01")) == Decimal(str(holding["institution_value"])), holding
    crypto = next(s for s in holdings["securities"] if s["type"] == "cryptocurrency")
    assert (crypto["iso_currency_code"], crypto["unofficial_currency_code"]) == (None, "BTC")
    for record in [*holdings["holdings"], *holdings["securities"], *transactions]:
        assert (record["iso_currency_code"] is None) != (record["unofficial_currency_code"] is None), record
    assert {s["market_identifier_code"] for s in holdings["securities"] if s["ticker_symbol"] == "SHOP"} == {
        "XNYS",
        "XTSE",
    }


def test_the_sdk_parses_the_traps(emulator: EmulatorServer) -> None:
    seeded = seed_traps(emulator)
    with sdk(emulator) as client:
        api = plaid_api.PlaidApi(client)
        holdings = api.investments_holdings_get(InvestmentsHoldingsGetRequest(access_token=seeded["access_token"]))
        options = [s.option_contract for s in holdings.securities if s.option_contract is not None]
        assert sorted(o.contract_type for o in options) == ["call", "put"]
        page = api.investments_transactions_get(
            InvestmentsTransactionsGetRequest(
                access_token=seeded["access_token"],
                start_date=TODAY - timedelta(days=729),
                end_date=TODAY,
                options=InvestmentsTransactionsGetRequestOptions(count=500),
            )
        )
        assert {t.subtype.value for t in page.investment_transactions} >= {"qualified dividend", "split", "merger"}


@pytest.mark.parametrize(
    ("shape", "message"),
    [({}, "has no revisions"), ({"dataset": "traps"}, "at its last revision")],
)
def test_revise_refuses_what_it_cannot_do(emulator: EmulatorServer, shape: dict[str, Any], message: str) -> None:
    seeded = control(emulator, "POST", "/emulator/items", {"shape": shape})
    if shape:
        control(emulator, "POST", f"/emulator/items/{seeded['item_id']}/revise")
    response = httpx.post(f"{emulator.url}/emulator/items/{seeded['item_id']}/revise", timeout=10)
    assert response.status_code == 400 and message in response.json()["error"]
    unknown = httpx.post(f"{emulator.url}/emulator/items/nope/revise", timeout=10)
    assert unknown.status_code == 400 and "unknown item_id" in unknown.json()["error"]
    bad = httpx.post(f"{emulator.url}/emulator/items", json={"shape": {"dataset": "nope"}}, timeout=10)
    assert bad.status_code == 400 and "shape.dataset" in bad.json()["error"]


def test_a_revision_survives_a_restart_of_the_demo(emulator: EmulatorServer, tmp_path: Path) -> None:
    seeded = seed_traps(emulator)
    control(emulator, "POST", f"/emulator/items/{seeded['item_id']}/revise")
    state: EmulatorState = emulator.app.state.emulator  # type: ignore[attr-defined]
    state.save(tmp_path / "state.json")
    restored = EmulatorState(public_token_ttl=60)
    restored.load(tmp_path / "state.json")
    item = restored.items[seeded["item_id"]]
    assert (item.shape.dataset, item.revision) == ("traps", 1)
    assert "NEWC" in {s["ticker_symbol"] for s in item.data.securities}
