"""A sync removes activities only with proof: it read Plaid's whole window, or a cancel names them.

An item of 956 transactions (two pages) is synced once; then Plaid misbehaves while paging (an empty page
before the total, a page twice, a total that changes, more transactions than the total). Each time the job
fails with a retryable ``PLAID_INCOMPLETE_READ`` and no row changes; a page that is merely short is followed,
as Plaid's paging rule says, and the sync still ends complete.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.models import Order, PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers.sync import RetryLater, SyncServices, execute_sync
from tests.conftest import Caller, emulator_call, plaid_post
from tests.linking import link_seeded_item
from tests.test_workers_sync import access_token, snapshot_rows

SHAPE = {"investment_accounts": 2, "securities": 10, "transactions_per_account": 478, "depository_account": False}
TRANSACTIONS = "/investments/transactions/get"


async def real_page(
    emulator: EmulatorServer, token: str, settings: Settings, offset: int, *, days: int | None = None
) -> dict[str, Any]:
    """The page the sync asks for (by default on a first sync: 24 months back), as the emulator answers it."""
    today = datetime.now(UTC).date()
    start = today - timedelta(days=settings.sync_history_days if days is None else days)
    return await plaid_post(
        emulator,
        TRANSACTIONS,
        {
            "access_token": token,
            "start_date": start.isoformat(),
            "end_date": today.isoformat(),
            "options": {"count": 500, "offset": offset},
        },
    )


async def serve(emulator: EmulatorServer, plaid_item_id: str, *bodies: dict[str, Any]) -> None:
    """The next calls of the item's transactions endpoint answer ``bodies``, one each, in order."""
    for body in bodies:
        fault = {"path": TRANSACTIONS, "item_id": plaid_item_id, "body": json.dumps(body), "times": 1}
        await emulator_call(emulator, "POST", "/emulator/faults", fault)


@pytest.fixture
async def synced_item(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sync_services: SyncServices
) -> tuple[str, str, str]:
    """An item synced once, completely; its next sync reads the whole 24 months again."""
    item_id, _ = await link_seeded_item(client, emulator, alice, shape=SHAPE)
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.SUCCEEDED
    await PlaidItem.filter(id=item_id).update(last_synced_at=None)
    item = await PlaidItem.get(id=item_id)
    return item_id, item.item_id, await access_token(item_id, sync_services)


def broken_reads(first: dict[str, Any], total: int) -> dict[str, list[dict[str, Any]]]:
    """What a misbehaving Plaid answers, page by page, given the real first page."""
    return {
        "an empty page before the total": [{**first, "investment_transactions": []}],
        "the same page twice": [first, first],
        "the total changing between pages": [
            first,
            {**first, "investment_transactions": [], "total_investment_transactions": 500},
        ],
        "more transactions than the total": [{**first, "total_investment_transactions": 400}],
        "a transaction id twice in one page": [
            {**first, "investment_transactions": [*first["investment_transactions"][:250]] * 2}
        ],
        "a second page that overlaps the first": [
            {**first, "investment_transactions": first["investment_transactions"][:300]},
            {
                **first,
                "investment_transactions": first["investment_transactions"][200:500],
                "total_investment_transactions": total,
            },
        ],
    }


CASES = list(broken_reads({"investment_transactions": []}, 0))
"""The case names (the bodies need the real page, fetched in the test)."""


@pytest.mark.parametrize("case", CASES)
async def test_an_incomplete_read_fails_and_changes_nothing(
    emulator: EmulatorServer,
    sync_services: SyncServices,
    settings: Settings,
    synced_item: tuple[str, str, str],
    case: str,
) -> None:
    item_id, plaid_item_id, token = synced_item
    first = await real_page(emulator, token, settings, 0)
    total = first["total_investment_transactions"]
    assert total > 500 and len(first["investment_transactions"]) == 500
    before = await snapshot_rows(item_id)
    await serve(emulator, plaid_item_id, *broken_reads(first, total)[case])

    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.FAILED

    failed = await SyncJob.get(id=job.id)
    assert (failed.error, failed.activities_removed, failed.activities_created) == ("PLAID_INCOMPLETE_READ", 0, 0)
    assert await snapshot_rows(item_id) == before
    assert (await PlaidItem.get(id=item_id)).error is None
    await emulator_call(emulator, "DELETE", "/emulator/faults")


async def test_an_incomplete_read_is_retried_and_the_retry_converges(
    emulator: EmulatorServer, sync_services: SyncServices, settings: Settings, synced_item: tuple[str, str, str]
) -> None:
    item_id, plaid_item_id, token = synced_item
    first = await real_page(emulator, token, settings, 0)
    before = await snapshot_rows(item_id)
    await serve(emulator, plaid_item_id, first, {**first, "investment_transactions": []})

    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    with pytest.raises(RetryLater):
        await execute_sync(sync_services, str(job.id), final_attempt=False)
    queued = await SyncJob.get(id=job.id)
    assert (queued.status, queued.error) == (SyncStatus.QUEUED, "PLAID_INCOMPLETE_READ")
    assert await snapshot_rows(item_id) == before

    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.SUCCEEDED
    done = await SyncJob.get(id=job.id)
    assert (done.activities_created, done.activities_updated, done.activities_removed) == (0, 0, 0)
    assert await snapshot_rows(item_id) == before


async def test_a_short_page_is_followed_to_the_total(
    emulator: EmulatorServer, sync_services: SyncServices, settings: Settings, synced_item: tuple[str, str, str]
) -> None:
    item_id, plaid_item_id, token = synced_item
    first = await real_page(emulator, token, settings, 0)
    before = await snapshot_rows(item_id)
    await serve(emulator, plaid_item_id, {**first, "investment_transactions": first["investment_transactions"][:300]})

    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.SUCCEEDED

    done = await SyncJob.get(id=job.id)
    assert (done.transactions_fetched, done.transactions_total) == (first["total_investment_transactions"],) * 2
    assert (done.activities_created, done.activities_removed) == (0, 0)
    assert await snapshot_rows(item_id) == before


async def test_a_cancel_removes_what_it_names_outside_the_window(
    emulator: EmulatorServer, sync_services: SyncServices, settings: Settings, synced_item: tuple[str, str, str]
) -> None:
    """The other proof: a cancel may remove an order the window read does not cover."""
    item_id, plaid_item_id, token = synced_item
    await PlaidItem.filter(id=item_id).update(last_synced_at=datetime.now(UTC))
    window = await real_page(emulator, token, settings, 0, days=settings.sync_overlap_days)
    assert window["total_investment_transactions"] < 500
    target = min(
        await Order.filter(account__plaid_item_id=item_id).exclude(plaid_transaction_id__startswith="opening:"),
        key=lambda o: o.date,
    )
    assert target.date.date() < datetime.now(UTC).date() - timedelta(days=settings.sync_overlap_days)
    cancel = {
        **window["investment_transactions"][0],
        "investment_transaction_id": "cancel-of-the-oldest",
        "type": "cancel",
        "subtype": "cancel",
        "cancel_transaction_id": target.plaid_transaction_id,
    }
    listed = [cancel, *window["investment_transactions"]]
    await serve(
        emulator,
        plaid_item_id,
        {**window, "investment_transactions": listed, "total_investment_transactions": len(listed)},
    )

    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.SUCCEEDED

    assert not await Order.filter(id=target.id).exists()
    assert (await SyncJob.get(id=job.id)).activities_removed == 1


async def test_an_account_missing_from_the_answers_keeps_what_it_has(
    emulator: EmulatorServer, sync_services: SyncServices, settings: Settings, synced_item: tuple[str, str, str]
) -> None:
    """Plaid stops reporting one account (no longer shared, or a partial answer): its absence proves nothing."""
    item_id, plaid_item_id, token = synced_item
    holdings = await plaid_post(emulator, "/investments/holdings/get", {"access_token": token})
    gone = holdings["accounts"][0]["account_id"]
    transactions = [
        t
        for offset in (0, 500)
        for t in (await real_page(emulator, token, settings, offset))["investment_transactions"]
        if t["account_id"] != gone
    ]
    assert 0 < len(transactions) <= 500
    first = await real_page(emulator, token, settings, 0)
    partial_holdings = {
        **holdings,
        "accounts": [a for a in holdings["accounts"] if a["account_id"] != gone],
        "holdings": [h for h in holdings["holdings"] if h["account_id"] != gone],
    }
    fault = {"path": "/investments/holdings/get", "item_id": plaid_item_id, "body": json.dumps(partial_holdings)}
    await emulator_call(emulator, "POST", "/emulator/faults", fault)
    await serve(
        emulator,
        plaid_item_id,
        {**first, "investment_transactions": transactions, "total_investment_transactions": len(transactions)},
    )
    before = await snapshot_rows(item_id)

    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.SUCCEEDED

    done = await SyncJob.get(id=job.id)
    assert (done.activities_created, done.activities_updated, done.activities_removed) == (0, 0, 0)
    assert await snapshot_rows(item_id) == before
