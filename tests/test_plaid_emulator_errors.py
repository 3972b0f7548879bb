"""The emulator fails like Plaid: credentials, malformed input, every error code, and injected faults.

All answers go through ``SpecCheckedPlaid`` (spec and plaid-python model checks), errors included.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import plaid
import pytest
from plaid.api import plaid_api
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest

from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.plaid_emulator.errors import known_error_codes
from ghostfolio_plaid.plaid_emulator.plaid_routes import PLAID_ROUTES
from tests.test_plaid_emulator import (
    CLIENT_ID,
    SECRET,
    TODAY,
    TWO_YEARS_AGO,
    SpecCheckedPlaid,
    check_schema,
    control,
    link_token_body,
    sdk,
    start_emulator,
)

WRONG_VALUES: list[Any] = [None, "", 7, 1.5, True, [], {}, ["x"], {"a": 1}, "x" * 300]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with start_emulator() as server:
        yield server


@pytest.fixture
def plaid_http(emulator: EmulatorServer) -> Iterator[SpecCheckedPlaid]:
    yield SpecCheckedPlaid(emulator.url)
    control(emulator, "DELETE", "/emulator/faults")


def test_wrong_or_missing_credentials_are_invalid_api_keys(plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    body = {"access_token": access_token}
    cases: list[tuple[dict[str, Any], dict[str, str]]] = [
        ({}, {}),
        ({"client_id": CLIENT_ID}, {}),
        ({"client_id": CLIENT_ID, "secret": "wrong"}, {}),
        ({"client_id": "wrong", "secret": SECRET}, {}),
        ({}, {"PLAID-CLIENT-ID": CLIENT_ID, "PLAID-SECRET": "wrong"}),
        ({"client_id": 5, "secret": ["x"]}, {}),
    ]
    for fields, headers in cases:
        answer = plaid_http.post("/item/get", {**body, **fields}, status=400, headers=headers, credentials=False).json()
        assert (answer["error_type"], answer["error_code"]) == ("INVALID_INPUT", "INVALID_API_KEYS"), fields
    by_header = plaid_http.post(
        "/item/get", body, headers={"PLAID-CLIENT-ID": CLIENT_ID, "PLAID-SECRET": SECRET}, credentials=False
    )
    assert by_header.json()["item"]["item_id"]


@pytest.mark.parametrize(
    "content",
    [b"{oops", b"", b"[1, 2]", b'"text"', b"null", b"\xff\xfe{", b'{"access_token": "a"'],
    ids=["broken", "empty", "array", "string", "null", "not-utf8", "truncated"],
)
def test_bodies_that_are_not_a_json_object_are_invalid_body(plaid_http: SpecCheckedPlaid, content: bytes) -> None:
    answer = plaid_http.post("/accounts/get", status=400, content=content).json()
    assert (answer["error_type"], answer["error_code"]) == ("INVALID_REQUEST", "INVALID_BODY")


def valid_bodies(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> dict[str, dict[str, Any]]:
    """A body each endpoint accepts, each on a fresh item (some calls change or remove their item)."""

    def fresh() -> str:
        return plaid_http.link(webhook="http://127.0.0.1:9/hook")[0]

    key_id: str = emulator.app.state.emulator.signer.kid  # type: ignore[attr-defined]
    public = plaid_http("/sandbox/public_token/create", institution_id="ins_109508", initial_products=["investments"])
    return {
        "/link/token/create": link_token_body(products=["investments"], webhook="http://h/x"),
        "/item/public_token/exchange": {"public_token": public["public_token"]},
        "/item/public_token/create": {"access_token": fresh()},
        "/item/get": {"access_token": fresh()},
        "/item/remove": {"access_token": fresh()},
        "/item/webhook/update": {"access_token": fresh(), "webhook": "http://127.0.0.1:9/new"},
        "/accounts/get": {"access_token": fresh()},
        "/institutions/get_by_id": {"institution_id": "ins_109508", "country_codes": ["US"]},
        "/investments/holdings/get": {"access_token": fresh()},
        "/investments/transactions/get": {
            "access_token": fresh(),
            "start_date": TWO_YEARS_AGO.isoformat(),
            "end_date": TODAY.isoformat(),
            "options": {"count": 10, "offset": 0},
        },
        "/sandbox/public_token/create": {
            "institution_id": "ins_109509",
            "initial_products": ["investments"],
            "options": {"webhook": "http://h/y"},
        },
        "/sandbox/item/reset_login": {"access_token": fresh()},
        "/sandbox/item/fire_webhook": {
            "access_token": fresh(),
            "webhook_type": "HOLDINGS",
            "webhook_code": "DEFAULT_UPDATE",
        },
        "/webhook_verification_key/get": {"key_id": key_id},
    }


def variants(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The body with each field (and each nested field) dropped or replaced by a value of a wrong type."""
    for name, value in body.items():
        yield f"-{name}", {k: v for k, v in body.items() if k != name}
        for wrong in WRONG_VALUES:
            yield f"{name}={wrong!r}"[:60], {**body, name: wrong}
        if isinstance(value, dict):
            for inner, changed in variants(value):
                yield f"{name}.{inner}", {**body, name: changed}


def test_no_malformed_field_ever_crashes_an_endpoint(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    """Hundreds of wrong bodies: each answers 200 (if Plaid would accept it) or a Plaid 400, never a 500.

    Calls that change their item (remove, reset_login, exchange) make later variants fail with ITEM_ERROR or
    INVALID_INPUT: still Plaid errors, which is all this test asks.
    """
    bodies = valid_bodies(plaid_http, emulator)
    assert set(bodies) == set(PLAID_ROUTES)
    tried = 0
    for path, body in bodies.items():
        for label, variant in variants(body):
            response = httpx.post(emulator.url + path, json={**variant, "client_id": CLIENT_ID, "secret": SECRET})
            assert response.status_code in (200, 400), (path, label, response.text)
            plaid_http.check(path, json.dumps(variant).encode(), response)
            if response.status_code == 400:
                assert response.json()["error_type"] in (
                    "INVALID_REQUEST",
                    "INVALID_INPUT",
                    "ITEM_ERROR",
                    "SANDBOX_ERROR",
                ), label
            tried += 1
    assert tried > 300


def test_transactions_reject_bad_dates_and_options(plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    base = {"access_token": access_token, "start_date": "2024-01-01", "end_date": "2024-02-01"}
    plaid_http.error("/investments/transactions/get", "MISSING_FIELDS", {"access_token": access_token})
    for wrong in (
        {"start_date": "2020-13-01"},
        {"end_date": "01/02/2024"},
        {"end_date": "20240201"},
        {"start_date": "2024-03-01"},  # after end_date
        {"options": {"count": 0}},
        {"options": {"count": 501}},
        {"options": {"count": "10"}},
        {"options": {"offset": -1}},
        {"options": {"account_ids": "one-id"}},
    ):
        answer = plaid_http.error("/investments/transactions/get", "INVALID_FIELD", {**base, **wrong})
        assert answer["error_type"] == "INVALID_REQUEST"
    for count in (1, 500):
        page = plaid_http("/investments/transactions/get", {**base, "options": {"count": count}})
        assert len(page["investment_transactions"]) <= count


def test_token_and_institution_errors(plaid_http: SpecCheckedPlaid) -> None:
    for token in ("public-sandbox-unknown", "nonsense"):
        answer = plaid_http.error("/item/public_token/exchange", "INVALID_PUBLIC_TOKEN", {"public_token": token})
        assert answer["error_type"] == "INVALID_INPUT"
    for token in ("access-sandbox-unknown", "public-sandbox-not-an-access-token"):
        plaid_http.error("/accounts/get", "INVALID_ACCESS_TOKEN", {"access_token": token})
    plaid_http.error(
        "/sandbox/public_token/create",
        "INVALID_INSTITUTION",
        {"institution_id": "ins_nope", "initial_products": ["investments"]},
    )
    plaid_http.error(
        "/institutions/get_by_id", "INVALID_INSTITUTION", {"institution_id": "ins_0", "country_codes": ["US"]}
    )
    plaid_http.error("/institutions/get_by_id", "MISSING_FIELDS", {"institution_id": "ins_109508"})


def test_investments_on_an_item_without_the_product(plaid_http: SpecCheckedPlaid) -> None:
    public = plaid_http("/sandbox/public_token/create", institution_id="ins_109508", initial_products=["transactions"])
    access_token = plaid_http("/item/public_token/exchange", public_token=public["public_token"])["access_token"]
    assert plaid_http("/accounts/get", access_token=access_token)["accounts"]
    answer = plaid_http.error("/investments/holdings/get", "PRODUCTS_NOT_SUPPORTED", {"access_token": access_token})
    assert answer["error_type"] == "ITEM_ERROR"
    plaid_http.error(
        "/sandbox/item/fire_webhook",
        "SANDBOX_WEBHOOK_INVALID",
        {"access_token": access_token, "webhook_code": "DEFAULT_UPDATE", "webhook_type": "HOLDINGS"},
    )


def test_unknown_paths_and_methods_answer_plaids_not_found(emulator: EmulatorServer) -> None:
    for method, path in (("POST", "/accounts/balance/nope"), ("GET", "/item/get"), ("PUT", "/emulator/items")):
        response = httpx.request(method, emulator.url + path)
        assert response.status_code == 404, (method, path)
        body = response.json()
        check_schema(body, "PlaidError")
        assert body["error_code"] == "NOT_FOUND" and body["request_id"]


@pytest.mark.parametrize("code", sorted(known_error_codes()))
def test_every_error_code_is_a_valid_plaid_error(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer, code: str
) -> None:
    access_token, _ = plaid_http.link()
    control(emulator, "POST", "/emulator/faults", {"path": "/accounts/get", "error_code": code})
    response = httpx.post(emulator.url + "/accounts/get", json={"access_token": access_token, **credentials()})
    assert response.status_code >= 400
    plaid_http.check("/accounts/get", b"{}", response)
    body = response.json()
    assert body["error_code"] == code and body["status"] == response.status_code
    assert body["documentation_url"].startswith("https://plaid.com/docs/errors/")
    expected_type = {
        "INVALID_API_KEYS": "INVALID_INPUT",
        "INVALID_BODY": "INVALID_REQUEST",
        "ITEM_LOGIN_REQUIRED": "ITEM_ERROR",
        "SANDBOX_WEBHOOK_INVALID": "SANDBOX_ERROR",
        "RATE_LIMIT_EXCEEDED": "RATE_LIMIT_EXCEEDED",
        "INTERNAL_SERVER_ERROR": "API_ERROR",
        "INSTITUTION_DOWN": "INSTITUTION_ERROR",
    }
    if code in expected_type:
        assert body["error_type"] == expected_type[code]
    statuses = {"RATE_LIMIT_EXCEEDED": 429, "INTERNAL_SERVER_ERROR": 500, "PLANNED_MAINTENANCE": 503}
    assert response.status_code == statuses.get(code, 404 if code == "NOT_FOUND" else 400)
    assert plaid_http("/accounts/get", access_token=access_token)["accounts"]  # a fault fires `times` (1) times


def credentials() -> dict[str, str]:
    return {"client_id": CLIENT_ID, "secret": SECRET}


def test_faults_answer_plaid_errors_then_clear(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    access_token, _ = plaid_http.link()
    fault = {"path": "/investments/holdings/get", "error_code": "RATE_LIMIT_EXCEEDED", "times": 2}
    control(emulator, "POST", "/emulator/faults", fault)
    assert control(emulator, "GET", "/emulator/faults")["faults"][0]["times"] == 2
    with sdk(emulator) as client:
        api = plaid_api.PlaidApi(client)
        for _ in range(2):
            with pytest.raises(plaid.ApiException) as caught:
                api.investments_holdings_get(InvestmentsHoldingsGetRequest(access_token=access_token))
            assert caught.value.status == 429
            assert json.loads(caught.value.body)["error_type"] == "RATE_LIMIT_EXCEEDED"
        assert api.investments_holdings_get(InvestmentsHoldingsGetRequest(access_token=access_token)).holdings
    assert control(emulator, "GET", "/emulator/faults") == {"faults": []}


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "INTERNAL_SERVER_ERROR"),
        (502, "INTERNAL_SERVER_ERROR"),
        (503, "PLANNED_MAINTENANCE"),
        (429, "RATE_LIMIT_EXCEEDED"),
    ],
)
def test_a_bare_status_fault_answers_plaids_error_for_it(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer, status: int, code: str
) -> None:
    access_token, _ = plaid_http.link()
    control(emulator, "POST", "/emulator/faults", {"path": "/item/get", "status": status})
    answer = plaid_http.error("/item/get", code, {"access_token": access_token}, status=status)
    assert answer["status"] == status


def test_raw_body_and_delay_faults(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    access_token, _ = plaid_http.link()
    body = {"access_token": access_token, **credentials()}
    control(emulator, "POST", "/emulator/faults", {"path": "/item/get", "status": 502, "body": "bad gateway"})
    raw = httpx.post(emulator.url + "/item/get", json=body)
    assert (raw.status_code, raw.text) == (502, "bad gateway")
    control(emulator, "POST", "/emulator/faults", {"path": "/item/get", "body": "{not json"})
    raw = httpx.post(emulator.url + "/item/get", json=body)
    assert (raw.status_code, raw.text) == (200, "{not json")
    control(emulator, "POST", "/emulator/faults", {"path": "/item/get", "delay_ms": 300})
    started = time.monotonic()
    plaid_http("/item/get", access_token=access_token)
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    plaid_http("/item/get", access_token=access_token)
    assert time.monotonic() - started < 0.3


def test_faults_can_target_one_item(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    troubled, troubled_id = plaid_http.link()
    healthy, _ = plaid_http.link()
    fault = {"path": "/accounts/get", "item_id": troubled_id, "error_code": "INSTITUTION_DOWN", "times": 3}
    control(emulator, "POST", "/emulator/faults", fault)
    for _ in range(3):
        assert plaid_http("/accounts/get", access_token=healthy)["accounts"]
        plaid_http.error("/accounts/get", "INSTITUTION_DOWN", {"access_token": troubled})
    assert plaid_http("/accounts/get", access_token=troubled)["accounts"]


def test_faults_still_require_credentials(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    control(emulator, "POST", "/emulator/faults", {"path": "/item/get", "error_code": "INTERNAL_SERVER_ERROR"})
    plaid_http.error("/item/get", "INVALID_API_KEYS", {"secret": "wrong", "access_token": "access-sandbox-x"})
    assert len(control(emulator, "GET", "/emulator/faults")["faults"]) == 1


@pytest.mark.parametrize(
    "fault",
    [
        {"error_code": "NOT_A_PLAID_CODE"},
        {"times": 0},
        {"times": "2"},
        {"status": 999},
        {"delay_ms": -1},
        {"path": "item/get"},
        {"path": 7},
        {"surprise": True},
    ],
)
def test_bad_faults_are_refused(emulator: EmulatorServer, fault: dict[str, Any]) -> None:
    response = httpx.post(emulator.url + "/emulator/faults", json={"path": "/item/get", **fault})
    assert response.status_code == 400 and response.json()["error"]
    assert control(emulator, "GET", "/emulator/faults") == {"faults": []}


@pytest.mark.parametrize(
    "body",
    [
        {"institution_id": "ins_nope"},
        {"institution_id": ["ins_109508"]},
        {"shape": {"investment_accounts": -1}},
        {"shape": {"securities": "many"}},
        {"shape": {"transactions_per_account": 10**9}},
        {"shape": {"depository_account": "yes"}},
        {"shape": {"investment_accounts": 0, "depository_account": False}},
        {"shape": {"colour": "blue"}},
        {"shape": []},
        {"products": "investments"},
        {"products": ["stocks"]},
        {"webhook": 5},
    ],
)
def test_bad_seeds_are_refused(emulator: EmulatorServer, body: dict[str, Any]) -> None:
    response = httpx.post(emulator.url + "/emulator/items", json=body)
    assert response.status_code == 400 and response.json()["error"], body


def test_window_edges_are_inclusive(plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    newest = plaid_http(
        "/investments/transactions/get",
        access_token=access_token,
        start_date=TWO_YEARS_AGO.isoformat(),
        end_date=TODAY.isoformat(),
        options={"count": 1},
    )["investment_transactions"][0]["date"]
    page = plaid_http(
        "/investments/transactions/get",
        access_token=access_token,
        start_date=newest,
        end_date=newest,
    )
    assert page["investment_transactions"] and {t["date"] for t in page["investment_transactions"]} == {newest}
    later = (TODAY + timedelta(days=1)).isoformat()
    assert (
        plaid_http("/investments/transactions/get", access_token=access_token, start_date=later, end_date=later)[
            "total_investment_transactions"
        ]
        == 0
    )
