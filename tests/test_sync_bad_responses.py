"""Every sync ends: a malformed Plaid answer is a retryable PLAID_BAD_RESPONSE, any other failure INTERNAL_ERROR.

Plaid's answers are served by emulator faults (valid JSON of the wrong shape), through the real client. A job
never stays RUNNING, its error is a short code, and the item lock is free afterwards.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.job_queue import sync_lock_key
from ghostfolio_plaid.models import Order, PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers import sync as sync_module
from ghostfolio_plaid.workers.sync import RetryLater, SyncServices, execute_sync
from tests.conftest import Caller, emulator_call, plaid_post
from tests.linking import link_seeded_item
from tests.processes import run_command
from tests.test_workers_sync import access_token

HOLDINGS = "/investments/holdings/get"
TRANSACTIONS = "/investments/transactions/get"
Json = dict[str, Any]


def without(records: list[Json], key: str) -> list[Json]:
    return [{k: v for k, v in record.items() if k != key} for record in records]


def with_first(records: list[Json], **changes: Any) -> list[Json]:
    return [{**records[0], **changes}, *records[1:]]


BAD_ANSWERS: dict[str, tuple[str, Callable[[Json], Json]]] = {
    "holdings as a string": (HOLDINGS, lambda a: {**a, "holdings": "AAPL"}),
    "no securities in the holdings answer": (HOLDINGS, lambda a: {k: v for k, v in a.items() if k != "securities"}),
    "a holding without a quantity": (HOLDINGS, lambda a: {**a, "holdings": without(a["holdings"], "quantity")}),
    "a quantity that is text": (HOLDINGS, lambda a: {**a, "holdings": with_first(a["holdings"], quantity="12,5")}),
    "a balance that is text": (
        HOLDINGS,
        lambda a: {
            **a,
            "accounts": with_first(a["accounts"], balances={**a["accounts"][0]["balances"], "available": "x"}),
        },
    ),
    "a security that is a string": (HOLDINGS, lambda a: {**a, "securities": ["AAPL"]}),
    "a transaction without account_id": (
        TRANSACTIONS,
        lambda a: {**a, "investment_transactions": without(a["investment_transactions"], "account_id")},
    ),
    "a transaction date that is no date": (
        TRANSACTIONS,
        lambda a: {**a, "investment_transactions": with_first(a["investment_transactions"], date="yesterday")},
    ),
    "a subtype that is a list": (
        TRANSACTIONS,
        lambda a: {**a, "investment_transactions": with_first(a["investment_transactions"], subtype=["buy"])},
    ),
    "a total that is text": (TRANSACTIONS, lambda a: {**a, "total_investment_transactions": "many"}),
    "transactions as an object": (TRANSACTIONS, lambda a: {**a, "investment_transactions": {}}),
}


async def real_answer(emulator: EmulatorServer, token: str, settings: Settings, path: str) -> Json:
    """What the emulator answers to the first call of ``path`` a first sync makes."""
    if path == HOLDINGS:
        return await plaid_post(emulator, path, {"access_token": token})
    today = datetime.now(UTC).date()
    window = {
        "start_date": (today - timedelta(days=settings.sync_history_days)).isoformat(),
        "end_date": today.isoformat(),
        "options": {"count": 500, "offset": 0},
    }
    return await plaid_post(emulator, path, {"access_token": token, **window})


async def serve_bad_answer(
    emulator: EmulatorServer, item_id: str, services: SyncServices, settings: Settings, case: str, times: int = 1
) -> None:
    path, corrupt = BAD_ANSWERS[case]
    answer = await real_answer(emulator, await access_token(item_id, services), settings, path)
    plaid_item_id = (await PlaidItem.get(id=item_id)).item_id
    fault = {"path": path, "item_id": plaid_item_id, "body": json.dumps(corrupt(answer)), "times": times}
    await emulator_call(emulator, "POST", "/emulator/faults", fault)


async def assert_ended(job_id: Any, item_id: str, services: SyncServices, error: str) -> None:
    job = await SyncJob.get(id=job_id)
    assert (job.status, job.error) == (SyncStatus.FAILED, error)
    assert job.finished_at is not None and job.duration_ms is not None
    assert not await services.redis.exists(sync_lock_key(item_id))


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
async def test_a_malformed_answer_fails_the_job_and_writes_nothing(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    settings: Settings,
    case: str,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await serve_bad_answer(emulator, item_id, sync_services, settings, case)
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)

    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.FAILED

    await assert_ended(job.id, item_id, sync_services, "PLAID_BAD_RESPONSE")
    assert await Order.filter(account__plaid_item_id=item_id).count() == 0
    assert (await PlaidItem.get(id=item_id)).error is None


async def test_a_malformed_answer_is_retried(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    settings: Settings,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await serve_bad_answer(emulator, item_id, sync_services, settings, "a transaction without account_id")
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    with pytest.raises(RetryLater):
        await execute_sync(sync_services, str(job.id), final_attempt=False)
    assert ((await SyncJob.get(id=job.id)).status, (await SyncJob.get(id=job.id)).error) == (
        SyncStatus.QUEUED,
        "PLAID_BAD_RESPONSE",
    )
    assert not await sync_services.redis.exists(sync_lock_key(item_id))
    assert await execute_sync(sync_services, str(job.id)) == SyncStatus.SUCCEEDED


@pytest.mark.parametrize("final_attempt", [True, False])
async def test_an_unexpected_exception_ends_the_job_and_is_raised_for_rq(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    final_attempt: bool,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    token = await access_token(item_id, sync_services)

    async def broken(*args: object, **kwargs: object) -> None:
        raise KeyError(f"a bug that mentions {token}")

    monkeypatch.setattr(sync_module, "write_portfolio", broken)
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    with caplog.at_level(logging.ERROR, logger=sync_module.__name__), pytest.raises(KeyError):
        await execute_sync(sync_services, str(job.id), final_attempt=final_attempt)

    stored = await SyncJob.get(id=job.id)
    assert stored.error == "INTERNAL_ERROR"
    assert not await sync_services.redis.exists(sync_lock_key(item_id))
    assert len([r for r in caplog.records if "failed unexpectedly" in r.getMessage()]) == 1
    assert "Traceback" in caplog.text and token not in caplog.text
    if final_attempt:
        await assert_ended(job.id, item_id, sync_services, "INTERNAL_ERROR")
    else:
        assert stored.status == SyncStatus.QUEUED and stored.finished_at is None
        monkeypatch.undo()
        assert await execute_sync(sync_services, str(job.id)) == SyncStatus.SUCCEEDED


async def test_a_worker_ends_a_job_whose_answers_stay_malformed(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    settings: Settings,
    process_env: dict[str, str],
) -> None:
    """Through RQ: every attempt (the first and two retries) meets the bad answer; the job ends FAILED."""
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await serve_bad_answer(emulator, item_id, sync_services, settings, "holdings as a string", times=3)
    job_id = (await client.post(f"/api/v1/plaid/sync/{item_id}", headers=alice.headers)).json()["jobId"]

    await run_command(process_env, "worker", "--burst")

    await assert_ended(job_id, item_id, sync_services, "PLAID_BAD_RESPONSE")
    plaid_item_id = (await PlaidItem.get(id=item_id)).item_id
    pending = (await emulator_call(emulator, "GET", "/emulator/faults"))["faults"]
    assert [f for f in pending if f["item_id"] == plaid_item_id] == []
