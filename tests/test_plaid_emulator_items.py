"""Items and institutions as Plaid shows them: ``/item/get``'s ``status`` and ``created_at``, and
``/institutions/get_by_id`` for every Sandbox institution Plaid documents, optional metadata only on request.
"""

from __future__ import annotations

import base64
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from plaid.api import plaid_api
from plaid.model.country_code import CountryCode
from plaid.model.institution import Institution
from plaid.model.institutions_get_by_id_request import InstitutionsGetByIdRequest
from plaid.model.institutions_get_by_id_request_options import InstitutionsGetByIdRequestOptions
from plaid.model.item_get_request import ItemGetRequest

from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.test_plaid_emulator import SpecCheckedPlaid, control, sdk, spec_document, start_emulator

# plaid.com/docs/sandbox/institutions/: id -> (name, country)
SANDBOX_INSTITUTIONS = {
    "ins_109508": ("First Platypus Bank", "US"),
    "ins_130016": ("First Platypus Balance Bank", "US"),
    "ins_109509": ("First Gingham Credit Union", "US"),
    "ins_109510": ("Tattersall Federal Credit Union", "US"),
    "ins_109511": ("Tartan Bank", "US"),
    "ins_109512": ("Houndstooth Bank", "US"),
    "ins_43": ("Tartan-Dominion Bank of Canada", "CA"),
    "ins_116834": ("Flexible Platypus Open Banking", "GB"),
    "ins_117650": ("Royal Bank of Plaid", "GB"),
    "ins_127287": ("Platypus OAuth Bank", "US"),
    "ins_132241": ("First Platypus OAuth App2App Bank", "US"),
    "ins_117181": ("Flexible Platypus Open Banking", "GB"),
    "ins_135858": ("Windowpane Bank", "US"),
    "ins_132363": ("Unhealthy Platypus Bank - Degraded", "US"),
    "ins_132361": ("Unhealthy Platypus Bank - Down", "US"),
    "ins_133402": ("Unsupported Platypus Bank - Institution Not Supported", "US"),
    "ins_133502": ("Platypus Bank RUX Auth", "US"),
    "ins_133503": ("Platypus Bank RUX Match", "US"),
}
OAUTH = {"ins_116834", "ins_117650", "ins_127287", "ins_132241", "ins_117181"}
OPTIONAL_METADATA = {"url", "logo", "primary_color"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with start_emulator() as server:
        yield server


@pytest.fixture
def plaid_http(emulator: EmulatorServer) -> SpecCheckedPlaid:
    return SpecCheckedPlaid(emulator.url)


def spec_institution_fields() -> set[str]:
    return set(spec_document()["components"]["schemas"]["Institution"]["properties"])


def parsed(stamp: str) -> datetime:
    assert stamp.endswith("Z"), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.parametrize("institution_id", sorted(SANDBOX_INSTITUTIONS))
def test_every_documented_sandbox_institution_with_its_country(
    plaid_http: SpecCheckedPlaid, institution_id: str
) -> None:
    name, country = SANDBOX_INSTITUTIONS[institution_id]
    body = {"institution_id": institution_id, "country_codes": [country]}
    institution = plaid_http("/institutions/get_by_id", body)["institution"]
    assert (institution["name"], institution["country_codes"]) == (name, [country])
    assert institution["oauth"] is (institution_id in OAUTH)
    other = "US" if country != "US" else "GB"
    plaid_http.error("/institutions/get_by_id", "INVALID_INSTITUTION", {**body, "country_codes": [other]})
    both = plaid_http("/institutions/get_by_id", {**body, "country_codes": [other, country]})
    assert both["institution"]["institution_id"] == institution_id
    public = plaid_http("/sandbox/public_token/create", institution_id=institution_id, initial_products=["investments"])
    access_token = plaid_http("/item/public_token/exchange", public_token=public["public_token"])["access_token"]
    item = plaid_http("/item/get", access_token=access_token)["item"]
    assert (item["institution_id"], item["institution_name"]) == (institution_id, name)


def test_optional_metadata_only_when_asked_and_nothing_outside_the_spec(plaid_http: SpecCheckedPlaid) -> None:
    """``connection_availability`` is the one key the committed spec lacks: plaid-python 46 requires it."""
    allowed = spec_institution_fields() | {"connection_availability"}
    assert "connection_availability" in Institution.attribute_map
    base = {"institution_id": "ins_109508", "country_codes": ["US"]}
    plain = plaid_http("/institutions/get_by_id", base)["institution"]
    assert not OPTIONAL_METADATA & set(plain) and set(plain) <= allowed
    assert {"status", "auth_metadata", "payment_initiation_metadata"}.isdisjoint(plain)
    refused = plaid_http("/institutions/get_by_id", {**base, "options": {"include_optional_metadata": False}})
    assert refused["institution"] == plain
    rich = plaid_http("/institutions/get_by_id", {**base, "options": {"include_optional_metadata": True}})
    institution = rich["institution"]
    assert set(institution) == set(plain) | OPTIONAL_METADATA and set(institution) <= allowed
    assert institution["url"].startswith("https://") and institution["primary_color"].startswith("#")
    png = base64.b64decode(institution["logo"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (152, 152)
    everything = {
        "include_optional_metadata": True,
        "include_status": True,
        "include_auth_metadata": True,
        "include_payment_initiation_metadata": True,
    }
    full = plaid_http("/institutions/get_by_id", {**base, "options": everything})["institution"]
    assert set(full) <= allowed and full["status"] is None  # Plaid: no institution status in the Sandbox
    assert full["auth_metadata"]["supported_methods"]["instant_auth"] is True
    plaid_http.error("/institutions/get_by_id", "INVALID_FIELD", {**base, "options": {"include_status": "yes"}})
    plaid_http.error("/institutions/get_by_id", "INVALID_FIELD", {**base, "country_codes": ["XX"]})


def test_institution_metadata_through_the_sdk(emulator: EmulatorServer) -> None:
    with sdk(emulator) as client:
        api = plaid_api.PlaidApi(client)
        request = InstitutionsGetByIdRequest(
            institution_id="ins_117650",
            country_codes=[CountryCode("GB")],
            options=InstitutionsGetByIdRequestOptions(include_optional_metadata=True),
        )
        institution = api.institutions_get_by_id(request).institution
    assert institution.name == "Royal Bank of Plaid" and institution.oauth is True
    assert [code.value for code in institution.country_codes] == ["GB"] and institution.logo


def item_get(plaid_http: SpecCheckedPlaid, access_token: str) -> dict[str, Any]:
    answer: dict[str, Any] = plaid_http("/item/get", access_token=access_token)
    return answer


def test_item_get_has_created_at_and_status(plaid_http: SpecCheckedPlaid, emulator: EmulatorServer) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    access_token, _ = plaid_http.link()
    fresh = item_get(plaid_http, access_token)
    assert before <= parsed(fresh["item"]["created_at"]) <= datetime.now(UTC)
    assert fresh["status"] == {
        "investments": {"last_successful_update": None, "last_failed_update": None},
        "transactions": None,  # the item does not hold the transactions product
        "last_webhook": None,
    }
    plaid_http("/investments/holdings/get", access_token=access_token)
    succeeded = item_get(plaid_http, access_token)["status"]["investments"]
    assert succeeded["last_successful_update"] is not None and succeeded["last_failed_update"] is None
    assert item_get(plaid_http, access_token)["item"]["created_at"] == fresh["item"]["created_at"]

    plaid_http("/sandbox/item/reset_login", access_token=access_token)
    plaid_http.error("/investments/holdings/get", "ITEM_LOGIN_REQUIRED", {"access_token": access_token})
    failed = item_get(plaid_http, access_token)["status"]["investments"]
    assert failed["last_failed_update"] is not None
    assert failed["last_successful_update"] == succeeded["last_successful_update"]


def test_only_institution_and_item_failures_count_as_failed_updates(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer
) -> None:
    access_token, item_id = plaid_http.link()
    dates = {"start_date": "2024-01-01", "end_date": "2024-02-01"}
    plaid_http.error(
        "/investments/transactions/get",
        "INVALID_FIELD",
        {"access_token": access_token, **dates, "options": {"count": 0}},
    )
    assert item_get(plaid_http, access_token)["status"]["investments"]["last_failed_update"] is None
    fault = {"path": "/investments/transactions/get", "item_id": item_id, "error_code": "INSTITUTION_DOWN"}
    control(emulator, "POST", "/emulator/faults", fault)
    plaid_http.error("/investments/transactions/get", "INSTITUTION_DOWN", {"access_token": access_token, **dates})
    status = item_get(plaid_http, access_token)["status"]["investments"]
    assert status["last_failed_update"] is not None and status["last_successful_update"] is None
    time.sleep(1.05)  # timestamps are to the second
    plaid_http("/investments/transactions/get", {"access_token": access_token, **dates})
    status = item_get(plaid_http, access_token)["status"]["investments"]
    assert parsed(status["last_successful_update"]) > parsed(status["last_failed_update"])


def test_status_names_the_last_webhook_and_parses_in_the_sdk(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer
) -> None:
    access_token, _ = plaid_http.link(webhook="http://127.0.0.1:9/unreachable")
    plaid_http("/sandbox/item/fire_webhook", access_token=access_token, webhook_code="NEW_ACCOUNTS_AVAILABLE")
    last = item_get(plaid_http, access_token)["status"]["last_webhook"]
    assert last["code_sent"] == "NEW_ACCOUNTS_AVAILABLE" and parsed(last["sent_at"]) <= datetime.now(UTC)
    with sdk(emulator) as client:
        answer = plaid_api.PlaidApi(client).item_get(ItemGetRequest(access_token=access_token))
    assert answer.status.last_webhook.code_sent == "NEW_ACCOUNTS_AVAILABLE"
    assert answer.item.created_at.tzinfo is not None
