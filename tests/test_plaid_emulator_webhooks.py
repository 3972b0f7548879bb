"""Webhooks: Plaid's payloads, signed as Plaid signs them, verified here the way a receiver must verify them."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from plaid.api import plaid_api
from plaid.model.sandbox_item_fire_webhook_request import SandboxItemFireWebhookRequest
from plaid.model.webhook_type import WebhookType
from plaid.model.webhook_verification_key_get_request import WebhookVerificationKeyGetRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator import EmulatorServer, ThreadedServer
from ghostfolio_plaid.plaid_emulator.webhook_bodies import SANDBOX_CODES, WEBHOOK_TYPES
from tests.test_plaid_emulator import (
    SpecCheckedPlaid,
    check_schema,
    control,
    sdk,
    sdk_parse,
    spec_document,
    start_emulator,
)


@dataclass
class Delivery:
    path: str
    raw: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """A webhook endpoint that keeps what it got; ``answers`` sets the status per path (default 200)."""

    url: str
    received: list[Delivery] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)

    def wait(self, path: str, count: int = 1) -> list[Delivery]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = [d for d in self.received if d.path == path]
            if len(got) >= count:
                return got
            time.sleep(0.01)
        raise AssertionError(f"no webhook arrived at {path}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    async def receive(request: Request) -> Response:
        state.received.append(Delivery(request.url.path, await request.body(), dict(request.headers)))
        return Response(status_code=state.answers.get(request.url.path, 200))

    with ThreadedServer(Starlette(routes=[Route("/{name:path}", receive, methods=["POST"])])) as server:
        state.url = server.url
        yield state


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with start_emulator() as server:
        yield server


@pytest.fixture
def plaid_http(emulator: EmulatorServer) -> SpecCheckedPlaid:
    return SpecCheckedPlaid(emulator.url)


@pytest.fixture
def hook(receiver: Receiver, request: pytest.FixtureRequest) -> str:
    """A receiver path of this test's own."""
    return "/" + re.sub(r"\W+", "-", request.node.name)


def verify(plaid_http: SpecCheckedPlaid, delivery: Delivery) -> dict[str, Any]:
    """What a receiver must do: ES256 only, key by kid from Plaid, fresh iat, hash of the raw bytes."""
    token = delivery.headers["plaid-verification"]
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "ES256", "kid": header["kid"], "typ": "JWT"}
    key = plaid_http("/webhook_verification_key/get", key_id=header["kid"])["key"]
    assert (key["kty"], key["crv"], key["alg"], key["use"], key["expired_at"]) == ("EC", "P-256", "ES256", "sig", None)
    assert isinstance(key["created_at"], int) and key["created_at"] <= time.time()
    claims = jwt.decode(token, jwt.PyJWK(key, algorithm="ES256"), algorithms=["ES256"], options={"require": ["iat"]})
    assert claims["request_body_sha256"] == hashlib.sha256(delivery.raw).hexdigest()
    assert 0 <= time.time() - claims["iat"] < 60
    assert delivery.raw.startswith(b'{\n  "')  # Plaid's bodies are indented by 2
    assert delivery.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(delivery.raw)
    return body


def sdk_model(component: str) -> type[Any]:
    module = re.sub(r"(?<!^)(?=[A-Z])", "_", component).lower()
    model: type[Any] = getattr(importlib.import_module(f"plaid.model.{module}"), component)
    return model


ALL_PRODUCTS = ["investments", "transactions", "auth", "liabilities", "assets", "identity"]
WEBHOOKS = [
    ("HOLDINGS", "DEFAULT_UPDATE", "HoldingsDefaultUpdateWebhook"),
    ("INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE", "InvestmentsDefaultUpdateWebhook"),
    ("TRANSACTIONS", "DEFAULT_UPDATE", "DefaultUpdateWebhook"),
    ("AUTH", "DEFAULT_UPDATE", "AuthDefaultUpdateWebhook"),
    ("LIABILITIES", "DEFAULT_UPDATE", "LiabilitiesDefaultUpdateWebhook"),
    ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE", "SyncUpdatesAvailableWebhook"),
    ("TRANSACTIONS", "RECURRING_TRANSACTIONS_UPDATE", "RecurringTransactionsUpdateWebhook"),
    ("ASSETS", "PRODUCT_READY", "AssetsProductReadyWebhook"),
    ("ASSETS", "ERROR", "AssetsErrorWebhook"),
    ("ITEM", "ERROR", "ItemErrorWebhook"),
    ("ITEM", "PENDING_DISCONNECT", "PendingDisconnectWebhook"),
    ("ITEM", "USER_PERMISSION_REVOKED", "UserPermissionRevokedWebhook"),
    ("ITEM", "USER_ACCOUNT_REVOKED", "UserAccountRevokedWebhook"),
    ("ITEM", "LOGIN_REPAIRED", "ItemLoginRepairedWebhook"),
    ("ITEM", "NEW_ACCOUNTS_AVAILABLE", "NewAccountsAvailableWebhook"),
]


def link_with_every_product(plaid_http: SpecCheckedPlaid, webhook: str) -> tuple[str, str]:
    public = plaid_http(
        "/sandbox/public_token/create",
        institution_id="ins_109508",
        initial_products=ALL_PRODUCTS,
        options={"webhook": webhook},
    )["public_token"]
    exchanged = plaid_http("/item/public_token/exchange", public_token=public)
    return exchanged["access_token"], exchanged["item_id"]


def check_webhook(plaid_http: SpecCheckedPlaid, delivery: Delivery, component: str) -> dict[str, Any]:
    """Signed as Plaid signs, in the shape of Plaid's schema and of plaid-python's model."""
    body = verify(plaid_http, delivery)
    assert body["environment"] == "sandbox"
    check_schema(body, component)
    sdk_parse(body, sdk_model(component))
    return body


@pytest.mark.parametrize(("kind", "code", "component"), WEBHOOKS, ids=[f"{k}:{c}" for k, c, _ in WEBHOOKS])
def test_each_webhook_is_signed_and_matches_plaids_schema(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str, kind: str, code: str, component: str
) -> None:
    access_token, item_id = link_with_every_product(plaid_http, receiver.url + hook)
    fired = plaid_http("/sandbox/item/fire_webhook", access_token=access_token, webhook_type=kind, webhook_code=code)
    assert fired["webhook_fired"] is True
    (delivery,) = receiver.wait(hook)
    body = check_webhook(plaid_http, delivery, component)
    assert (body["webhook_type"], body["webhook_code"]) == (kind, code)
    assert body.get("item_id") == (None if kind == "ASSETS" else item_id)  # Assets webhooks name the report
    if code == "DEFAULT_UPDATE" and kind == "INVESTMENTS_TRANSACTIONS":
        assert "cancelled_investments_transactions" in body and "new_investments_transactions" in body
    if kind == "ITEM" and code in ("ERROR", "USER_PERMISSION_REVOKED"):
        assert body["error"]["error_code"] == ("ITEM_LOGIN_REQUIRED" if code == "ERROR" else code)
        assert "request_id" not in body["error"]  # Plaid omits it in webhooks


def spec_fire_webhook_codes() -> tuple[list[str], list[str]]:
    """The webhook_code enum of SandboxItemFireWebhookRequest, and the values Plaid's reference shows."""
    code = spec_document()["components"]["schemas"]["SandboxItemFireWebhookRequest"]["properties"]["webhook_code"]
    return code["enum"], code["x-override-enum-values-shown"]


def test_fire_webhook_takes_exactly_the_documented_codes_and_types() -> None:
    enum, documented = spec_fire_webhook_codes()
    assert list(SANDBOX_CODES) == documented
    assert set(enum) - set(documented) == {"AUTHORIZATION_GRANTED"}  # in the enum, in no documentation
    assert list(WEBHOOK_TYPES) == spec_document()["components"]["schemas"]["WebhookType"]["enum"]


def test_reset_login_fires_item_error_with_login_required(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str
) -> None:
    """Plaid: "An ITEM_LOGIN_REQUIRED webhook will also be fired after a call to this endpoint"."""
    access_token, item_id = plaid_http.link(webhook=receiver.url + hook)
    assert plaid_http("/sandbox/item/reset_login", access_token=access_token)["reset_login"] is True
    (delivery,) = receiver.wait(hook)
    body = check_webhook(plaid_http, delivery, "ItemErrorWebhook")
    assert (body["webhook_type"], body["webhook_code"], body["item_id"]) == ("ITEM", "ERROR", item_id)
    assert body["error"]["error_code"] == "ITEM_LOGIN_REQUIRED" and body["error"]["error_type"] == "ITEM_ERROR"
    assert plaid_http("/item/get", access_token=access_token)["status"]["last_webhook"]["code_sent"] == "ERROR"


@pytest.mark.parametrize(
    ("kind", "code", "component"),
    [
        ("ITEM", "PENDING_EXPIRATION", "PendingExpirationWebhook"),
        ("ITEM", "WEBHOOK_UPDATE_ACKNOWLEDGED", "WebhookUpdateAcknowledgedWebhook"),
        ("HOLDINGS", "DEFAULT_UPDATE", "HoldingsDefaultUpdateWebhook"),
    ],
)
def test_the_control_endpoint_fires_what_fire_webhook_may_not(
    plaid_http: SpecCheckedPlaid,
    emulator: EmulatorServer,
    receiver: Receiver,
    hook: str,
    kind: str,
    code: str,
    component: str,
) -> None:
    access_token, item_id = plaid_http.link(webhook=receiver.url + hook)
    if kind == "ITEM":  # Plaid's own endpoint refuses these codes
        body = {"access_token": access_token, "webhook_code": code, "webhook_type": kind}
        plaid_http.error("/sandbox/item/fire_webhook", "INVALID_FIELD", body)
    fired = control(
        emulator, "POST", "/emulator/webhooks", {"item_id": item_id, "webhook_code": code, "webhook_type": kind}
    )
    assert fired["webhook_fired"] is True
    (delivery,) = receiver.wait(hook)
    body = check_webhook(plaid_http, delivery, component)
    assert body == fired["body"] and body["item_id"] == item_id


@pytest.mark.parametrize(
    ("fields", "error_code"),
    [
        ({"webhook_code": "NOT_A_CODE"}, None),
        ({"webhook_code": "DEFAULT_UPDATE", "webhook_type": "ITEM"}, None),
        ({"webhook_code": ["ERROR"]}, None),
        ({"webhook_code": "SYNC_UPDATES_AVAILABLE"}, "SANDBOX_PRODUCT_NOT_ENABLED"),
        ({"webhook_code": "NEW_ACCOUNTS_AVAILABLE", "item_id": "no-such-item"}, None),
    ],
)
def test_the_control_endpoint_refuses_what_it_cannot_fire(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer, fields: dict[str, Any], error_code: str | None
) -> None:
    _, item_id = plaid_http.link(webhook="http://127.0.0.1:9/unused")
    response = httpx.post(emulator.url + "/emulator/webhooks", json={"item_id": item_id, **fields})
    assert response.status_code == 400 and response.json()["error"]
    assert response.json().get("error_code") == error_code
    _, quiet = plaid_http.link()
    response = httpx.post(emulator.url + "/emulator/webhooks", json={"item_id": quiet, "webhook_code": "ERROR"})
    assert response.status_code == 400 and response.json()["error_code"] == "SANDBOX_WEBHOOK_INVALID"


def test_fire_webhook_through_the_sdk(emulator: EmulatorServer, receiver: Receiver, hook: str) -> None:
    plaid_http = SpecCheckedPlaid(emulator.url)
    access_token, item_id = plaid_http.link(webhook=receiver.url + hook)
    with sdk(emulator) as client:
        api = plaid_api.PlaidApi(client)
        request = SandboxItemFireWebhookRequest(
            access_token=access_token, webhook_code="DEFAULT_UPDATE", webhook_type=WebhookType("HOLDINGS")
        )
        assert api.sandbox_item_fire_webhook(request).webhook_fired
        (delivery,) = receiver.wait(hook)
        kid = jwt.get_unverified_header(delivery.headers["plaid-verification"])["kid"]
        key = api.webhook_verification_key_get(WebhookVerificationKeyGetRequest(key_id=kid)).key
        claims = jwt.decode(
            delivery.headers["plaid-verification"], jwt.PyJWK(key.to_dict(), algorithm="ES256"), algorithms=["ES256"]
        )
    assert claims["request_body_sha256"] == hashlib.sha256(delivery.raw).hexdigest()
    assert json.loads(delivery.raw)["item_id"] == item_id


def test_a_tampered_body_or_foreign_key_fails_verification(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str
) -> None:
    """The signature really binds the bytes: the checks above would catch a forged or altered webhook."""
    access_token, _ = plaid_http.link(webhook=receiver.url + hook)
    plaid_http("/sandbox/item/fire_webhook", access_token=access_token, webhook_type="ITEM", webhook_code="ERROR")
    (delivery,) = receiver.wait(hook)
    tampered = Delivery(delivery.path, delivery.raw.replace(b"ERROR", b"LOGIN_REPAIRED", 1), delivery.headers)
    with pytest.raises(AssertionError):
        verify(plaid_http, tampered)
    with start_emulator() as other:
        foreign = SpecCheckedPlaid(other.url)
        kid = jwt.get_unverified_header(delivery.headers["plaid-verification"])["kid"]
        foreign.error("/webhook_verification_key/get", "INVALID_WEBHOOK_VERIFICATION_KEY_ID", {"key_id": kid})


def test_item_state_follows_item_webhooks(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer, receiver: Receiver, hook: str
) -> None:
    access_token, item_id = plaid_http.link(webhook=receiver.url + hook)

    def fire(code: str) -> None:
        plaid_http("/sandbox/item/fire_webhook", access_token=access_token, webhook_code=code)

    fire("ERROR")
    assert plaid_http("/item/get", access_token=access_token)["item"]["error"]["error_code"] == "ITEM_LOGIN_REQUIRED"
    plaid_http.error("/investments/holdings/get", "ITEM_LOGIN_REQUIRED", {"access_token": access_token})
    fire("LOGIN_REPAIRED")
    assert plaid_http("/item/get", access_token=access_token)["item"]["error"] is None
    assert plaid_http("/investments/holdings/get", access_token=access_token)["holdings"]
    control(emulator, "POST", "/emulator/webhooks", {"item_id": item_id, "webhook_code": "PENDING_EXPIRATION"})
    deliveries = receiver.wait(hook, 3)
    expiring = json.loads(deliveries[-1].raw)
    item = plaid_http("/item/get", access_token=access_token)["item"]
    assert item["consent_expiration_time"] == expiring["consent_expiration_time"]


def test_webhook_update_acknowledges_at_the_new_url(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str
) -> None:
    access_token, item_id = plaid_http.link(webhook=receiver.url + hook + "-old")
    new_url = receiver.url + hook + "-new"
    item = plaid_http("/item/webhook/update", access_token=access_token, webhook=new_url)["item"]
    assert item["webhook"] == new_url
    (delivery,) = receiver.wait(hook + "-new")
    body = verify(plaid_http, delivery)
    assert (body["webhook_code"], body["new_webhook_url"], body["item_id"]) == (
        "WEBHOOK_UPDATE_ACKNOWLEDGED",
        new_url,
        item_id,
    )
    assert not [d for d in receiver.received if d.path == hook + "-old"]


def test_failed_deliveries_are_recorded_and_do_not_fail_the_fire(
    plaid_http: SpecCheckedPlaid, emulator: EmulatorServer, receiver: Receiver, hook: str
) -> None:
    control(emulator, "POST", "/emulator/reset")
    receiver.answers[hook] = 500
    refusing, _ = plaid_http.link(webhook=receiver.url + hook)
    unreachable, _ = plaid_http.link(webhook="http://127.0.0.1:9/nobody-listens")
    for token in (refusing, unreachable):
        fired = plaid_http("/sandbox/item/fire_webhook", access_token=token, webhook_code="NEW_ACCOUNTS_AVAILABLE")
        assert fired["webhook_fired"] is True
    deliveries = wait_for(lambda: control(emulator, "GET", "/emulator/webhooks")["webhooks"], 2)
    by_url = {d["url"]: d for d in deliveries}
    assert by_url[receiver.url + hook]["status"] == 500
    assert by_url["http://127.0.0.1:9/nobody-listens"]["status"] is None
    assert "Connect" in by_url["http://127.0.0.1:9/nobody-listens"]["error"]
    assert all(d["body"]["webhook_code"] == "NEW_ACCOUNTS_AVAILABLE" for d in deliveries)


def wait_for(read: Callable[[], list[Any]], count: int) -> list[Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = read()
        if len(got) >= count:
            return got
        time.sleep(0.02)
    raise AssertionError(f"fewer than {count} entries")


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("ITEM", "DEFAULT_UPDATE"),
        ("HOLDINGS", "ERROR"),
        (None, "NOT_A_CODE"),
        ("IDENTITY", "DEFAULT_UPDATE"),
        ("ITEM", "PENDING_EXPIRATION"),
        ("ITEM", "WEBHOOK_UPDATE_ACKNOWLEDGED"),
        (None, "AUTHORIZATION_GRANTED"),
        ("ITEM", "SYNC_UPDATES_AVAILABLE"),
    ],
)
def test_codes_plaid_cannot_fire_are_invalid_fields(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str, kind: str | None, code: str
) -> None:
    access_token, _ = plaid_http.link(webhook=receiver.url + hook)
    body = {"access_token": access_token, "webhook_code": code, **({"webhook_type": kind} if kind else {})}
    plaid_http.error("/sandbox/item/fire_webhook", "INVALID_FIELD", body)


def test_default_update_for_a_product_the_item_lacks(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str
) -> None:
    access_token, _ = plaid_http.link(webhook=receiver.url + hook)
    answer = plaid_http.error(
        "/sandbox/item/fire_webhook",
        "SANDBOX_PRODUCT_NOT_ENABLED",
        {"access_token": access_token, "webhook_code": "DEFAULT_UPDATE"},  # Plaid's default type: TRANSACTIONS
    )
    assert answer["error_type"] == "SANDBOX_ERROR"


def test_fire_webhook_without_a_webhook_is_refused(plaid_http: SpecCheckedPlaid) -> None:
    access_token, _ = plaid_http.link()
    answer = plaid_http.error(
        "/sandbox/item/fire_webhook",
        "SANDBOX_WEBHOOK_INVALID",
        {"access_token": access_token, "webhook_code": "DEFAULT_UPDATE", "webhook_type": "HOLDINGS"},
    )
    assert answer["error_type"] == "SANDBOX_ERROR"


@pytest.mark.parametrize(
    ("kind", "code", "product"),
    [
        ("AUTH", "DEFAULT_UPDATE", "auth"),
        ("LIABILITIES", "DEFAULT_UPDATE", "liabilities"),
        (None, "SYNC_UPDATES_AVAILABLE", "transactions"),
        (None, "RECURRING_TRANSACTIONS_UPDATE", "transactions"),
        (None, "PRODUCT_READY", "assets"),
        ("ASSETS", "ERROR", "assets"),
        (None, "SMS_MICRODEPOSITS_VERIFICATION", "auth"),
    ],
)
def test_documented_codes_need_their_product(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str, kind: str | None, code: str, product: str
) -> None:
    """Plaid: "If the Item does not support the product, a SANDBOX_PRODUCT_NOT_ENABLED error will result"."""
    access_token, _ = plaid_http.link(webhook=receiver.url + hook)  # investments only
    body = {"access_token": access_token, "webhook_code": code, **({"webhook_type": kind} if kind else {})}
    answer = plaid_http.error("/sandbox/item/fire_webhook", "SANDBOX_PRODUCT_NOT_ENABLED", body)
    assert answer["error_message"] == f"The {product} product is not enabled on this item"
    assert plaid_http("/item/get", access_token=access_token)["status"]["last_webhook"] is None


def test_sms_microdeposit_verification_needs_a_micro_deposit_item(
    plaid_http: SpecCheckedPlaid, receiver: Receiver, hook: str
) -> None:
    """The emulator creates no Same-Day Micro-deposit items, so even an Auth item cannot fire it."""
    access_token, _ = link_with_every_product(plaid_http, receiver.url + hook)
    body = {"access_token": access_token, "webhook_code": "SMS_MICRODEPOSITS_VERIFICATION"}
    answer = plaid_http.error("/sandbox/item/fire_webhook", "INVALID_FIELD", body)
    assert "Micro-deposits" in answer["error_message"]
