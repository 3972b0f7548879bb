"""The emulator speaks Plaid: every answer validates against Plaid's OpenAPI spec and plaid-python's models.

``SpecCheckedPlaid`` is the raw-HTTP client of these tests: each answer it receives, success or error, is
validated against the spec before the test sees it. ``api`` is plaid-python 46 with return-type checks on.
The helpers here are shared by the other ``test_plaid_emulator_*`` files.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import plaid
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from plaid.api import plaid_api
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.country_code import CountryCode
from plaid.model.institutions_get_by_id_request import InstitutionsGetByIdRequest
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest
from plaid.model.investments_holdings_get_response import InvestmentsHoldingsGetResponse
from plaid.model.investments_transactions_get_request import InvestmentsTransactionsGetRequest
from plaid.model.investments_transactions_get_request_options import InvestmentsTransactionsGetRequestOptions
from plaid.model.item_get_request import ItemGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from plaid.model.item_remove_request import ItemRemoveRequest
from plaid.model.link_token_create_request import LinkTokenCreateRequest
from plaid.model.link_token_create_request_user import LinkTokenCreateRequestUser
from plaid.model.plaid_error import PlaidError
from plaid.model.products import Products
from plaid.model.sandbox_item_reset_login_request import SandboxItemResetLoginRequest
from plaid.model.sandbox_public_token_create_request import SandboxPublicTokenCreateRequest
from plaid.model_utils import validate_and_convert_types
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator import EmulatorConfig, EmulatorServer, ThreadedServer, create_app
from ghostfolio_plaid.plaid_emulator.plaid_routes import PLAID_ROUTES

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO_ROOT / "specs" / "plaid" / "2020-09-14.yml"
CLIENT_ID = "emulator-test-client"
SECRET = "emulator-test-secret"
CREDENTIALS = {"client_id": CLIENT_ID, "secret": SECRET}
TODAY = date.today()
TWO_YEARS_AGO = TODAY - timedelta(days=730)
# Every key of the error object the brief and Plaid's PlaidError schema name.
ERROR_KEYS = {
    "error_type",
    "error_code",
    "error_message",
    "display_message",
    "request_id",
    "causes",
    "status",
    "documentation_url",
    "suggested_action",
}


@functools.cache
def spec_document() -> dict[str, Any]:
    """Plaid's OpenAPI file, parsed once per test process (it is 3 MB of YAML)."""
    with SPEC_PATH.open() as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return document


@functools.cache
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(spec_document())


def check_schema(instance: Any, component: str) -> None:
    """Validate against ``#/components/schemas/<component>`` (OpenAPI 3.0 rules: ``nullable`` and all)."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": spec_document()["components"]}
    OAS30Validator(schema).validate(instance)


def sdk_parse(body: Any, model: type[Any]) -> Any:
    """Build plaid-python's model from a body exactly as the SDK does for a response, type checks on."""
    return validate_and_convert_types(body, (model,), ["received_data"], True, True, plaid.Configuration())


class SpecCheckedPlaid:
    """Raw HTTP calls to the emulator; every answer is validated against the spec before it is returned."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.validated: set[tuple[str, int]] = set()

    def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        status: int = 200,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        credentials: bool = True,
    ) -> httpx.Response:
        payload = {**(CREDENTIALS if credentials else {}), **(body or {})}
        raw = json.dumps(payload).encode() if content is None else content
        response = httpx.post(
            self.url + path,
            content=raw,
            headers={"content-type": "application/json", **(headers or {})},
            timeout=30,
        )
        assert response.status_code == status, response.text
        self.check(path, raw, response)
        return response

    def check(self, path: str, raw: bytes, response: httpx.Response) -> None:
        openapi().validate_response(
            MockRequest("https://sandbox.plaid.com", "post", path, data=raw),
            MockResponse(response.content, status_code=response.status_code),
        )
        body = response.json()
        assert isinstance(body.get("request_id"), str) and body["request_id"], body
        if response.status_code >= 400:
            assert set(body) >= ERROR_KEYS, body
            sdk_parse(body, PlaidError)
        self.validated.add((path, response.status_code))

    def __call__(self, path: str, body: dict[str, Any] | None = None, *, status: int = 200, **fields: Any) -> Any:
        return self.post(path, {**(body or {}), **fields}, status=status).json()

    def error(self, path: str, code: str, body: dict[str, Any] | None = None, *, status: int = 400) -> Any:
        answer = self(path, body, status=status)
        assert answer["error_code"] == code, answer
        assert answer["status"] == status
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

    def transactions(self, access_token: str, count: int, **options: Any) -> list[dict[str, Any]]:
        """Page through two years as a client should: offset += page size until the total is reached."""
        collected: list[dict[str, Any]] = []
        total = None
        while total is None or len(collected) < total:
            page = self(
                "/investments/transactions/get",
                access_token=access_token,
                start_date=TWO_YEARS_AGO.isoformat(),
                end_date=TODAY.isoformat(),
                options={"count": count, "offset": len(collected), **options},
            )
            total = page["total_investment_transactions"]
            if not page["investment_transactions"]:
                break
            assert len(page["investment_transactions"]) <= count
            collected.extend(page["investment_transactions"])
        return collected


def control(server: EmulatorServer, method: str, path: str, body: Any = None) -> Any:
    """Call a test-control endpoint (``/emulator/...``); they need no credentials."""
    response = httpx.request(method, server.url + path, json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def start_emulator(**config: Any) -> EmulatorServer:
    return EmulatorServer(create_app(EmulatorConfig(client_id=CLIENT_ID, secret=SECRET, **config)))


def sdk(server: EmulatorServer) -> plaid.ApiClient:
    configuration = plaid.Configuration(host=server.url, api_key={"clientId": CLIENT_ID, "secret": SECRET})
    return plaid.ApiClient(configuration)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    """This module's own emulator: its state (faults, resets) never leaks into other tests."""
    with start_emulator() as server:
        yield server


@pytest.fixture
def plaid_http(emulator: EmulatorServer) -> SpecCheckedPlaid:
    return SpecCheckedPlaid(emulator.url)


@pytest.fixture
def api(emulator: EmulatorServer) -> Iterator[plaid_api.PlaidApi]:
    with sdk(emulator) as client:
        yield plaid_api.PlaidApi(client)


def link_token_body(**extra: Any) -> dict[str, Any]:
    return {
        "client_name": "Ghostfolio",
        "language": "en",
        "country_codes": ["US"],
        "user": {"client_user_id": "user-1"},
        **extra,
    }


def test_the_spec_check_rejects_a_response_that_breaks_the_spec(plaid_http: SpecCheckedPlaid) -> None:
    """The checks below could pass vacuously; show that they catch a broken answer."""
    access_token, _ = plaid_http.link()
    response = plaid_http.post("/investments/holdings/get", {"access_token": access_token})
    broken = copy.deepcopy(response.json())
    broken["holdings"][0]["quantity"] = "many"
    del broken["request_id"]
    with pytest.raises(OpenAPIError):
        openapi().validate_response(
            MockRequest("https://sandbox.plaid.com", "post", "/investments/holdings/get", data=b"{}"),
            MockResponse(json.dumps(broken).encode(), status_code=200),
        )
    del broken["securities"][0]["figi"]
    with pytest.raises((TypeError, ValueError)):
        sdk_parse({**broken, "request_id": "x"}, InvestmentsHoldingsGetResponse)


def test_sandbox_flow_matches_the_spec(plaid_http: SpecCheckedPlaid) -> None:
    link = plaid_http("/link/token/create", link_token_body(products=["investments"]))
    assert link["link_token"].startswith("link-sandbox-")
    access_token, item_id = plaid_http.link()
    assert access_token.startswith("access-sandbox-") and len(item_id) == 37
    item = plaid_http("/item/get", access_token=access_token)["item"]
    assert item["item_id"] == item_id and item["institution_id"] == "ins_109508" and item["error"] is None
    accounts = plaid_http("/accounts/get", access_token=access_token)["accounts"]
    assert {a["type"] for a in accounts} == {"investment", "depository"}
    assert all("margin_loan_amount" in a["balances"] for a in accounts)
    holdings = plaid_http("/investments/holdings/get", access_token=access_token)
    types = {s["type"] for s in holdings["securities"]}
    assert {"equity", "etf", "mutual fund", "fixed income", "cash", "cryptocurrency", "derivative"} <= types
    assert {s["ticker_symbol"] for s in holdings["securities"] if s["is_cash_equivalent"]} == {"CUR:USD", "CUR:EUR"}
    bond = next(s for s in holdings["securities"] if s["type"] == "fixed income")
    assert bond["ticker_symbol"] is None and bond["cusip"] and bond["isin"]
    institution = plaid_http("/institutions/get_by_id", institution_id="ins_109508", country_codes=["US"])
    assert institution["institution"]["name"] == "First Platypus Bank"
    assert plaid_http("/sandbox/item/reset_login", access_token=access_token)["reset_login"] is True
    for path in ("/accounts/get", "/investments/holdings/get"):
        plaid_http.error(path, "ITEM_LOGIN_REQUIRED", {"access_token": access_token})
    assert plaid_http("/item/get", access_token=access_token)["item"]["error"]["error_code"] == "ITEM_LOGIN_REQUIRED"
    assert set(plaid_http("/item/remove", access_token=access_token)) == {"request_id"}
    plaid_http.error("/item/get", "ITEM_NOT_FOUND", {"access_token": access_token})
    plaid_http.error("/investments/holdings/get", "ITEM_NOT_FOUND", {"access_token": access_token})
    plaid_http.error("/item/get", "INVALID_ACCESS_TOKEN", {"access_token": "access-sandbox-unknown"})


def test_every_plaid_endpoint_answers_success_and_errors_the_spec_accepts(emulator: EmulatorServer) -> None:
    """One success and one error per endpoint, all through the spec check: nothing is left unvalidated."""
    plaid_http = SpecCheckedPlaid(emulator.url)
    access_token, item_id = plaid_http.link(webhook="http://127.0.0.1:9/hook")
    missing = {"access_token": "access-sandbox-00000000-0000-0000-0000-000000000000"}
    plaid_http("/link/token/create", link_token_body(products=["investments"]))
    plaid_http.error("/link/token/create", "INVALID_PRODUCT", link_token_body(products=["nope"]))
    plaid_http.error("/item/public_token/exchange", "INVALID_PUBLIC_TOKEN", {"public_token": "public-sandbox-x"})
    public = plaid_http("/item/public_token/create", access_token=access_token)["public_token"]
    plaid_http.error("/item/public_token/create", "INVALID_ACCESS_TOKEN", missing)
    assert plaid_http("/item/public_token/exchange", public_token=public)["item_id"] == item_id
    for path in ("/item/get", "/accounts/get", "/investments/holdings/get"):
        plaid_http(path, access_token=access_token)
        plaid_http.error(path, "INVALID_ACCESS_TOKEN", missing)
    plaid_http.error("/sandbox/item/reset_login", "INVALID_ACCESS_TOKEN", missing)
    dates = {"start_date": TWO_YEARS_AGO.isoformat(), "end_date": TODAY.isoformat()}
    plaid_http("/investments/transactions/get", {"access_token": access_token, **dates})
    plaid_http.error("/investments/transactions/get", "INVALID_ACCESS_TOKEN", {**missing, **dates})
    plaid_http("/institutions/get_by_id", institution_id="ins_109511", country_codes=["US"])
    plaid_http.error("/institutions/get_by_id", "INVALID_INSTITUTION", {"institution_id": "x", "country_codes": ["US"]})
    plaid_http.error(
        "/sandbox/public_token/create", "INVALID_INSTITUTION", {"institution_id": "x", "initial_products": ["auth"]}
    )
    fired = plaid_http("/sandbox/item/fire_webhook", access_token=access_token, webhook_code="NEW_ACCOUNTS_AVAILABLE")
    assert fired["webhook_fired"] is True
    plaid_http.error("/sandbox/item/fire_webhook", "INVALID_ACCESS_TOKEN", {**missing, "webhook_code": "ERROR"})
    key_id = plaid_http("/webhook_verification_key/get", key_id=emulator_kid(emulator))["key"]["kid"]
    assert key_id == emulator_kid(emulator)
    plaid_http.error("/webhook_verification_key/get", "INVALID_WEBHOOK_VERIFICATION_KEY_ID", {"key_id": "nope"})
    plaid_http("/item/webhook/update", access_token=access_token, webhook="http://127.0.0.1:9/other")
    plaid_http.error("/item/webhook/update", "INVALID_ACCESS_TOKEN", missing)
    plaid_http("/sandbox/item/reset_login", access_token=access_token)
    plaid_http("/item/remove", access_token=access_token)
    plaid_http.error("/item/remove", "ITEM_NOT_FOUND", {"access_token": access_token})
    succeeded = {path for path, status in plaid_http.validated if status == 200}
    failed = {path for path, status in plaid_http.validated if status == 400}
    assert succeeded == failed == set(PLAID_ROUTES)


def emulator_kid(server: EmulatorServer) -> str:
    kid: str = server.app.state.emulator.signer.kid  # type: ignore[attr-defined]
    return kid


def test_link_tokens_in_normal_and_update_mode(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    normal = plaid_http("/link/token/create", link_token_body(products=["investments"], webhook="http://h/1"))
    expires = datetime.fromisoformat(normal["expiration"].replace("Z", "+00:00"))
    assert abs((expires - datetime.now(UTC)).total_seconds() - 4 * 3600) < 120
    plaid_http.error("/link/token/create", "MISSING_FIELDS", link_token_body())  # no products outside update mode
    completed = control(emulator, "POST", "/emulator/link/complete", {"link_token": normal["link_token"]})
    access_token = plaid_http("/item/public_token/exchange", public_token=completed["public_token"])["access_token"]
    assert plaid_http("/item/get", access_token=access_token)["item"]["webhook"] == "http://h/1"
    with pytest.raises(httpx.HTTPStatusError):  # a link token is used once
        control(emulator, "POST", "/emulator/link/complete", {"link_token": normal["link_token"]})

    plaid_http("/sandbox/item/reset_login", access_token=access_token)
    update = plaid_http("/link/token/create", link_token_body(access_token=access_token, webhook="http://h/2"))
    assert update["link_token"].startswith("link-sandbox-")
    plaid_http.error("/investments/holdings/get", "ITEM_LOGIN_REQUIRED", {"access_token": access_token})
    repaired = control(emulator, "POST", "/emulator/link/complete", {"link_token": update["link_token"]})
    assert repaired["item_id"] == completed["item_id"]
    item = plaid_http("/item/get", access_token=access_token)["item"]
    assert item["error"] is None and item["webhook"] == "http://h/2"
    plaid_http("/investments/holdings/get", access_token=access_token)
    requests = control(emulator, "GET", "/emulator/requests")["requests"]
    link_calls = [r for r in requests if r["path"] == "/link/token/create" and r["status"] == 200][-2:]
    assert [(r["update_mode"], r["webhook"]) for r in link_calls] == [(False, "http://h/1"), (True, "http://h/2")]


def test_transactions_page_newest_first_until_the_total(plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    paged = plaid_http.transactions(access_token, count=17)
    whole = plaid_http.transactions(access_token, count=500)
    default = plaid_http(
        "/investments/transactions/get",
        access_token=access_token,
        start_date=TWO_YEARS_AGO.isoformat(),
        end_date=TODAY.isoformat(),
    )
    assert len(default["investment_transactions"]) == 100  # Plaid's default count
    assert paged == whole
    assert len({t["investment_transaction_id"] for t in whole}) == len(whole) > 100
    dates = [t["date"] for t in whole]
    assert dates == sorted(dates, reverse=True)
    assert {t["type"] for t in whole} >= {"buy", "sell", "cash", "fee", "transfer", "cancel"}
    assert {"dividend", "interest"} <= {t["subtype"] for t in whole if t["type"] == "cash"}
    cancels = [t for t in whole if t["type"] == "cancel"]
    assert cancels and all(
        t["cancel_transaction_id"] in {x["investment_transaction_id"] for x in whole} for t in cancels
    )
    for txn in whole:
        if txn["type"] in ("buy", "fee"):
            assert txn["amount"] > 0, txn  # cash leaves the account
        if txn["type"] == "buy":
            assert txn["quantity"] > 0
        if txn["subtype"] in ("dividend", "interest"):
            assert txn["amount"] < 0, txn  # cash arrives
    assert any(t["type"] == "sell" and t["quantity"] < 0 and t["amount"] < 0 for t in whole)


def test_transactions_filter_by_dates_and_accounts(plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    whole = plaid_http.transactions(access_token, count=500)
    account = whole[0]["account_id"]
    mine = plaid_http.transactions(access_token, count=500, account_ids=[account])
    assert mine == [t for t in whole if t["account_id"] == account]
    start, end = (TODAY - timedelta(days=200)).isoformat(), (TODAY - timedelta(days=100)).isoformat()
    window = plaid_http(
        "/investments/transactions/get",
        access_token=access_token,
        start_date=start,
        end_date=end,
        options={"count": 500},
    )
    expected = [t for t in whole if start <= t["date"] <= end]
    assert window["investment_transactions"] == expected and window["total_investment_transactions"] == len(expected)
    used = {t["security_id"] for t in expected if t["security_id"]}
    assert {s["security_id"] for s in window["securities"]} == used


def test_holdings_follow_from_transactions_except_the_transferred_position(plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    holdings = plaid_http("/investments/holdings/get", access_token=access_token)
    cash_ids = {s["security_id"] for s in holdings["securities"] if s["is_cash_equivalent"]}
    implied: dict[tuple[str, str], float] = {}
    transactions = plaid_http.transactions(access_token, count=500)
    cancelled = {t["cancel_transaction_id"] for t in transactions if t["cancel_transaction_id"]}
    for txn in transactions:
        if txn["security_id"] is None or txn["investment_transaction_id"] in cancelled or txn["type"] == "cancel":
            continue
        sign = {"buy": 1, "sell": -1, "transfer": 1}.get(txn["type"], 0)  # direction from the type, not the sign
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
    for account in holdings["accounts"]:
        if account["type"] == "investment":
            value = sum(
                h["institution_value"] for h in holdings["holdings"] if h["account_id"] == account["account_id"]
            )
            assert account["balances"]["current"] == pytest.approx(value, abs=0.05)


def test_same_institution_same_shape_and_rereads_identical(plaid_http: SpecCheckedPlaid) -> None:
    first, _ = plaid_http.link()
    second, _ = plaid_http.link()
    other, _ = plaid_http.link("ins_109512")
    one = plaid_http("/investments/holdings/get", access_token=first)
    again = plaid_http("/investments/holdings/get", access_token=first)
    two = plaid_http("/investments/holdings/get", access_token=second)
    for key in ("holdings", "securities", "accounts"):
        assert one[key] == again[key]
    assert plaid_http.transactions(first, count=500) == plaid_http.transactions(first, count=500)
    assert [h["quantity"] for h in one["holdings"]] == [h["quantity"] for h in two["holdings"]]
    assert [(a["name"], a["subtype"], a["mask"]) for a in one["accounts"]] == [
        (a["name"], a["subtype"], a["mask"]) for a in two["accounts"]
    ]
    assert {a["account_id"] for a in one["accounts"]}.isdisjoint({a["account_id"] for a in two["accounts"]})
    assert one["securities"] == two["securities"]
    houndstooth = plaid_http("/investments/holdings/get", access_token=other)
    assert [h["quantity"] for h in houndstooth["holdings"]] != [h["quantity"] for h in one["holdings"]]
    assert plaid_http("/item/get", access_token=other)["item"]["institution_name"] == "Houndstooth Bank"


def test_sandbox_institutions_keep_plaids_ids_and_names(plaid_http: SpecCheckedPlaid) -> None:
    names = {
        "ins_109508": "First Platypus Bank",
        "ins_109509": "First Gingham Credit Union",
        "ins_109510": "Tattersall Federal Credit Union",
        "ins_109511": "Tartan Bank",
        "ins_109512": "Houndstooth Bank",
    }
    for institution_id, name in names.items():
        answer = plaid_http("/institutions/get_by_id", institution_id=institution_id, country_codes=["US"])
        assert answer["institution"]["name"] == name
        assert "investments" in answer["institution"]["products"]


def test_public_tokens_are_single_use(plaid_http: SpecCheckedPlaid) -> None:
    public = plaid_http("/sandbox/public_token/create", institution_id="ins_109509", initial_products=["investments"])[
        "public_token"
    ]
    assert public.startswith("public-sandbox-")
    plaid_http("/item/public_token/exchange", public_token=public)
    again = plaid_http.error("/item/public_token/exchange", "INVALID_PUBLIC_TOKEN", {"public_token": public})
    assert "expire" in again["error_message"]


def test_public_tokens_expire() -> None:
    with start_emulator(public_token_ttl_seconds=0.2) as server:
        plaid_http = SpecCheckedPlaid(server.url)
        body = {"institution_id": "ins_109508", "initial_products": ["investments"]}
        public = plaid_http("/sandbox/public_token/create", body)["public_token"]
        time.sleep(0.3)
        expired = plaid_http.error("/item/public_token/exchange", "INVALID_PUBLIC_TOKEN", {"public_token": public})
        assert "expired" in expired["error_message"]


def test_item_public_token_create_gives_a_token_for_the_same_item(plaid_http: SpecCheckedPlaid) -> None:
    access_token, item_id = plaid_http.link()
    public = plaid_http("/item/public_token/create", access_token=access_token)["public_token"]
    assert plaid_http("/item/public_token/exchange", public_token=public)["item_id"] == item_id


def test_request_log_names_items_but_holds_no_secrets(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    access_token, item_id = plaid_http.link()
    plaid_http("/accounts/get", access_token=access_token)
    plaid_http.error("/accounts/get", "INVALID_API_KEYS", {"secret": "a-wrong-secret-value"})
    public = plaid_http("/item/public_token/create", access_token=access_token)["public_token"]
    log = httpx.get(emulator.url + "/emulator/requests").text
    for secret in (access_token, SECRET, "a-wrong-secret-value", public):
        assert secret not in log
    entries = httpx.get(emulator.url + "/emulator/requests").json()["requests"]
    ok = [e for e in entries if e["path"] == "/accounts/get" and e["item_id"] == item_id]
    assert ok and ok[-1]["status"] == 200 and "access_token" in ok[-1]["fields"]
    refused = [e for e in entries if e["path"] == "/accounts/get" and e["error_code"] == "INVALID_API_KEYS"]
    assert refused and refused[-1]["status"] == 400


def test_seeded_items_can_be_large(emulator: EmulatorServer, plaid_http: SpecCheckedPlaid) -> None:
    shape = {"investment_accounts": 5, "securities": 50, "transactions_per_account": 300, "depository_account": False}
    seeded = control(emulator, "POST", "/emulator/items", {"shape": shape, "institution_id": "ins_109511"})
    assert seeded["access_token"].startswith("access-sandbox-") and seeded["public_token"].startswith("public-")
    holdings = plaid_http("/investments/holdings/get", access_token=seeded["access_token"])
    assert len(holdings["accounts"]) == 5
    assert len([s for s in holdings["securities"] if not s["is_cash_equivalent"]]) == 50
    first = plaid_http(
        "/investments/transactions/get",
        access_token=seeded["access_token"],
        start_date=TWO_YEARS_AGO.isoformat(),
        end_date=TODAY.isoformat(),
    )
    assert first["total_investment_transactions"] == 1500 and len(first["investment_transactions"]) == 100
    assert (
        plaid_http("/item/public_token/exchange", public_token=seeded["public_token"])["item_id"] == seeded["item_id"]
    )


def test_reset_forgets_items_tokens_and_logs() -> None:
    with start_emulator() as server:
        plaid_http = SpecCheckedPlaid(server.url)
        access_token, _ = plaid_http.link()
        control(server, "POST", "/emulator/faults", {"path": "/item/get", "error_code": "INTERNAL_SERVER_ERROR"})
        assert control(server, "POST", "/emulator/reset") == {"reset": True}
        plaid_http.error("/item/get", "INVALID_ACCESS_TOKEN", {"access_token": access_token})  # no fault left
        assert [r["path"] for r in control(server, "GET", "/emulator/requests")["requests"]] == ["/item/get"]
        assert control(server, "GET", "/emulator/webhooks") == {"webhooks": []}


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
    assert {s.type for s in holdings.securities} >= {"derivative", "fixed income", "cash"}
    offset, total, seen = 0, None, 0
    while total is None or offset < total:
        page = api.investments_transactions_get(
            InvestmentsTransactionsGetRequest(
                access_token=access_token,
                start_date=TWO_YEARS_AGO,
                end_date=TODAY,
                options=InvestmentsTransactionsGetRequestOptions(count=50, offset=offset),
            )
        )
        total = page.total_investment_transactions
        offset += len(page.investment_transactions)
        seen += len(page.investment_transactions)
        if not page.investment_transactions:
            break
    assert seen == total > 50
    institution = api.institutions_get_by_id(
        InstitutionsGetByIdRequest(institution_id="ins_109510", country_codes=[CountryCode("US")])
    )
    assert institution.institution.name == "Tattersall Federal Credit Union"
    assert api.sandbox_item_reset_login(SandboxItemResetLoginRequest(access_token=access_token)).reset_login
    with pytest.raises(plaid.ApiException) as caught:
        api.investments_holdings_get(InvestmentsHoldingsGetRequest(access_token=access_token))
    assert json.loads(caught.value.body)["error_code"] == "ITEM_LOGIN_REQUIRED"
    api.item_remove(ItemRemoveRequest(access_token=access_token))
    with pytest.raises(plaid.ApiException) as caught:
        api.item_get(ItemGetRequest(access_token=access_token))
    assert caught.value.status == 400
    error = sdk_parse(json.loads(caught.value.body), PlaidError)
    assert error.error_code == "ITEM_NOT_FOUND" and error.error_type.value == "ITEM_ERROR"


def test_threaded_server_runs_any_app_with_its_lifespan_and_frees_its_port() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(request: Request) -> Response:
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
    with ThreadedServer(app) as server:
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0 and server.app is app
        assert httpx.get(server.url).text == "hello" and events == ["startup"]
        with pytest.raises(RuntimeError), ThreadedServer(app, port=server.port):
            pass  # the port is taken
    assert events[-1] == "shutdown"
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url)
