"""Every GraphQL operation, its error codes, and the constant query count of item lists."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from ghostfolio_plaid.app import create_app
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.models import Account, PlaidItem
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.resolvers import link
from ghostfolio_plaid.schema.scalars import plain_decimal
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync
from tests.conftest import Caller, SQLCounter, emulator_call
from tests.linking import forget_first_sync, link_item, link_seeded_item, listed_accounts, seed_item

ITEMS = (
    "{ plaidItems { id institutionId institutionName status accountCount disconnectedAt error "
    "accounts { id name plaidAccountId type subtype mask balance currency } } }"
)


async def gql(client: httpx.AsyncClient, query: str, caller: Caller | None = None, **variables: Any) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers=caller.headers if caller else {},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def error_code(body: dict[str, Any]) -> str:
    (error,) = body["errors"]
    code: str = error["extensions"]["code"]
    return code


EXCHANGE = """
mutation($input: ExchangePublicTokenInput!) {
  exchangePublicToken(input: $input) { plaidItemId accounts { accountId plaidAccountId name } }
}"""


async def test_exchange_then_list_with_accounts(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    seeded, plaid_accounts = await seed_item(emulator)
    body = await gql(
        client,
        EXCHANGE,
        alice,
        input={
            "publicToken": seeded["public_token"],
            "institutionId": "ins_109508",
            "institutionName": "First Platypus Bank",
            "accounts": listed_accounts(plaid_accounts)[:2],
        },
    )
    payload = body["data"]["exchangePublicToken"]
    await forget_first_sync(payload["plaidItemId"])
    assert [a["plaidAccountId"] for a in payload["accounts"]] == [a["account_id"] for a in plaid_accounts]
    listed = (await gql(client, ITEMS, alice))["data"]["plaidItems"]
    assert [item["id"] for item in listed] == [payload["plaidItemId"]]
    (item,) = listed
    assert item["status"] == "ACTIVE"
    assert item["accountCount"] == 4
    assert {a["name"] for a in item["accounts"]} == {"My Brokerage", "My IRA", "Plaid 401k", "Plaid Checking"}
    assert all(Decimal(a["balance"]) == 0 and a["currency"] == "USD" for a in item["accounts"])


async def test_create_link_token_and_reauth(client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller) -> None:
    token = (await gql(client, "mutation { createLinkToken { linkToken expiration } }", alice))["data"]
    assert token["createLinkToken"]["linkToken"].startswith("link-")
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    reauth = await gql(
        client,
        "mutation($id: ID!) { reauthPlaidItem(plaidItemId: $id) { linkToken expiration } }",
        alice,
        id=item_id,
    )
    assert reauth["data"]["reauthPlaidItem"]["linkToken"].startswith("link-")


async def test_sync_job_lifecycle_fields_and_conflict(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, bob: Caller
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    mutation = (
        "mutation($id: ID!) { syncPlaidItem(plaidItemId: $id) "
        "{ id status trigger createdAt startedAt finishedAt error } }"
    )
    job = (await gql(client, mutation, alice, id=item_id))["data"]["syncPlaidItem"]
    assert job["status"] == "QUEUED" and job["trigger"] == "MANUAL"
    assert job["startedAt"] is None and job["finishedAt"] is None and job["error"] is None
    assert error_code(await gql(client, mutation, alice, id=item_id)) == "CONFLICT"
    query = "query($id: ID!) { syncJob(id: $id) { id status } }"
    assert (await gql(client, query, alice, id=job["id"]))["data"]["syncJob"] == {
        "id": job["id"],
        "status": "QUEUED",
    }
    assert error_code(await gql(client, query, bob, id=job["id"])) == "NOT_FOUND"


async def test_disconnect_returns_the_item(client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    body = await gql(
        client,
        "mutation($id: ID!) { disconnectPlaidItem(plaidItemId: $id) { id status disconnectedAt accountCount } }",
        alice,
        id=item_id,
    )
    item = body["data"]["disconnectPlaidItem"]
    assert item["status"] == "DISCONNECTED" and item["disconnectedAt"] and item["accountCount"] == 4


@pytest.mark.parametrize(
    ("who", "item", "code"),
    [
        ("bob", "alices", "FORBIDDEN"),
        ("alice", "unknown", "NOT_FOUND"),
        ("alice", "malformed", "BAD_USER_INPUT"),
    ],
)
async def test_item_errors_carry_codes(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    bob: Caller,
    who: str,
    item: str,
    code: str,
) -> None:
    alices = (await link_item(client, emulator, alice))["plaidItemId"]
    item_id = {"alices": alices, "unknown": str(uuid.uuid4()), "malformed": "nope"}[item]
    caller = alice if who == "alice" else bob
    body = await gql(client, "query($id: ID!) { plaidItem(id: $id) { id } }", caller, id=item_id)
    assert error_code(body) == code


async def test_unauthenticated_and_feature_disabled(client: httpx.AsyncClient, alice: Caller) -> None:
    assert error_code(await gql(client, "{ plaidItems { id } }")) == "UNAUTHENTICATED"
    bad = Caller(id="x", token="abc.def.ghi")
    assert error_code(await gql(client, "{ plaidItems { id } }", bad)) == "UNAUTHENTICATED"


async def test_feature_disabled_code(client: httpx.AsyncClient, alice: Caller, feature_disabled: None) -> None:
    assert error_code(await gql(client, "{ plaidItems { id } }", alice)) == "FEATURE_DISABLED"


async def test_plaid_errors_carry_plaids_code(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    await emulator_call(
        emulator,
        "POST",
        "/emulator/faults",
        {"path": "/link/token/create", "error_code": "INSTITUTION_DOWN", "times": 1},
    )
    body = await gql(client, "mutation { createLinkToken { linkToken } }", alice)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "PLAID_ERROR"
    assert error["extensions"]["plaidErrorCode"] == "INSTITUTION_DOWN"


async def test_unexpected_errors_are_masked(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]

    async def broken(*args: object) -> None:
        raise RuntimeError("a bug with a secret detail")

    monkeypatch.setattr(link, "create_update_link_token", broken)
    body = await gql(
        client, "mutation($id: ID!) { reauthPlaidItem(plaidItemId: $id) { linkToken } }", alice, id=item_id
    )
    (error,) = body["errors"]
    assert error == {**error, "message": "Internal server error", "extensions": {"code": "INTERNAL"}}
    (logged,) = [r for r in caplog.records if r.name == "ghostfolio_plaid.schema"]
    assert logged.levelname == "ERROR" and "RuntimeError" in (logged.exc_text or "")


async def test_an_item_whose_access_token_is_unreadable_says_so_and_can_be_disconnected(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    await PlaidItem.filter(id=item_id).update(access_token="v1.deadbeef.AAAA")
    for mutation in (
        "reauthPlaidItem(plaidItemId: $id) { linkToken }",
        "completePlaidItemReauth(plaidItemId: $id) { id }",
    ):
        (error,) = (await gql(client, f"mutation($id: ID!) {{ {mutation} }}", alice, id=item_id))["errors"]
        assert error["extensions"]["code"] == "CONFLICT"
        assert "PLAID_ENCRYPTION_KEY" in error["message"] and "disconnect" in error["message"]
    disconnected = await gql(
        client, "mutation($id: ID!) { disconnectPlaidItem(plaidItemId: $id) { status } }", alice, id=item_id
    )
    assert disconnected["data"]["disconnectPlaidItem"]["status"] == "DISCONNECTED"


async def test_item_list_costs_constant_queries(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sql_counter: SQLCounter
) -> None:
    await link_item(client, emulator, alice)
    await gql(client, ITEMS, alice)
    sql_counter.statements.clear()
    assert len((await gql(client, ITEMS, alice))["data"]["plaidItems"]) == 1
    with_one = len(sql_counter.statements)
    for _ in range(4):
        await link_item(client, emulator, alice)
    sql_counter.statements.clear()
    assert len((await gql(client, ITEMS, alice))["data"]["plaidItems"]) == 5
    assert len(sql_counter.statements) == with_one <= 2


ACCOUNT_DATA = """
query($first: Int, $after: String) { plaidItems { accounts {
  plaidAccountId subtype balance
  holdings { symbol name quantity price value costBasis currency }
  activities(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id type date quantity unitPrice fee currency symbol symbolName plaidTransactionId } }
  }
} } }"""


async def test_accounts_expose_holdings_and_paged_activities(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sync_services: SyncServices
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    job = await gql(client, "mutation($id: ID!) { syncPlaidItem(plaidItemId: $id) { id } }", alice, id=item_id)
    job_id = job["data"]["syncPlaidItem"]["id"]
    await execute_sync(sync_services, job_id)
    counts = await gql(
        client,
        "query($id: ID!) { syncJob(id: $id) { status activitiesCreated activitiesUpdated activitiesRemoved "
        "holdingsSeen } }",
        alice,
        id=job_id,
    )
    job_counts = counts["data"]["syncJob"]
    assert job_counts["status"] == "SUCCEEDED" and job_counts["activitiesCreated"] > 0
    assert job_counts["holdingsSeen"] > 0 and job_counts["activitiesRemoved"] == 0

    (item,) = (await gql(client, ACCOUNT_DATA, alice, first=7))["data"]["plaidItems"]
    brokerage = next(a for a in item["accounts"] if a["subtype"] == "brokerage")
    symbols = {h["symbol"] for h in brokerage["holdings"]}
    assert {"AAPL", "CUR:USD", "US91282CJL54"} <= symbols
    cash = next(h for h in brokerage["holdings"] if h["symbol"] == "CUR:USD")
    assert Decimal(cash["value"]) == Decimal(brokerage["balance"])
    connection = brokerage["activities"]
    assert len(connection["edges"]) == 7 and connection["pageInfo"]["hasNextPage"]
    seen = [edge["node"] for edge in connection["edges"]]
    after = connection["pageInfo"]["endCursor"]
    while after:
        page = (await gql(client, ACCOUNT_DATA, alice, first=50, after=after))["data"]["plaidItems"][0]
        page_connection = next(a for a in page["accounts"] if a["subtype"] == "brokerage")["activities"]
        seen.extend(edge["node"] for edge in page_connection["edges"])
        after = page_connection["pageInfo"]["endCursor"] if page_connection["pageInfo"]["hasNextPage"] else None
    assert len(seen) == len({a["id"] for a in seen}) == connection["totalCount"]
    dates = [a["date"] for a in seen]
    assert dates == sorted(dates, reverse=True)
    assert {a["type"] for a in seen} >= {"BUY", "SELL", "DIVIDEND", "FEE", "INTEREST"}
    bad = await gql(client, ACCOUNT_DATA, alice, first=7, after="not-a-cursor")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_sync_job_shows_fetch_progress(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sync_services: SyncServices
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    job = await gql(client, "mutation($id: ID!) { syncPlaidItem(plaidItemId: $id) { id } }", alice, id=item_id)
    job_id = job["data"]["syncPlaidItem"]["id"]
    query = "query($id: ID!) { syncJob(id: $id) { transactionsFetched transactionsTotal } }"
    assert (await gql(client, query, alice, id=job_id))["data"]["syncJob"] == {
        "transactionsFetched": 0,
        "transactionsTotal": None,
    }
    await execute_sync(sync_services, job_id)
    progress = (await gql(client, query, alice, id=job_id))["data"]["syncJob"]
    assert progress["transactionsFetched"] == progress["transactionsTotal"] > 0


async def test_introspection_and_graphiql_can_be_switched_off(settings: Settings, app: Starlette) -> None:
    locked = create_app(replace(settings, enable_graphiql=False, enable_introspection=False))
    locked.state.services = app.state.services
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=locked), base_url="http://testserver") as http:
        answer = (await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})).json()
        assert answer["data"] is None and "introspection" in answer["errors"][0]["message"].lower()
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert "graphiql" not in page.text.lower()


async def test_abusive_queries_are_refused_before_any_work(
    client: httpx.AsyncClient, alice: Caller, sql_counter: SQLCounter
) -> None:
    deep = "{ " + "a { " * 12 + "b" + " }" * 12 + " }"
    aliases = "{ " + " ".join(f"a{n}: plaidItems {{ id }}" for n in range(31)) + " }"
    tokens = "{ plaidItems { " + " ".join(["id"] * 2100) + " } }"
    sql_counter.statements.clear()
    for query, message in ((deep, "depth"), (aliases, "aliases"), (tokens, "token")):
        response = await client.post("/graphql", json={"query": query}, headers=alice.headers)
        errors = response.json()["errors"]
        assert any(message in error["message"].lower() for error in errors), errors
    batch = await client.post("/graphql", json=[{"query": "{ plaidItems { id } }"}] * 5, headers=alice.headers)
    assert batch.status_code == 400
    assert sql_counter.statements == []


def deep_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(deep_json(1000), "nested", id="1000-deep"),
        pytest.param(b'{"query": "{ __typename }", "variables": {"v": ' + deep_json(1000) + b"}}", "nested", id="vars"),
        pytest.param(
            b'{"query": "{ __typename }", "variables": {"v": ' + deep_json(100) + b"}}", "nested", id="vars-100"
        ),
        pytest.param(b'{"query": "{ __typename \xff }"}', "UTF-8", id="invalid-utf8"),
        pytest.param(b'{"query": "{ __typename }", "variables": {"v": "\\udc00"}}', "Unicode", id="lone-surrogate"),
        pytest.param(b'{"query": "{ __typename }", "variables": {"v": NaN}}', "valid JSON", id="nan"),
        pytest.param(b"5", "object", id="number"),
        pytest.param(b'"{ __typename }"', "object", id="string"),
        pytest.param(b"null", "object", id="null"),
        pytest.param(b"[]", "Batching", id="batch"),
        pytest.param(b'{"query": 5}', "query", id="query-not-a-string"),
        pytest.param(b'{"query": "{ __typename }", "operationName": 5}', "operationName", id="name-not-a-string"),
    ],
)
async def test_malformed_requests_are_a_json_400(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, content: bytes, message: str
) -> None:
    response = await client.post("/graphql", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    (error,) = response.json()["errors"]
    assert message in error["message"] and error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    ("query_string", "status", "message"),
    [
        pytest.param("query=%7B__typename%7D", 400, "GET", id="query"),
        pytest.param("query=mutation%7BcreateLinkToken%7BlinkToken%7D%7D", 400, "GET", id="mutation"),
        pytest.param("query=%7B__typename%7D&variables=" + "%5B" * 1000 + "%5D" * 1000, 400, "nested", id="deep-vars"),
        pytest.param("query=%7B__typename%7D&variables=%FF%FE", 400, "valid JSON", id="bad-bytes"),
        pytest.param("query=%7B__typename%7D&variables=5", 400, "variables", id="vars-not-object"),
        pytest.param("query=%7B__typename%7D&extensions=%5B%5D", 400, "extensions", id="extensions-not-object"),
        pytest.param("variables=%7B%7D", 400, "No GraphQL query", id="no-query"),
        pytest.param("query=%00", 200, "Syntax Error", id="nul"),
        pytest.param("query=" + "%7B" * 5000, 200, "Syntax Error", id="deep-document"),
    ],
)
async def test_odd_get_requests_are_json_errors(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, query_string: str, status: int, message: str
) -> None:
    """Refused before parsing: a 400; a document that does not parse is a GraphQL result with errors (a 200)."""
    response = await client.get(f"/graphql?{query_string}", headers={"accept": "application/json"})
    assert response.status_code == status, response.text
    (error,) = response.json()["errors"]
    assert message in error["message"] and error["extensions"] == {"code": "BAD_USER_INPUT"}, error
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


VALID_INPUT = {"publicToken": "public-x", "institutionId": "ins_1", "institutionName": "Bank", "accounts": []}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        pytest.param(EXCHANGE, {"input": {**VALID_INPUT, "bogus": 1}}, id="unknown-input-field"),
        pytest.param(EXCHANGE, {"input": {**VALID_INPUT, "accounts": None}}, id="null-accounts"),
        pytest.param(EXCHANGE, {"input": {**VALID_INPUT, "publicToken": 5}}, id="wrong-type"),
        pytest.param(EXCHANGE, {"input": {**VALID_INPUT, "accounts": [{"id": 1}]}}, id="bad-account"),
        pytest.param(EXCHANGE, {"input": "x"}, id="input-not-an-object"),
        pytest.param(EXCHANGE, {}, id="input-missing"),
        pytest.param("query($id: ID!) { plaidItem(id: $id) { id } }", {"id": {"a": 1}}, id="id-object"),
        pytest.param(ACCOUNT_DATA, {"first": 2**40}, id="int-overflow"),
        pytest.param("{ plaidItems { nope } }", {}, id="unknown-field"),
        pytest.param("{ plaidItems { id ", {}, id="syntax"),
    ],
)
async def test_bad_variables_and_documents_are_the_callers_mistake(
    client: httpx.AsyncClient, alice: Caller, caplog: pytest.LogCaptureFixture, query: str, variables: dict[str, Any]
) -> None:
    caplog.set_level(logging.DEBUG, logger="ghostfolio_plaid.schema")
    body = await gql(client, query, alice, **variables)
    assert body["data"] is None and body["errors"]
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_USER_INPUT"}, body["errors"]
    assert all(error["message"] != "Internal server error" for error in body["errors"])
    logged = [r for r in caplog.records if r.name == "ghostfolio_plaid.schema"]
    assert logged and {r.levelname for r in logged} == {"DEBUG"}


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("0", "0"),
        ("0E-8", "0"),
        ("-0.00000000", "0"),
        ("0.00000001", "0.00000001"),
        ("-0.00000001", "-0.00000001"),
        ("1.50000000", "1.5"),
        ("1000", "1000"),
        ("99999999999999999999.99999999", "99999999999999999999.99999999"),
        ("-12345678901234567890.12345678", "-12345678901234567890.12345678"),
    ],
)
async def test_decimals_are_plain_strings(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, stored: str, shown: str
) -> None:
    await link_item(client, emulator, alice)
    await Account.filter(user_id=alice.id).update(balance=Decimal(stored))
    (item,) = (await gql(client, "{ plaidItems { accounts { balance } } }", alice))["data"]["plaidItems"]
    assert {account["balance"] for account in item["accounts"]} == {shown}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E-30"), "0." + "0" * 29 + "1"),
        (Decimal("1E+30"), "1" + "0" * 30),
        (Decimal("-0E+5"), "0"),
        (Decimal("123.4500"), "123.45"),
        (Decimal("-5E-1"), "-0.5"),
        (7, "7"),
    ],
)
def test_plain_decimal_never_uses_an_exponent(value: object, text: str) -> None:
    assert plain_decimal(value) == text


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("-Infinity"), 1.5, True, "1"])
def test_plain_decimal_refuses_what_is_not_a_finite_decimal(value: object) -> None:
    with pytest.raises(ValueError, match="Decimal cannot represent"):
        plain_decimal(value)


SYNC_JOBS = """query Jobs($id: ID!, $first: Int, $after: String) {
  plaidItem(id: $id) {
    lastSyncJob { id status }
    syncJobs(first: $first, after: $after) {
      edges { cursor node { id status trigger } }
      pageInfo { hasNextPage endCursor }
      totalCount
    }
  }
}"""


async def test_sync_jobs_page_newest_first_and_last_sync_job(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, bob: Caller
) -> None:
    from datetime import UTC, datetime, timedelta

    from ghostfolio_plaid.models import SyncJob, SyncStatus, SyncTrigger

    body = await link_item(client, emulator, alice)
    item_id = body["plaidItemId"]
    empty = await gql(client, SYNC_JOBS, alice, id=item_id)
    assert empty["data"]["plaidItem"]["lastSyncJob"] is None
    assert empty["data"]["plaidItem"]["syncJobs"]["totalCount"] == 0
    start = datetime(2025, 1, 1, tzinfo=UTC)
    ids = []
    for day in range(5):
        job = await SyncJob.create(
            id=uuid.uuid4(), plaid_item_id=item_id, trigger=SyncTrigger.MANUAL, status=SyncStatus.SUCCEEDED
        )
        await SyncJob.filter(id=job.id).update(created_at=start + timedelta(days=day))
        ids.append(str(job.id))
    newest_first = ids[::-1]
    seen: list[str] = []
    after = None
    while True:
        data = (await gql(client, SYNC_JOBS, alice, id=item_id, first=2, after=after))["data"]["plaidItem"]
        page = data["syncJobs"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == newest_first
    assert data["lastSyncJob"] == {"id": newest_first[0], "status": "SUCCEEDED"}
    refused = await gql(client, SYNC_JOBS, bob, id=item_id)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await gql(client, SYNC_JOBS, alice, id=item_id, first=0)
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad = await gql(client, SYNC_JOBS, alice, id=item_id, after="nonsense")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_last_sync_job_of_many_items_costs_two_queries(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sql_counter: SQLCounter
) -> None:
    for _ in range(3):
        await link_item(client, emulator, alice, keep_first_sync=True)
    sql_counter.statements.clear()
    data = await gql(client, "{ plaidItems { lastSyncJob { status trigger } } }", alice)
    assert [item["lastSyncJob"] for item in data["data"]["plaidItems"]] == [{"status": "QUEUED", "trigger": "LINK"}] * 3
    assert sum("sync_job" in statement for statement in sql_counter.statements) == 2
