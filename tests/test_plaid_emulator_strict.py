"""The emulator refuses what Plaid refuses, in Plaid's words: unknown fields, unknown accounts, products Plaid
does not take, bodies that are not JSON, and tokens that are unknown, malformed or of the wrong kind.

Every answer goes through ``SpecCheckedPlaid`` (Plaid's OpenAPI spec and plaid-python's ``PlaidError``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import plaid
import pytest
from plaid.api import plaid_api
from plaid.model.accounts_get_request import AccountsGetRequest
from plaid.model.accounts_get_request_options import AccountsGetRequestOptions

from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.plaid_emulator.plaid_routes import PLAID_ROUTES
from ghostfolio_plaid.plaid_emulator.request_fields import CREDENTIAL_FIELDS, REQUEST_FIELDS
from tests.test_plaid_emulator import (
    CLIENT_ID,
    SECRET,
    TODAY,
    TWO_YEARS_AGO,
    SpecCheckedPlaid,
    control,
    link_token_body,
    sdk,
    spec_document,
    start_emulator,
)

UNKNOWN = "the following fields are not recognized by this endpoint: "


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with start_emulator() as server:
        yield server


@pytest.fixture
def plaid_http(emulator: EmulatorServer) -> SpecCheckedPlaid:
    return SpecCheckedPlaid(emulator.url)


def request_schema(path: str) -> dict[str, Any]:
    spec = spec_document()
    ref = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def test_the_field_table_is_the_spec_request_schemas() -> None:
    """Top-level and nested (options, user) fields of every endpoint, exactly as Plaid's spec names them."""
    assert set(REQUEST_FIELDS) == set(PLAID_ROUTES)
    components = spec_document()["components"]["schemas"]
    for path, fields in REQUEST_FIELDS.items():
        properties = request_schema(path)["properties"]
        assert fields.top | CREDENTIAL_FIELDS == set(properties), path
        for name, inner in fields.nested.items():
            nested = components[properties[name]["$ref"].rsplit("/", 1)[1]]
            assert inner == set(nested["properties"]), (path, name)
        nested_objects = {name for name in ("options", "user") if name in properties}
        assert set(fields.nested) == nested_objects, path


def valid_body(plaid_http: SpecCheckedPlaid, path: str) -> dict[str, Any]:
    """A body ``path`` accepts apart from any field added to it."""
    access_token, _ = plaid_http.link()
    bodies: dict[str, dict[str, Any]] = {
        "/link/token/create": link_token_body(products=["investments"]),
        "/item/public_token/exchange": {"public_token": "public-sandbox-x"},
        "/institutions/get_by_id": {"institution_id": "ins_109508", "country_codes": ["US"]},
        "/investments/transactions/get": {
            "access_token": access_token,
            "start_date": TWO_YEARS_AGO.isoformat(),
            "end_date": TODAY.isoformat(),
        },
        "/sandbox/public_token/create": {"institution_id": "ins_109508", "initial_products": ["investments"]},
        "/sandbox/item/fire_webhook": {"access_token": access_token, "webhook_code": "NEW_ACCOUNTS_AVAILABLE"},
        "/webhook_verification_key/get": {"key_id": "nope"},
    }
    return bodies.get(path, {"access_token": access_token})


@pytest.mark.parametrize("path", sorted(PLAID_ROUTES))
def test_every_endpoint_refuses_unknown_fields_and_names_them(plaid_http: SpecCheckedPlaid, path: str) -> None:
    body = {**valid_body(plaid_http, path), "colour": "blue", "access_tokn": "x"}
    answer = plaid_http.error(path, "UNKNOWN_FIELDS", body)
    assert answer["error_type"] == "INVALID_REQUEST"
    assert answer["error_message"] == UNKNOWN + "colour, access_tokn"


@pytest.mark.parametrize(
    "path", ["/accounts/get", "/investments/holdings/get", "/investments/transactions/get", "/institutions/get_by_id"]
)
def test_unknown_fields_inside_options_are_named_with_their_path(plaid_http: SpecCheckedPlaid, path: str) -> None:
    """``count`` is an option of /investments/transactions/get only; ``bogus`` of none."""
    body = {**valid_body(plaid_http, path), "options": {"count": 1, "bogus": True}}
    expected = "options.bogus" if path == "/investments/transactions/get" else "options.count, options.bogus"
    answer = plaid_http.error(path, "UNKNOWN_FIELDS", body)
    assert answer["error_message"] == UNKNOWN + expected


def test_unknown_fields_anywhere_are_listed_together(plaid_http: SpecCheckedPlaid) -> None:
    body = link_token_body(products=["investments"], extra=1)
    body["user"] = {"client_user_id": "user-1", "email": "a@example.com"}
    answer = plaid_http.error("/link/token/create", "UNKNOWN_FIELDS", body)
    assert answer["error_message"] == UNKNOWN + "user.email, extra"
    sandbox = {"institution_id": "ins_109508", "initial_products": ["investments"], "options": {"webhok": "x"}}
    answer = plaid_http.error("/sandbox/public_token/create", "UNKNOWN_FIELDS", sandbox)
    assert answer["error_message"] == UNKNOWN + "options.webhok"


def test_credentials_in_the_body_and_every_spec_field_are_accepted(plaid_http: SpecCheckedPlaid) -> None:
    """client_id/secret ride in the body (SpecCheckedPlaid sends them there); fields the emulator does not use
    are still recognised, as Plaid recognises them."""
    access_token, _ = plaid_http.link()
    plaid_http("/item/get", access_token=access_token, client_id=CLIENT_ID, secret=SECRET)
    plaid_http(
        "/link/token/create",
        link_token_body(products=["investments"], redirect_uri=None, link_customization_name="default"),
    )
    plaid_http(
        "/investments/transactions/get",
        access_token=access_token,
        start_date=TWO_YEARS_AGO.isoformat(),
        end_date=TODAY.isoformat(),
        options={"count": 5, "offset": 0, "async_update": False},
    )
    plaid_http(
        "/sandbox/public_token/create",
        institution_id="ins_109508",
        initial_products=["investments"],
        options={"override_username": "user_good", "override_password": "pass_good"},
    )
    plaid_http("/item/remove", access_token=access_token, reason_note="closing the account")


@pytest.mark.parametrize("path", ["/accounts/get", "/investments/holdings/get", "/investments/transactions/get"])
def test_unknown_account_ids_are_invalid_account_id(plaid_http: SpecCheckedPlaid, path: str) -> None:
    body = valid_body(plaid_http, path)
    accounts = plaid_http("/accounts/get", access_token=body["access_token"])["accounts"]
    mine = accounts[0]["account_id"]
    other, _ = plaid_http.link()
    foreign = plaid_http("/accounts/get", access_token=other)["accounts"][0]["account_id"]
    for wanted in ([foreign], [mine, "not-an-account"]):
        answer = plaid_http.error(path, "INVALID_ACCOUNT_ID", {**body, "options": {"account_ids": wanted}})
        assert answer["error_type"] == "INVALID_INPUT"
        assert answer["error_message"] == "failed to find requested account ID for requested item"
    answer = plaid_http(path, {**body, "options": {"account_ids": [mine]}})
    assert {a["account_id"] for a in answer["accounts"]} == {mine}


def test_invalid_account_id_through_the_sdk(emulator: EmulatorServer, plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    with sdk(emulator) as client, pytest.raises(plaid.ApiException) as caught:
        plaid_api.PlaidApi(client).accounts_get(
            AccountsGetRequest(access_token=access_token, options=AccountsGetRequestOptions(account_ids=["nope"]))
        )
    assert caught.value.status == 400 and json.loads(caught.value.body)["error_code"] == "INVALID_ACCOUNT_ID"


PRODUCT_CASES = [(["balance"], '["balance"]'), (["investments", "stocks"], '["stocks"]'), (["signal"], '["signal"]')]


@pytest.mark.parametrize(("wanted", "named"), PRODUCT_CASES)
def test_balance_and_unknown_products_are_invalid_product(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer, wanted: list[str], named: str
) -> None:
    expected = f"client is not authorized to access the following products: {named}"
    answer = plaid_http.error("/link/token/create", "INVALID_PRODUCT", link_token_body(products=wanted))
    assert (answer["error_type"], answer["error_message"]) == ("INVALID_INPUT", expected)
    body = {"institution_id": "ins_109508", "initial_products": wanted}
    answer = plaid_http.error("/sandbox/public_token/create", "INVALID_PRODUCT", body)
    assert answer["error_message"] == expected
    seeded = httpx.post(emulator.url + "/emulator/items", json={"products": wanted})
    assert seeded.status_code == 400
    assert seeded.json() == {"error": expected, "error_code": "INVALID_PRODUCT"}


def test_products_that_are_missing_empty_or_not_names(plaid_http: SpecCheckedPlaid) -> None:
    plaid_http.error("/sandbox/public_token/create", "MISSING_FIELDS", {"institution_id": "ins_109508"})
    for wrong in ([], "investments", [7]):
        body = {"institution_id": "ins_109508", "initial_products": wrong}
        plaid_http.error("/sandbox/public_token/create", "INVALID_FIELD", body)
    both = plaid_http("/sandbox/public_token/create", institution_id="ins_109508", initial_products=["auth", "assets"])
    assert both["public_token"].startswith("public-sandbox-")


@pytest.mark.parametrize(
    "headers",
    [{}, {"content-type": "text/plain"}, {"content-type": "application/x-www-form-urlencoded"}],
    ids=["no-content-type", "text", "form"],
)
def test_a_body_not_sent_as_json_is_invalid_body(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer, headers: dict[str, str]
) -> None:
    access_token, _ = plaid_http.link()
    raw = json.dumps({"client_id": CLIENT_ID, "secret": SECRET, "access_token": access_token}).encode()
    response = httpx.post(emulator.url + "/item/get", content=raw, headers=headers)
    assert response.status_code == 400
    plaid_http.check("/item/get", raw, response)
    answer = response.json()
    assert (answer["error_type"], answer["error_code"]) == ("INVALID_REQUEST", "INVALID_BODY")
    assert answer["error_message"] == "body could not be parsed as JSON"


def test_json_with_a_charset_and_httpx_json_are_accepted(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer
) -> None:
    access_token, _ = plaid_http.link()
    body = {"client_id": CLIENT_ID, "secret": SECRET, "access_token": access_token}
    with_charset = httpx.post(
        emulator.url + "/item/get",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert with_charset.status_code == 200, with_charset.text
    assert httpx.post(emulator.url + "/item/get", json=body).status_code == 200


def test_unknown_and_malformed_tokens_in_plaids_words(plaid_http: SpecCheckedPlaid) -> None:
    cases = [
        (
            "/item/get",
            "access_token",
            "access-sandbox-00000000-0000-0000-0000-000000000000",
            "could not find matching access token",
        ),
        (
            "/accounts/get",
            "access_token",
            "nonsense",
            "provided access token is in an invalid format. expected format: access-<environment>-<identifier>",
        ),
        (
            "/investments/holdings/get",
            "access_token",
            "public-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970",
            'provided token is the wrong type. expected "access", got "public"',
        ),
        (
            "/item/public_token/exchange",
            "public_token",
            "public-sandbox-00000000-0000-0000-0000-000000000000",
            "could not find matching public token",
        ),
        (
            "/item/public_token/exchange",
            "public_token",
            "garbage",
            "provided public token is in an invalid format. expected format: public-<environment>-<identifier>",
        ),
        (
            "/item/public_token/exchange",
            "public_token",
            "access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970",
            'provided token is the wrong type. expected "public", got "access"',
        ),
    ]
    for path, field, value, message in cases:
        code = "INVALID_ACCESS_TOKEN" if field == "access_token" else "INVALID_PUBLIC_TOKEN"
        answer = plaid_http.error(path, code, {field: value})
        assert (answer["error_type"], answer["error_message"]) == ("INVALID_INPUT", message), (path, value)


def test_seeded_and_linked_items_come_with_link_metadata(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer
) -> None:
    """What Link's onSuccess hands a front end, so an item can be linked by hand with named accounts."""
    seeded = control(emulator, "POST", "/emulator/items", {"institution_id": "ins_109511"})
    accounts = plaid_http("/accounts/get", access_token=seeded["access_token"])["accounts"]
    assert seeded["metadata"]["institution"] == {"institution_id": "ins_109511", "name": "Tartan Bank"}
    assert seeded["metadata"]["accounts"] == [
        {"id": a["account_id"], "name": a["name"], "mask": a["mask"], "type": a["type"], "subtype": a["subtype"]}
        for a in accounts
    ]
    link = plaid_http("/link/token/create", link_token_body(products=["investments"], country_codes=["GB"]))
    refused = httpx.post(emulator.url + "/emulator/link/complete", json={"link_token": link["link_token"]})
    assert refused.status_code == 400 and "country_codes" in refused.json()["error"]  # ins_109508 is in the US
    completed = control(
        emulator, "POST", "/emulator/link/complete", {"link_token": link["link_token"], "institution_id": "ins_117650"}
    )
    assert completed["metadata"]["institution"]["name"] == "Royal Bank of Plaid"
    assert (
        plaid_http("/item/public_token/exchange", public_token=completed["public_token"])["item_id"]
        == completed["item_id"]
    )
