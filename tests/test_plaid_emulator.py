"""The emulator speaks Plaid: every answer validates against Plaid's OpenAPI spec and plaid-python's models."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import plaid
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from plaid.api import plaid_api
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.country_code import CountryCode
from plaid.model.institutions_get_by_id_request import InstitutionsGetByIdRequest
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest
from plaid.model.investments_transactions_get_request import InvestmentsTransactionsGetRequest
from plaid.model.investments_transactions_get_request_options import InvestmentsTransactionsGetRequestOptions
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.products import Products
from plaid.model.sandbox_item_fire_webhook_request import SandboxItemFireWebhookRequest
from plaid.model.sandbox_item_reset_login_request import SandboxItemResetLoginRequest
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model.webhook_type import WebhookType
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator import EmulatorServer, ThreadedServer
from tests.conftest import PLAID_CLIENT_ID, PLAID_SECRET

SPEC_PATH = Path(__file__).resolve().parents[2] / "shared" / "plaid-openapi" / "2020-09-14.yml"
TODAY = date.today()


@pytest.fixture(scope="session")
def spec() -> OpenAPI:
    with SPEC_PATH.open() as handle:
        return OpenAPI.from_dict(yaml.load(handle, Loader=yaml.CSafeLoader))


class Plaid:
    """Raw HTTP calls to the emulator; each answer is checked against the spec before it is returned."""

    def __init__(self, url: str, spec: OpenAPI) -> None:
        self.url = url
        self.spec = spec
        self.validated: set[tuple[str, int]] = set()

    def __call__(self, path: str, body: dict[str, Any] | None = None, *, status: int = 200, **kw: Any) -> Any:
        payload = {"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET, **(body or {}), **kw}
        response = httpx.post(self.url + path, json=payload, timeout=10)
        assert response.status_code == status, response.text
        self.spec.validate_response(
            MockRequest("https://sandbox.plaid.com", "post", path, data=json.dumps(payload).encode()),
            MockResponse(response.content, status_code=response.status_code),
        )
        self.validated.add((path, response.status_code))
        return response.json()

    def error(self, path: str, code: str, body: dict[str, Any] | None = None, *, status: int = 400) -> Any:
        answer = self(path, body, status=status)
        assert answer["error_code"] == code, answer
        assert {"error_type", "error_message", "display_message", "request_id"} <= set(answer)
        return answer

    def link(self, institution_id: str = "ins_109508", webhook: str | None = None) -> tuple[str, str]:
        options = {"webhook": webhook} if webhook else {}
        public = self(
            "/sandbox/public_token/create",
            institution_id=institution_id,
            initial_products=["investments"],
            options=options,
        )["public_token"]
        exchanged = self("/item/public_token/exchange", public_token=public)
        return exchanged["access_token"], exchanged["item_id"]


@pytest.fixture
def plaid_http(emulator: EmulatorServer, spec: OpenAPI) -> Plaid:
    return Plaid(emulator.url, spec)


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[plaid_api.PlaidApi]:
    configuration = plaid.Configuration(
        host=emulator.url, api_key={"clientId": PLAID_CLIENT_ID, "secret": PLAID_SECRET}
    )
    with plaid.ApiClient(configuration) as client:
        yield plaid_api.PlaidApi(client)


def all_transactions(plaid_http: Plaid, access_token: str, count: int) -> list[dict[str, Any]]:
    collected: list[dict[str, Any]] = []
    total = None
    while total is None or len(collected) < total:
        page = plaid_http(
            "/investments/transactions/get",
            access_token=access_token,
            start_date=(TODAY - timedelta(days=730)).isoformat(),
            end_date=TODAY.isoformat(),
            options={"count": count, "offset": len(collected)},
        )
        total = page["total_investment_transactions"]
        if not page["investment_transactions"]:
            break
        collected.extend(page["investment_transactions"])
    return collected


def test_sandbox_flow_matches_the_spec(plaid_http: Plaid) -> None:
    link = plaid_http(
        "/link/token/create",
        client_name="Ghostfolio",
        language="en",
        country_codes=["US"],
        user={"client_user_id": "user-1"},
        products=["investments"],
    )
    assert link["link_token"].startswith("link-sandbox-")
    access_token, item_id = plaid_http.link()
    assert access_token.startswith("access-sandbox-")
    item = plaid_http("/item/get", access_token=access_token)["item"]
    assert item["item_id"] == item_id and item["institution_id"] == "ins_109508" and item["error"] is None
    accounts = plaid_http("/accounts/get", access_token=access_token)["accounts"]
    assert {a["type"] for a in accounts} == {"investment", "depository"}
    holdings = plaid_http("/investments/holdings/get", access_token=access_token)
    types = {s["type"] for s in holdings["securities"]}
    assert {"equity", "etf", "mutual fund", "fixed income", "cash", "cryptocurrency", "derivative"} <= types
    assert {s["ticker_symbol"] for s in holdings["securities"] if s["is_cash_equivalent"]} == {"CUR:USD", "CUR:EUR"}
    institution = plaid_http("/institutions/get_by_id", institution_id="ins_109508", country_codes=["US"])
    assert institution["institution"]["name"] == "First Platypus Bank"
    update = plaid_http(
        "/link/token/create",
        client_name="Ghostfolio",
        language="en",
        country_codes=["US"],
        user={"client_user_id": "user-1"},
        access_token=access_token,
    )
    assert update["link_token"].startswith("link-sandbox-")
    assert plaid_http("/sandbox/item/reset_login", access_token=access_token)["reset_login"] is True
    plaid_http.error("/investments/holdings/get", "ITEM_LOGIN_REQUIRED", {"access_token": access_token})
    assert plaid_http("/item/get", access_token=access_token)["item"]["error"]["error_code"] == "ITEM_LOGIN_REQUIRED"
    assert "request_id" in plaid_http("/item/remove", access_token=access_token)
    plaid_http.error("/item/get", "ITEM_NOT_FOUND", {"access_token": access_token})
    plaid_http.error("/item/get", "INVALID_ACCESS_TOKEN", {"access_token": "access-sandbox-unknown"})


def test_transactions_page_newest_first_until_the_total(plaid_http: Plaid) -> None:
    access_token, _ = plaid_http.link()
    paged = all_transactions(plaid_http, access_token, count=17)
    whole = all_transactions(plaid_http, access_token, count=500)
    assert paged == whole
    assert len({t["investment_transaction_id"] for t in whole}) == len(whole) > 100
    dates = [t["date"] for t in whole]
    assert dates == sorted(dates, reverse=True)
    assert {t["type"] for t in whole} >= {"buy", "sell", "cash", "fee", "transfer", "cancel"}
    cancels = [t for t in whole if t["type"] == "cancel"]
    assert cancels and all(
        t["cancel_transaction_id"] in {x["investment_transaction_id"] for x in whole} for t in cancels
    )
    for txn in whole:
        if txn["type"] == "buy":
            assert txn["amount"] > 0 and txn["quantity"] > 0


def test_holdings_follow_from_transactions_except_the_transferred_position(plaid_http: Plaid) -> None:
    access_token, _ = plaid_http.link()
    holdings = plaid_http("/investments/holdings/get", access_token=access_token)
    cash_ids = {s["security_id"] for s in holdings["securities"] if s["is_cash_equivalent"]}
    implied: dict[tuple[str, str], float] = {}
    transactions = all_transactions(plaid_http, access_token, count=500)
    cancelled = {t["cancel_transaction_id"] for t in transactions if t["cancel_transaction_id"]}
    for txn in transactions:
        if txn["security_id"] is None or txn["investment_transaction_id"] in cancelled or txn["type"] == "cancel":
            continue
        sign = {"buy": 1, "sell": -1, "transfer": 1}.get(txn["type"], 0)
        key = (txn["account_id"], txn["security_id"])
        implied[key] = implied.get(key, 0.0) + sign * abs(txn["quantity"])
    reported = {
        (h["account_id"], h["security_id"]): h["quantity"]
        for h in holdings["holdings"]
        if h["security_id"] not in cash_ids
    }
    differing = {key for key in reported if abs(reported[key] - implied.get(key, 0.0)) > 1e-6}
    ira = next(a["account_id"] for a in holdings["accounts"] if a["subtype"] == "ira")
    assert differing and {account for account, _ in differing} == {ira}


def test_same_institution_same_shape_and_rereads_identical(plaid_http: Plaid) -> None:
    first, _ = plaid_http.link()
    second, _ = plaid_http.link()
    one = plaid_http("/investments/holdings/get", access_token=first)
    again = plaid_http("/investments/holdings/get", access_token=first)
    two = plaid_http("/investments/holdings/get", access_token=second)
    for key in ("holdings", "securities", "accounts"):
        assert one[key] == again[key]
    assert [h["quantity"] for h in one["holdings"]] == [h["quantity"] for h in two["holdings"]]
    assert {a["account_id"] for a in one["accounts"]}.isdisjoint({a["account_id"] for a in two["accounts"]})
    assert one["securities"] == two["securities"]


def test_errors_are_plaids(plaid_http: Plaid, emulator: EmulatorServer) -> None:
    bad_keys = httpx.post(emulator.url + "/item/get", json={"client_id": "x", "secret": "y", "access_token": "a"})
    assert bad_keys.status_code == 400 and bad_keys.json()["error_code"] == "INVALID_API_KEYS"
    plaid_http.error("/item/public_token/exchange", "INVALID_PUBLIC_TOKEN", {"public_token": "public-sandbox-x"})
    plaid_http.error("/item/public_token/exchange", "MISSING_FIELDS")
    plaid_http.error(
        "/sandbox/public_token/create",
        "INVALID_INSTITUTION",
        {"institution_id": "ins_nope", "initial_products": ["investments"]},
    )
    plaid_http.error(
        "/institutions/get_by_id", "INVALID_INSTITUTION", {"institution_id": "ins_nope", "country_codes": ["US"]}
    )
    access_token, _ = plaid_http.link()
    plaid_http.error(
        "/investments/transactions/get",
        "INVALID_FIELD",
        {"access_token": access_token, "start_date": "2020-13-01", "end_date": "2021-01-01"},
    )
    plaid_http.error(
        "/investments/transactions/get",
        "INVALID_FIELD",
        {"access_token": access_token, "start_date": "2024-01-01", "end_date": "2024-02-01", "options": {"count": 501}},
    )
    malformed = httpx.post(emulator.url + "/item/get", content=b"{oops", headers={"content-type": "application/json"})
    assert malformed.status_code == 400 and malformed.json()["error_code"] == "INVALID_BODY"


def test_public_tokens_are_single_use(plaid_http: Plaid) -> None:
    public = plaid_http("/sandbox/public_token/create", institution_id="ins_109509", initial_products=["investments"])[
        "public_token"
    ]
    plaid_http("/item/public_token/exchange", public_token=public)
    plaid_http.error("/item/public_token/exchange", "INVALID_PUBLIC_TOKEN", {"public_token": public})


def test_item_public_token_create_gives_a_token_for_the_same_item(plaid_http: Plaid) -> None:
    access_token, item_id = plaid_http.link()
    public = plaid_http("/item/public_token/create", access_token=access_token)["public_token"]
    assert plaid_http("/item/public_token/exchange", public_token=public)["item_id"] == item_id


def test_faults_answer_plaid_errors_then_clear(plaid_http: Plaid, emulator: EmulatorServer) -> None:
    access_token, _ = plaid_http.link()
    httpx.post(
        emulator.url + "/emulator/faults",
        json={"path": "/investments/holdings/get", "error_code": "RATE_LIMIT_EXCEEDED", "times": 2},
    )
    for _ in range(2):
        plaid_http.error("/investments/holdings/get", "RATE_LIMIT_EXCEEDED", {"access_token": access_token}, status=429)
    plaid_http("/investments/holdings/get", access_token=access_token)
    httpx.post(emulator.url + "/emulator/faults", json={"path": "/item/get", "status": 502, "body": "bad gateway"})
    raw = httpx.post(
        emulator.url + "/item/get",
        json={"client_id": PLAID_CLIENT_ID, "secret": PLAID_SECRET, "access_token": access_token},
    )
    assert raw.status_code == 502 and raw.text == "bad gateway"
    httpx.post(emulator.url + "/emulator/faults", json={"path": "/item/get", "delay_ms": 300})
    started = time.monotonic()
    plaid_http("/item/get", access_token=access_token)
    assert time.monotonic() - started >= 0.3


def test_request_log_names_items_but_holds_no_secrets(plaid_http: Plaid, emulator: EmulatorServer) -> None:
    access_token, item_id = plaid_http.link()
    plaid_http("/accounts/get", access_token=access_token)
    log = httpx.get(emulator.url + "/emulator/requests").text
    assert access_token not in log and PLAID_SECRET not in log
    entries = httpx.get(emulator.url + "/emulator/requests").json()["requests"]
    assert any(e["path"] == "/accounts/get" and e["item_id"] == item_id for e in entries)


def test_seeded_items_can_be_large(emulator: EmulatorServer, plaid_http: Plaid) -> None:
    shape = {"investment_accounts": 5, "securities": 50, "transactions_per_account": 300, "depository_account": False}
    seeded = httpx.post(emulator.url + "/emulator/items", json={"shape": shape}).json()
    holdings = plaid_http("/investments/holdings/get", access_token=seeded["access_token"])
    assert len(holdings["accounts"]) == 5
    assert len([s for s in holdings["securities"] if not s["is_cash_equivalent"]]) == 50
    first = plaid_http(
        "/investments/transactions/get",
        access_token=seeded["access_token"],
        start_date=(TODAY - timedelta(days=730)).isoformat(),
        end_date=TODAY.isoformat(),
    )
    assert first["total_investment_transactions"] == 1500 and len(first["investment_transactions"]) == 100


def test_sdk_models_accept_every_response(api: plaid_api.PlaidApi) -> None:
    link = api.link_token_create(
        LinkTokenCreateRequest(
            client_name="Ghostfolio",
            language="en",
            country_codes=[CountryCode("US")],
            user=LinkTokenCreateRequestUser(client_user_id="user-1"),
            products=[Products("investments")],
        )
    )
    assert link.link_token.startswith("link-sandbox-")
    public = api.sandbox_public_token_create(
        SandboxPublicTokenCreateRequest(institution_id="ins_109510", initial_products=[Products("investments")])
    ).public_token
    access_token = api.item_public_token_exchange(ItemPublicTokenExchangeRequest(public_token=public)).access_token
    assert api.item_get(ItemGetRequest(access_token=access_token)).item.institution_id == "ins_109510"
    assert len(api.accounts_get(AccountsGetRequest(access_token=access_token)).accounts) == 4
    holdings = api.investments_holdings_get(InvestmentsHoldingsGetRequest(access_token=access_token))
    assert holdings.securities and holdings.holdings
    page = api.investments_transactions_get(
        InvestmentsTransactionsGetRequest(
            access_token=access_token,
            start_date=TODAY - timedelta(days=730),
            end_date=TODAY,
            options=InvestmentsTransactionsGetRequestOptions(count=500, offset=0),
        )
    )
    assert page.total_investment_transactions == len(page.investment_transactions)
    institution = api.institutions_get_by_id(
        InstitutionsGetByIdRequest(institution_id="ins_109510", country_codes=[CountryCode("US")])
    )
    assert institution.institution.name == "Tattersall Federal Credit Union"
    assert api.sandbox_item_reset_login(SandboxItemResetLoginRequest(access_token=access_token)).reset_login
    api.item_remove(ItemRemoveRequest(access_token=access_token))
    with pytest.raises(plaid.ApiException) as caught:
        api.item_get(ItemGetRequest(access_token=access_token))
    assert json.loads(caught.value.body)["error_code"] == "ITEM_NOT_FOUND"


def test_fired_webhooks_are_signed_over_the_raw_body(api: plaid_api.PlaidApi, plaid_http: Plaid) -> None:
    received: list[tuple[bytes, str]] = []

    async def receive(request: Request) -> Response:
        received.append((await request.body(), request.headers["plaid-verification"]))
        return Response(status_code=200)

    with ThreadedServer(Starlette(routes=[Route("/hook", receive, methods=["POST"])])) as receiver:
        access_token, item_id = plaid_http.link(webhook=receiver.url + "/hook")
        fired = api.sandbox_item_fire_webhook(
            SandboxItemFireWebhookRequest(
                access_token=access_token, webhook_code="DEFAULT_UPDATE", webhook_type=WebhookType("HOLDINGS")
            )
        )
        assert fired.webhook_fired
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
    ((raw, token),) = received
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    key = api.webhook_verification_key_get(WebhookVerificationKeyGetRequest(key_id=header["kid"])).key
    public_key = jwt.PyJWK(key.to_dict(), algorithm="ES256")
    claims = jwt.decode(token, public_key, algorithms=["ES256"])
    assert claims["request_body_sha256"] == hashlib.sha256(raw).hexdigest()
    assert time.time() - claims["iat"] < 60
    body = json.loads(raw)
    assert body["webhook_type"] == "HOLDINGS" and body["item_id"] == item_id
    assert raw.startswith(b'{\n  "')
    plaid_http.error("/webhook_verification_key/get", "INVALID_WEBHOOK_VERIFICATION_KEY_ID", {"key_id": "nope"})


def test_fire_webhook_without_a_webhook_is_refused(plaid_http: Plaid) -> None:
    access_token, _ = plaid_http.link()
    plaid_http.error(
        "/sandbox/item/fire_webhook",
        "SANDBOX_WEBHOOK_INVALID",
        {"access_token": access_token, "webhook_code": "DEFAULT_UPDATE", "webhook_type": "HOLDINGS"},
    )
