"""A sync reads and writes only its own item's orders, even when Plaid's transaction ids collide.

Plaid's ``investment_transaction_id`` is meant to be global; a misbehaving Plaid (or two institutions behind
one aggregator) can repeat one. Bob's Plaid here answers Alice's transactions, with their ids, in Bob's own
accounts, less one transaction that Bob's answer cancels instead. Whoever syncs first, each user keeps
exactly the orders their own sync wrote, in their own accounts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.models import Account, Order, PlaidItem, SyncStatus
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers.sync import SyncServices
from tests.conftest import Caller, emulator_call, plaid_post
from tests.linking import link_seeded_item
from tests.test_workers_sync import access_token, snapshot_rows, sync

TRANSACTIONS = "/investments/transactions/get"


async def transactions_of(emulator: EmulatorServer, token: str, settings: Settings) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    body = {
        "access_token": token,
        "start_date": (today - timedelta(days=settings.sync_history_days)).isoformat(),
        "end_date": today.isoformat(),
        "options": {"count": 500},
    }
    answer = await plaid_post(emulator, TRANSACTIONS, body)
    assert answer["total_investment_transactions"] == len(answer["investment_transactions"])
    return answer


def colliding_answer(alice: dict[str, Any], account_map: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Alice's transactions (same ids) in Bob's accounts, less one buy that Bob's answer cancels instead."""
    moved = [{**t, "account_id": account_map[t["account_id"]]} for t in alice["investment_transactions"]]
    already = {t["cancel_transaction_id"] for t in moved if t["type"] == "cancel"}
    cancelled = next(t for t in moved if t["type"] == "buy" and t["investment_transaction_id"] not in already)
    cancel = {
        **cancelled,
        "investment_transaction_id": "bob-cancel",
        "type": "cancel",
        "subtype": "cancel",
        "cancel_transaction_id": cancelled["investment_transaction_id"],
    }
    listed = [cancel, *(t for t in moved if t is not cancelled)]
    answer = {**alice, "investment_transactions": listed, "total_investment_transactions": len(listed)}
    return answer, cancelled["investment_transaction_id"]


async def owned_by(item_id: str, user: Caller) -> None:
    accounts = {str(a.id) for a in await Account.filter(plaid_item_id=item_id)}
    orders = await Order.filter(account_id__in=list(accounts))
    assert orders and {o.user_id for o in orders} == {user.id}


@pytest.mark.parametrize("first", ["alice", "bob"])
async def test_colliding_transaction_ids_never_cross_users(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    bob: Caller,
    sync_services: SyncServices,
    settings: Settings,
    first: str,
) -> None:
    alice_item, alice_accounts = await link_seeded_item(client, emulator, alice)
    bob_item, bob_accounts = await link_seeded_item(client, emulator, bob)
    account_map = {a["account_id"]: b["account_id"] for a, b in zip(alice_accounts, bob_accounts, strict=True)}
    alice_answer = await transactions_of(emulator, await access_token(alice_item, sync_services), settings)
    bob_answer, only_alice = colliding_answer(alice_answer, account_map)
    bob_plaid_id = (await PlaidItem.get(id=bob_item)).item_id
    fault = {"path": TRANSACTIONS, "item_id": bob_plaid_id, "body": json.dumps(bob_answer), "times": 2}
    await emulator_call(emulator, "POST", "/emulator/faults", fault)

    order = [alice_item, bob_item] if first == "alice" else [bob_item, alice_item]
    after_own_sync: dict[str, Any] = {}
    for item_id in [*order, order[0]]:
        await PlaidItem.filter(id=item_id).update(last_synced_at=None)
        job = await sync(item_id, sync_services)
        assert job.status == SyncStatus.SUCCEEDED, job.error
        after_own_sync.setdefault(item_id, await snapshot_rows(item_id))

    assert await snapshot_rows(alice_item) == after_own_sync[alice_item]
    assert await snapshot_rows(bob_item) == after_own_sync[bob_item]
    await owned_by(alice_item, alice)
    await owned_by(bob_item, bob)
    shared = {t["investment_transaction_id"] for t in bob_answer["investment_transactions"]}
    alice_keys = {o["plaid_transaction_id"] for o in after_own_sync[alice_item]["orders"]}
    bob_keys = {o["plaid_transaction_id"] for o in after_own_sync[bob_item]["orders"]}
    assert only_alice in alice_keys and only_alice not in bob_keys
    assert len(alice_keys & bob_keys & shared) > 5
