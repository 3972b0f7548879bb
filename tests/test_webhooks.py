"""Plaid webhooks: every rejection case directly, every handled code through the emulator over HTTP."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from rq.job import Job, JobStatus
from starlette.applications import Starlette

from ghostfolio_plaid.job_queue import request_sync, sync_lock_key
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.plaid_emulator.signing import WebhookSigner
from ghostfolio_plaid.resolvers.webhook_keys import WebhookKeyCache
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync
from tests.conftest import Caller, emulator_call, plaid_post
from tests.linking import forget_first_sync, link_seeded_item

HOOK = "/api/v1/plaid/webhook"


def signer_of(emulator: EmulatorServer) -> WebhookSigner:
    signer: WebhookSigner = emulator.app.state.emulator.signer  # type: ignore[attr-defined]
    return signer


def payload(item_id: str, kind: str = "HOLDINGS", code: str = "DEFAULT_UPDATE", **extra: Any) -> bytes:
    return json.dumps({"webhook_type": kind, "webhook_code": code, "item_id": item_id, **extra}, indent=2).encode()


def signed(emulator: EmulatorServer, body: bytes, **kw: Any) -> dict[str, str]:
    return {"Plaid-Verification": signer_of(emulator).sign(body, **kw), "Content-Type": "application/json"}


async def state_of(item_id: str) -> tuple[Any, ...]:
    item = await PlaidItem.get(id=item_id)
    jobs = await SyncJob.filter(plaid_item_id=item_id).count()
    return item.error, item.consent_expires_at, item.new_accounts_available, jobs


@pytest.fixture
async def item(client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller) -> tuple[str, str]:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    return item_id, (await PlaidItem.get(id=item_id)).item_id


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def forged_headers(emulator: EmulatorServer, body: bytes) -> dict[str, dict[str, str]]:
    import hashlib

    kid = signer_of(emulator).kid
    digest = hashlib.sha256(body).hexdigest()
    other_key = ec.generate_private_key(ec.SECP256R1())
    claims = {"iat": int(time.time()), "request_body_sha256": digest}
    return {
        "missing": {},
        "not-a-jwt": {"Plaid-Verification": "definitely-not-a-jwt"},
        "alg-none": {"Plaid-Verification": _unsigned({"alg": "none", "kid": kid, "typ": "JWT"}, claims)},
        "hs256": {"Plaid-Verification": jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": kid})},
        "no-kid": {"Plaid-Verification": jwt.encode(claims, other_key, algorithm="ES256")},
        "wrong-kid": {
            "Plaid-Verification": jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": str(uuid.uuid4())})
        },
        "forged-signature": {
            "Plaid-Verification": jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": kid})
        },
        "tampered-body": signed(emulator, body.replace(b"DEFAULT_UPDATE", b"DEFAULT_UPDATF")),
        "replayed-old": signed(emulator, body, issued_at=int(time.time()) - 600),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "not-a-jwt",
        "alg-none",
        "hs256",
        "no-kid",
        "wrong-kid",
        "forged-signature",
        "tampered-body",
        "replayed-old",
    ],
)
async def test_unverified_webhooks_are_401_and_change_nothing(
    client: httpx.AsyncClient, emulator: EmulatorServer, item: tuple[str, str], case: str
) -> None:
    row_id, plaid_item_id = item
    body = payload(plaid_item_id)
    before = await state_of(row_id)
    response = await client.post(HOOK, content=body, headers=forged_headers(emulator, body)[case])
    assert response.status_code == 401, response.text
    assert response.json()["statusCode"] == 401
    assert await state_of(row_id) == before


async def test_malformed_and_oversized_bodies_are_400(
    client: httpx.AsyncClient, emulator: EmulatorServer, item: tuple[str, str]
) -> None:
    row_id, plaid_item_id = item
    before = await state_of(row_id)
    for body in (b"{not json", b"[]", json.dumps({"webhook_type": 1}).encode()):
        response = await client.post(HOOK, content=body, headers=signed(emulator, body))
        assert response.status_code == 400, body
    huge = payload(plaid_item_id, padding="x" * 70000)
    assert (await client.post(HOOK, content=huge, headers=signed(emulator, huge))).status_code == 400
    assert await state_of(row_id) == before


async def test_unknown_items_types_and_codes_are_acknowledged_without_writes(
    client: httpx.AsyncClient, emulator: EmulatorServer, item: tuple[str, str]
) -> None:
    row_id, plaid_item_id = item
    before = await state_of(row_id)
    for body in (
        payload("unknown-item"),
        payload(plaid_item_id, kind="AUTH"),
        payload(plaid_item_id, kind="ITEM", code="SOMETHING_NEW"),
    ):
        response = await client.post(HOOK, content=body, headers=signed(emulator, body))
        assert (response.status_code, response.content) == (200, b"")
    assert await state_of(row_id) == before


async def test_a_flood_of_random_kids_costs_a_bounded_number_of_key_fetches_and_genuine_webhooks_get_through(
    client: httpx.AsyncClient, emulator: EmulatorServer, item: tuple[str, str], app: Starlette
) -> None:
    services = app.state.services
    original = services.webhook_keys
    services.webhook_keys = WebhookKeyCache(
        services.plaid.get_webhook_verification_key, fetches_per_minute=5, fetches_per_minute_per_source=3
    )
    attacker = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 4000)), base_url="http://testserver"
    )
    try:
        body = payload(item[1])
        key = ec.generate_private_key(ec.SECP256R1())
        claims = {"iat": int(time.time()), "request_body_sha256": hashlib.sha256(body).hexdigest()}
        tokens = [jwt.encode(claims, key, algorithm="ES256", headers={"kid": str(uuid.uuid4())}) for _ in range(40)]
        tokens += [tokens[0]] * 20
        responses = await asyncio.gather(
            *(attacker.post(HOOK, content=body, headers={"Plaid-Verification": t}) for t in tokens)
        )
        assert {r.status_code for r in responses} == {401}
        assert services.webhook_keys.fetches == 3
        valid = await client.post(HOOK, content=body, headers=signed(emulator, body))
        assert valid.status_code == 200, valid.text
        assert services.webhook_keys.fetches == 4
    finally:
        await attacker.aclose()
        services.webhook_keys = original


async def test_stale_or_mismatched_tokens_never_cost_a_key_fetch(
    client: httpx.AsyncClient, item: tuple[str, str], app: Starlette
) -> None:
    services = app.state.services
    original = services.webhook_keys
    services.webhook_keys = WebhookKeyCache(services.plaid.get_webhook_verification_key)
    try:
        body = payload(item[1])
        key = ec.generate_private_key(ec.SECP256R1())
        digest = hashlib.sha256(body).hexdigest()
        for claims in (
            {"iat": int(time.time()), "request_body_sha256": "0" * 64},
            {"iat": int(time.time()) - 3600, "request_body_sha256": digest},
            {"request_body_sha256": digest},
        ):
            token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": str(uuid.uuid4())})
            assert (await client.post(HOOK, content=body, headers={"Plaid-Verification": token})).status_code == 401
        assert services.webhook_keys.fetches == 0
    finally:
        services.webhook_keys = original


async def test_known_key_is_fetched_once(
    client: httpx.AsyncClient, emulator: EmulatorServer, item: tuple[str, str], app: Starlette
) -> None:
    services = app.state.services
    original = services.webhook_keys
    services.webhook_keys = WebhookKeyCache(services.plaid.get_webhook_verification_key)
    try:
        body = payload(item[1], kind="ITEM", code="WEBHOOK_UPDATE_ACKNOWLEDGED")
        responses = await asyncio.gather(
            *(client.post(HOOK, content=body, headers=signed(emulator, body)) for _ in range(30))
        )
        assert {r.status_code for r in responses} == {200}
        assert services.webhook_keys.fetches == 1
    finally:
        services.webhook_keys = original


@pytest.fixture
async def served_item(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, served: str
) -> Iterator[tuple[str, str, str]]:
    """An item whose webhook points at the served process, with its access token for sandbox calls."""
    seeded = await emulator_call(emulator, "POST", "/emulator/items", {"webhook": f"{served}{HOOK}"})
    accounts = (await plaid_post(emulator, "/accounts/get", {"access_token": seeded["access_token"]}))["accounts"]
    body = {
        "publicToken": seeded["public_token"],
        "institutionId": "ins_109508",
        "institutionName": "First Platypus Bank",
        "accounts": [
            {"id": a["account_id"], "name": a["name"], "type": a["type"], "subtype": a["subtype"], "mask": a["mask"]}
            for a in accounts
        ],
    }
    response = await client.post("/api/v1/plaid/exchange-token", json=body, headers=alice.headers)
    await forget_first_sync(response.json()["plaidItemId"])
    return response.json()["plaidItemId"], seeded["item_id"], seeded["access_token"]


async def fire(emulator: EmulatorServer, access_token: str, code: str, kind: str | None = None) -> dict[str, Any]:
    """Fire a webhook as a client can at Plaid's sandbox (``/sandbox/item/fire_webhook``) and wait for it."""
    before = len((await emulator_call(emulator, "GET", "/emulator/webhooks"))["webhooks"])
    body: dict[str, Any] = {"access_token": access_token, "webhook_code": code}
    if kind:
        body["webhook_type"] = kind
    assert (await plaid_post(emulator, "/sandbox/item/fire_webhook", body))["webhook_fired"] is True
    return await delivered(emulator, before)


async def send(emulator: EmulatorServer, plaid_item_id: str, code: str) -> dict[str, Any]:
    """Have the emulator send a webhook Plaid sends but its sandbox does not let a client fire."""
    before = len((await emulator_call(emulator, "GET", "/emulator/webhooks"))["webhooks"])
    await emulator_call(emulator, "POST", "/emulator/webhooks", {"item_id": plaid_item_id, "webhook_code": code})
    return await delivered(emulator, before)


async def delivered(emulator: EmulatorServer, before: int) -> dict[str, Any]:
    for _ in range(200):
        deliveries = (await emulator_call(emulator, "GET", "/emulator/webhooks"))["webhooks"]
        if len(deliveries) > before:
            delivery: dict[str, Any] = deliveries[-1]
            assert delivery["status"] == 200, delivery
            return delivery
        await asyncio.sleep(0.025)
    raise AssertionError("the webhook was not delivered")


@pytest.mark.parametrize("kind", ["HOLDINGS", "INVESTMENTS_TRANSACTIONS"])
async def test_default_update_enqueues_one_webhook_sync(
    emulator: EmulatorServer, served_item: tuple[str, str, str], kind: str
) -> None:
    row_id, _, token = served_item
    await fire(emulator, token, "DEFAULT_UPDATE", kind)
    await fire(emulator, token, "DEFAULT_UPDATE", kind)
    jobs = await SyncJob.filter(plaid_item_id=row_id)
    assert [(j.trigger, j.status) for j in jobs] == [(SyncTrigger.WEBHOOK, SyncStatus.QUEUED)]


async def test_item_codes_update_the_item(
    emulator: EmulatorServer, served_item: tuple[str, str, str], client: httpx.AsyncClient, alice: Caller
) -> None:
    row_id, plaid_item_id, token = served_item
    await fire(emulator, token, "NEW_ACCOUNTS_AVAILABLE")
    assert (await PlaidItem.get(id=row_id)).new_accounts_available is True
    await send(emulator, plaid_item_id, "PENDING_EXPIRATION")
    item = await PlaidItem.get(id=row_id)
    assert item.error == "PENDING_EXPIRATION" and item.consent_expires_at is not None
    assert item.consent_expires_at > datetime.now(UTC)
    await fire(emulator, token, "ERROR")
    assert (await PlaidItem.get(id=row_id)).error == "ITEM_LOGIN_REQUIRED"
    await fire(emulator, token, "LOGIN_REPAIRED")
    assert (await PlaidItem.get(id=row_id)).error is None
    assert (
        await SyncJob.filter(plaid_item_id=row_id, trigger=SyncTrigger.WEBHOOK, status=SyncStatus.QUEUED).count() == 1
    )
    await send(emulator, plaid_item_id, "WEBHOOK_UPDATE_ACKNOWLEDGED")
    await fire(emulator, token, "PENDING_DISCONNECT")
    assert (await PlaidItem.get(id=row_id)).error == "PENDING_DISCONNECT"
    await SyncJob.filter(plaid_item_id=row_id).update(status=SyncStatus.SUCCEEDED)
    await fire(emulator, token, "USER_PERMISSION_REVOKED")
    assert (await PlaidItem.get(id=row_id)).error == "USER_PERMISSION_REVOKED"
    sync = await client.post(f"/api/v1/plaid/sync/{row_id}", headers=alice.headers)
    assert sync.status_code == 409 and "revoked" in sync.json()["message"]


async def test_update_during_a_running_sync_gets_exactly_one_follow_up(
    client: httpx.AsyncClient, emulator: EmulatorServer, item: tuple[str, str], sync_services: SyncServices
) -> None:
    row_id, plaid_item_id = item
    queue = sync_services.queue
    running = await request_sync(queue, await PlaidItem.get(id=row_id), SyncTrigger.MANUAL)
    await SyncJob.filter(id=running.id).update(status=SyncStatus.RUNNING)
    Job.fetch(str(running.id), connection=queue.redis).set_status(JobStatus.STARTED)
    queue.redis.set(sync_lock_key(row_id), "a worker", ex=30)
    for _ in range(5):
        body = payload(plaid_item_id)
        assert (await client.post(HOOK, content=body, headers=signed(emulator, body))).status_code == 200
    assert await SyncJob.filter(plaid_item_id=row_id).count() == 1
    queue.redis.delete(sync_lock_key(row_id))
    assert await execute_sync(sync_services, str(running.id)) == SyncStatus.SUCCEEDED
    follow_ups = await SyncJob.filter(plaid_item_id=row_id, trigger=SyncTrigger.WEBHOOK)
    assert [j.status for j in follow_ups] == [SyncStatus.QUEUED]


async def test_a_burst_of_200_webhooks(emulator: EmulatorServer, item: tuple[str, str], served: str) -> None:
    row_id, plaid_item_id = item
    body = payload(plaid_item_id)
    async with httpx.AsyncClient(base_url=served, timeout=30) as http:
        forged = forged_headers(emulator, body)["forged-signature"]
        rejected = await asyncio.gather(*(http.post(HOOK, content=body, headers=forged) for _ in range(200)))
        assert {r.status_code for r in rejected} == {401}
        assert await SyncJob.filter(plaid_item_id=row_id).count() == 0
        accepted = await asyncio.gather(
            *(http.post(HOOK, content=body, headers=signed(emulator, body)) for _ in range(200))
        )
    assert {r.status_code for r in accepted} == {200}
    active = await SyncJob.filter(plaid_item_id=row_id, status__in=[SyncStatus.QUEUED, SyncStatus.RUNNING]).count()
    assert 1 <= active <= 2


async def test_link_tokens_carry_the_webhook_url(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    assert (await client.post("/api/v1/plaid/link-token", headers=alice.headers)).status_code == 200
    requests = (await emulator_call(emulator, "GET", "/emulator/requests"))["requests"]
    last = [r for r in requests if r["path"] == "/link/token/create"][-1]
    assert last["webhook"] == app.state.services.settings.plaid_webhook_url


async def test_successful_update_mode_link_clears_the_error_and_syncs(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    item: tuple[str, str],
    sync_services: SyncServices,
) -> None:
    row_id, _ = item
    stored = await PlaidItem.get(id=row_id)
    token = sync_services.cipher.decrypt(stored.access_token, row_id=str(stored.id))
    await plaid_post(emulator, "/sandbox/item/reset_login", {"access_token": token})
    await PlaidItem.filter(id=row_id).update(error="ITEM_LOGIN_REQUIRED")
    mutation = "mutation($id: ID!) { completePlaidItemReauth(plaidItemId: $id) { status error } }"

    async def complete() -> dict[str, Any]:
        response = await client.post(
            "/graphql", json={"query": mutation, "variables": {"id": row_id}}, headers=alice.headers
        )
        answer: dict[str, Any] = response.json()
        return answer

    still = await complete()
    assert still["errors"][0]["extensions"]["code"] == "CONFLICT"
    link_token = (await client.post(f"/api/v1/plaid/link-token/update/{row_id}", headers=alice.headers)).json()
    await emulator_call(emulator, "POST", "/emulator/link/complete", {"link_token": link_token["linkToken"]})
    done = await complete()
    assert done["data"]["completePlaidItemReauth"] == {"status": "ACTIVE", "error": None}
    assert await SyncJob.filter(plaid_item_id=row_id, status=SyncStatus.QUEUED).count() == 1


async def test_a_signed_but_deeply_nested_body_is_400_not_500(
    client: httpx.AsyncClient, emulator: EmulatorServer, item: tuple[str, str]
) -> None:
    row_id, plaid_item_id = item
    before = await state_of(row_id)
    body = b'{"webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": "' + plaid_item_id.encode()
    body += b'", "error": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await client.post(HOOK, content=body, headers=signed(emulator, body))
    assert response.status_code == 400, response.text
    assert await state_of(row_id) == before
