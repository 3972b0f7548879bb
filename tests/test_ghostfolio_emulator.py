"""The Ghostfolio emulator over real HTTP: auth, accounts, balances, routing, faults and the request log.

The import lives in ``test_ghostfolio_emulator_import.py``; activities and holdings in
``test_ghostfolio_emulator_activities.py``. Expected bodies are Ghostfolio 3.58's, read from its source.
The helpers here are shared by those files.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from ghostfolio_plaid.ghostfolio_emulator import GhostfolioEmulatorConfig, create_app
from ghostfolio_plaid.plaid_emulator.server import ThreadedServer

SECRET = "ghostfolio-emulator-test-secret-0123456789abcdef"
UNAUTHORIZED = {"message": "Unauthorized", "statusCode": 401}
FORBIDDEN = {"statusCode": 403, "message": "Forbidden"}
NOT_FOUND = {"statusCode": 404, "message": "Not Found"}


def sign(claims: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, secret, algorithm=algorithm)


def token_for(user_id: Any, *, lifetime: timedelta = timedelta(hours=1), **extra: Any) -> str:
    now = datetime.now(UTC)
    return sign({"id": user_id, "iat": now, "exp": now + lifetime, **extra})


def activity(**overrides: Any) -> dict[str, Any]:
    """A valid import activity (a BUY of AAPL on YAHOO), with overrides; ``None`` removes a key."""
    base: dict[str, Any] = {
        "accountId": None,
        "comment": "plaid:tx-1",
        "currency": "USD",
        "dataSource": "YAHOO",
        "date": "2024-01-02T00:00:00.000Z",
        "fee": 0,
        "quantity": 10,
        "symbol": "AAPL",
        "type": "BUY",
        "unitPrice": 150,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None or key in ("accountId", "comment")}


class User:
    def __init__(self, gf: Ghostfolio, data: dict[str, Any]) -> None:
        self.gf = gf
        self.id: str = data["id"]
        self.access_token: str = data["accessToken"]
        self.token: str = data["authToken"]

    def call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.gf.http.request(method, path, json=json, params=params, headers=headers)

    def create_account(self, name: str = "Brokerage", currency: str = "USD", **extra: Any) -> dict[str, Any]:
        response = self.call(
            "POST", "/api/v1/account", json={"name": name, "currency": currency, "platformId": None, **extra}
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def import_(self, activities: list[dict[str, Any]], *, dry_run: bool = False, **extra: Any) -> httpx.Response:
        params = {"dryRun": "true"} if dry_run else None
        return self.call("POST", "/api/v1/import", json={"activities": activities, **extra}, params=params)

    def state(self) -> dict[str, Any]:
        return self.gf.control("GET", f"/emulator/state?userId={self.id}")


class Ghostfolio:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, path, json=body)
        assert response.status_code < 300, response.text
        return response.json()

    def new_user(self, role: str = "USER", user_id: str | None = None) -> User:
        body: dict[str, Any] = {"role": role}
        if user_id is not None:
            body["id"] = user_id
        return User(self, self.control("POST", "/emulator/users", body))


@pytest.fixture(scope="module")
def ghostfolio_server() -> Iterator[ThreadedServer]:
    with ThreadedServer(create_app(GhostfolioEmulatorConfig(jwt_secret=SECRET))) as server:
        yield server


@pytest.fixture
def gf(ghostfolio_server: ThreadedServer) -> Iterator[Ghostfolio]:
    client = Ghostfolio(ghostfolio_server.url)
    client.control("POST", "/emulator/reset")
    yield client
    client.http.close()


@pytest.fixture
def alice(gf: Ghostfolio) -> User:
    return gf.new_user()


# --- health and auth ---------------------------------------------------------------------------------------------


def test_health_needs_no_token(gf: Ghostfolio) -> None:
    response = gf.http.get("/api/v1/health")
    assert (response.status_code, response.json()) == (200, {"status": "OK"})


def test_data_provider_health_follows_the_offline_switch(gf: Ghostfolio) -> None:
    assert gf.http.get("/api/v1/health/data-provider/YAHOO").json() == {"status": "OK"}
    gf.control("POST", "/emulator/offline", {"offline": True})
    response = gf.http.get("/api/v1/health/data-provider/YAHOO")
    assert (response.status_code, response.json()) == (503, {"status": "Service Unavailable"})
    assert gf.http.get("/api/v1/health/data-provider/MANUAL").status_code == 200
    assert gf.http.get("/api/v1/health/data-provider/NOPE").json() == NOT_FOUND


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic abc",
        "Bearer not-a-jwt",
        "Token {valid}",
        "Bearer {wrong_secret}",
        "Bearer {expired}",
        "Bearer {not_yet_valid}",
        "Bearer {unknown_user}",
        "Bearer {without_id}",
        "Bearer {numeric_id}",
        "Bearer {alg_none}",
    ],
)
def test_bad_or_missing_tokens_are_401(gf: Ghostfolio, alice: User, authorization: str | None) -> None:
    now = datetime.now(UTC)
    tokens = {
        "valid": alice.token,
        "wrong_secret": sign(
            {"id": alice.id, "exp": now + timedelta(hours=1)}, secret="another-secret-0123456789abcdef"
        ),
        "expired": token_for(alice.id, lifetime=timedelta(seconds=-5)),
        "not_yet_valid": token_for(alice.id, nbf=now + timedelta(hours=1)),
        "unknown_user": token_for("no-such-user"),
        "without_id": sign({"sub": alice.id, "exp": now + timedelta(hours=1)}),
        "numeric_id": token_for(42),
        "alg_none": jwt.encode({"id": alice.id}, None, algorithm="none"),
    }
    headers = {} if authorization is None else {"Authorization": authorization.format(**tokens)}
    for method, path in (("GET", "/api/v1/account"), ("POST", "/api/v1/import"), ("GET", "/api/v1/activities")):
        response = gf.http.request(method, path, headers=headers, json={"activities": []})
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (method, path)


def test_tokens_ghostfolio_accepts(gf: Ghostfolio, alice: User) -> None:
    """HS384/HS512 (jsonwebtoken's defaults for a secret), no exp, any scheme case, extra claims."""
    now = datetime.now(UTC)
    for token in (
        sign({"id": alice.id, "exp": now + timedelta(hours=1)}, algorithm="HS512"),
        sign({"id": alice.id, "exp": now + timedelta(hours=1)}, algorithm="HS384"),
        sign({"id": alice.id}),
        sign({"id": alice.id, "aud": "somebody", "iat": now + timedelta(hours=1)}),
    ):
        for scheme in ("Bearer", "bearer", "BEARER"):
            response = gf.http.get("/api/v1/account", headers={"Authorization": f"{scheme} {token}"})
            assert response.status_code == 200, response.text


def test_auto_create_users_accepts_any_signed_id(gf: Ghostfolio) -> None:
    headers = {"Authorization": f"Bearer {token_for('newcomer')}"}
    assert gf.http.get("/api/v1/account", headers=headers).status_code == 401
    gf.control("POST", "/emulator/config", {"auto_create_users": True})
    assert gf.http.get("/api/v1/account", headers=headers).status_code == 200
    assert {"id": "newcomer", "role": "USER"} in gf.control("GET", "/emulator/users")["users"]


def test_anonymous_login_exchanges_the_security_token(gf: Ghostfolio, alice: User) -> None:
    response = gf.http.post("/api/v1/auth/anonymous", json={"accessToken": alice.access_token})
    assert response.status_code == 201
    auth_token = response.json()["authToken"]
    claims = jwt.decode(auth_token, SECRET, algorithms=["HS256"])
    assert claims["id"] == alice.id and set(claims) == {"id", "iat", "exp"}
    assert claims["exp"] - claims["iat"] == 180 * 24 * 3600
    accounts = gf.http.get("/api/v1/account", headers={"Authorization": f"Bearer {auth_token}"})
    assert accounts.status_code == 200
    for body in ({"accessToken": "wrong"}, {}, None):
        refused = gf.http.post("/api/v1/auth/anonymous", json=body)
        assert (refused.status_code, refused.json()) == (403, FORBIDDEN)


def test_emulator_users_are_idempotent_and_validated(gf: Ghostfolio) -> None:
    first = gf.http.post("/emulator/users", json={"id": "bob"})
    again = gf.http.post("/emulator/users", json={"id": "bob", "role": "DEMO"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["accessToken"] == first.json()["accessToken"] and again.json()["role"] == "DEMO"
    assert gf.http.post("/emulator/users", json={"role": "KING"}).status_code == 400
    assert gf.http.post("/emulator/users", json={"id": 5}).status_code == 400


# --- accounts and balances ---------------------------------------------------------------------------------------


def test_create_and_list_accounts(gf: Ghostfolio, alice: User) -> None:
    created = alice.create_account("Plaid Brokerage", comment="  from plaid  ", balance=1234.5)
    assert set(created) == {"comment", "createdAt", "currency", "id", "name", "platformId", "updatedAt", "userId"}
    assert created["comment"] == "from plaid" and created["userId"] == alice.id and created["platformId"] is None
    second = alice.create_account("Another", "EUR", id="my-own-id")
    assert second["id"] == "my-own-id"
    listing = alice.call("GET", "/api/v1/account").json()
    assert [a["name"] for a in listing["accounts"]] == ["Another", "Plaid Brokerage"]  # ordered by name
    brokerage = listing["accounts"][1]
    assert brokerage["balance"] == 1234.5 and brokerage["activitiesCount"] == 0
    assert brokerage["platform"] is None and brokerage["tags"] == [] and brokerage["valueInBaseCurrency"] == 1234.5
    assert listing["totalBalanceInBaseCurrency"] == 1234.5 and listing["activitiesCount"] == 0
    one = alice.call("GET", f"/api/v1/account/{created['id']}")
    assert one.status_code == 200 and one.json()["id"] == created["id"]
    missing = alice.call("GET", "/api/v1/account/nope")
    assert (missing.status_code, missing.content) == (200, b"")  # Ghostfolio returns undefined: an empty body
    bob = gf.new_user()
    assert bob.call("GET", "/api/v1/account").json()["accounts"] == []


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"name": "A", "currency": "USD"}, ["platformId must be a string"]),
        ({"name": "A", "currency": "usd", "platformId": None}, ["currency must be a valid ISO4217 currency code"]),
        ({"name": "A", "currency": "ABC", "platformId": None}, ["currency must be a valid ISO4217 currency code"]),
        ({"currency": "USD", "platformId": None}, ["name must be a string"]),
        (
            {"name": "A", "currency": "USD", "platformId": None, "isExcluded": True},
            ["property isExcluded should not exist"],
        ),
        (
            {"name": "A", "currency": "USD", "platformId": None, "balance": "100"},
            ["balance must be a number conforming to the specified constraints"],
        ),
        (
            {"name": "A", "currency": "USD", "platformId": None, "tags": "x"},
            ["tags must be an array", "All tags's elements must be unique"],
        ),
    ],
)
def test_account_validation(alice: User, body: dict[str, Any], messages: list[str]) -> None:
    response = alice.call("POST", "/api/v1/account", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": messages, "error": "Bad Request", "statusCode": 400}


def test_account_edge_cases(gf: Ghostfolio, alice: User) -> None:
    """Derived currencies pass; a wrong-typed currency crashes Ghostfolio's validator (500); a duplicate id or an
    unknown platform is a database error (500); unknown tags a 400; a DEMO user may not create accounts."""
    assert alice.create_account("Pence", "GBp")["currency"] == "GBp"
    crash = alice.call("POST", "/api/v1/account", json={"name": "A", "currency": 840, "platformId": None})
    assert (crash.status_code, crash.json()) == (500, {"statusCode": 500, "message": "Internal server error"})
    alice.create_account("X", id="same")
    again = alice.call(
        "POST", "/api/v1/account", json={"name": "Y", "currency": "USD", "platformId": None, "id": "same"}
    )
    assert again.status_code == 500
    platform = alice.call("POST", "/api/v1/account", json={"name": "Y", "currency": "USD", "platformId": "p1"})
    assert platform.status_code == 500
    tags = alice.call(
        "POST", "/api/v1/account", json={"name": "Y", "currency": "USD", "platformId": None, "tags": ["t"]}
    )
    assert (tags.status_code, tags.json()) == (400, {"statusCode": 400, "message": "Bad Request"})
    demo = gf.new_user("DEMO")
    refused = demo.call("POST", "/api/v1/account", json={"name": "A", "currency": "USD", "platformId": None})
    assert (refused.status_code, refused.json()) == (403, FORBIDDEN)


def test_delete_account(gf: Ghostfolio, alice: User) -> None:
    account = alice.create_account(balance=10)
    bob = gf.new_user()
    assert bob.call("DELETE", f"/api/v1/account/{account['id']}").json() == FORBIDDEN
    used = alice.create_account("Used")
    assert alice.import_([activity(accountId=used["id"])]).status_code == 201
    assert alice.call("DELETE", f"/api/v1/account/{used['id']}").status_code == 403
    deleted = alice.call("DELETE", f"/api/v1/account/{account['id']}")
    assert deleted.status_code == 200 and deleted.json()["id"] == account["id"]
    assert [a["id"] for a in alice.state()["accounts"]] == [used["id"]]
    assert alice.state()["balances"] == []


def test_account_balances_one_per_day(gf: Ghostfolio, alice: User) -> None:
    account = alice.create_account()
    first = alice.call(
        "POST", "/api/v1/account-balance", json={"accountId": account["id"], "balance": 100, "date": "2024-03-01"}
    )
    assert first.status_code == 201
    assert set(first.json()) == {"accountId", "createdAt", "date", "id", "updatedAt", "userId", "value"}
    assert first.json()["date"] == "2024-03-01T00:00:00.000Z"
    same_day = alice.call(
        "POST",
        "/api/v1/account-balance",
        json={"accountId": account["id"], "balance": 250.25, "date": "2024-03-01T17:45:00Z"},
    )
    assert same_day.status_code == 201 and same_day.json()["id"] == first.json()["id"]
    alice.call(
        "POST", "/api/v1/account-balance", json={"accountId": account["id"], "balance": 50, "date": "2024-02-01"}
    )
    balances = alice.state()["balances"]
    assert [(b["date"][:10], b["value"]) for b in balances] == [("2024-02-01", 50), ("2024-03-01", 250.25)]
    listed = alice.call("GET", f"/api/v1/account/{account['id']}/balances").json()["balances"]
    assert [(b["date"][:10], b["value"], b["valueInBaseCurrency"]) for b in listed] == [
        ("2024-02-01", 50, 50),
        ("2024-03-01", 250.25, 250.25),
    ]
    assert alice.call("GET", "/api/v1/account").json()["accounts"][0]["balance"] == 250.25  # the latest
    future = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    alice.call("POST", "/api/v1/account-balance", json={"accountId": account["id"], "balance": 9999, "date": future})
    assert alice.call("GET", "/api/v1/account").json()["accounts"][0]["balance"] == 250.25  # future ones don't count
    removed = alice.call("DELETE", f"/api/v1/account-balance/{first.json()['id']}")
    assert removed.status_code == 200 and len(alice.state()["balances"]) == 2


def test_account_balance_refusals(gf: Ghostfolio, alice: User) -> None:
    bob = gf.new_user()
    bobs = bob.create_account()
    body = {"accountId": bobs["id"], "balance": 1, "date": "2024-01-01"}
    assert alice.call("POST", "/api/v1/account-balance", json=body).json() == FORBIDDEN
    invalid = alice.call("POST", "/api/v1/account-balance", json={"accountId": "acc-1", "balance": "1", "date": "soon"})
    assert invalid.json()["message"] == [
        "accountId must be a UUID",
        "balance must be a number conforming to the specified constraints",
        "date must be a valid ISO 8601 date string",
    ]


# --- routing, faults and the request log ---------------------------------------------------------------------


def test_removed_and_unknown_routes_are_nest_404s(alice: User) -> None:
    for method, path in (
        ("GET", "/api/v1/order"),
        ("POST", "/api/v1/order"),
        ("DELETE", "/api/v1/order/123"),
        ("PATCH", "/api/v1/import"),
        ("GET", "/api/v2/account"),
    ):
        response = alice.call(method, path)
        assert response.status_code == 404
        assert response.json() == {"message": f"Cannot {method} {path}", "error": "Not Found", "statusCode": 404}


def test_trailing_slash_and_body_parsing(gf: Ghostfolio, alice: User) -> None:
    assert alice.call("GET", "/api/v1/account/").status_code == 200
    broken = gf.http.post(
        "/api/v1/import", content=b"{not json", headers={"Content-Type": "application/json"}
    )  # the body parser runs before the auth guard
    assert broken.status_code == 400 and broken.json()["statusCode"] == 400
    text = alice.gf.http.post(
        "/api/v1/import",
        content=b'{"activities": []}',
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {alice.token}"},
    )  # not JSON: no body at all
    assert text.json()["message"] == ["activities must be an array"]
    array = alice.call("POST", "/api/v1/import", json=[1, 2])
    assert array.json()["message"] == ["an unknown value was passed to the validate function"]


def test_faults_answer_then_wear_off(gf: Ghostfolio, alice: User) -> None:
    gf.control("POST", "/emulator/faults", {"path": "/api/v1/import", "status": 503, "times": 2})
    gf.control("POST", "/emulator/faults", {"path": "/api/v1/account*", "method": "GET", "status": 429})
    for _ in range(2):
        failed = alice.import_([activity()])
        assert (failed.status_code, failed.json()) == (503, {"statusCode": 503, "message": "Service Unavailable"})
    assert (
        alice.call("POST", "/api/v1/account", json={"name": "A", "currency": "USD", "platformId": None}).status_code
        == 201
    )
    throttled = alice.call("GET", "/api/v1/account")
    assert throttled.json() == {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
    assert alice.import_([activity()]).status_code == 201
    assert alice.state()["activities"] != []
    assert gf.control("GET", "/emulator/faults") == {"faults": []}


def test_slow_faults_and_custom_bodies(gf: Ghostfolio, alice: User) -> None:
    gf.control("POST", "/emulator/faults", {"path": "/api/v1/health", "delay_ms": 300})
    started = time.monotonic()
    assert gf.http.get("/api/v1/health").json() == {"status": "OK"}
    assert time.monotonic() - started >= 0.3
    gf.control("POST", "/emulator/faults", {"path": "/api/v1/activities", "status": 500, "body": {"oops": True}})
    broken = alice.call("GET", "/api/v1/activities")
    assert (broken.status_code, broken.json()) == (500, {"oops": True})
    assert gf.http.post("/emulator/faults", json={"path": "no-slash", "status": 500}).status_code == 400
    assert gf.http.post("/emulator/faults", json={"path": "/x"}).status_code == 400
    assert gf.http.post("/emulator/faults", json={"path": "/x", "status": 500, "times": 0}).status_code == 400
    gf.control("POST", "/emulator/faults", {"path": "/x", "status": 500})
    assert gf.control("DELETE", "/emulator/faults") == {"faults": 0}


def test_request_log_never_holds_tokens(gf: Ghostfolio, alice: User) -> None:
    alice.create_account()
    gf.http.post("/api/v1/auth/anonymous", json={"accessToken": alice.access_token})
    gf.http.get("/api/v1/account", headers={"Authorization": "Bearer forged"})
    log = gf.http.get("/emulator/requests")
    assert alice.token not in log.text and alice.access_token not in log.text and "forged" not in log.text
    entries = log.json()["requests"]
    assert [(e["method"], e["path"], e["status"], e["user_id"]) for e in entries] == [
        ("POST", "/api/v1/account", 201, alice.id),
        ("POST", "/api/v1/auth/anonymous", 201, alice.id),
        ("GET", "/api/v1/account", 401, None),
    ]
    assert all(isinstance(e["time"], float) and e["duration_ms"] is not None for e in entries)
    gf.control("DELETE", "/emulator/requests")
    assert gf.control("GET", "/emulator/requests") == {"requests": []}


def test_config_and_reset(gf: Ghostfolio, alice: User) -> None:
    settings = gf.control(
        "POST", "/emulator/config", {"max_activities_to_import": 5, "known_symbols": ["AAPL"], "offline": True}
    )
    assert settings["max_activities_to_import"] == 5 and settings["known_symbols"] == ["AAPL"] and settings["offline"]
    assert gf.http.post("/emulator/config", json={"nope": 1}).status_code == 400
    assert gf.http.post("/emulator/config", json={"max_activities_to_import": -1}).status_code == 400
    gf.control("POST", "/emulator/reset")
    settings = gf.control("GET", "/emulator/config")
    assert (
        settings["max_activities_to_import"] is None and not settings["offline"] and "MSFT" in settings["known_symbols"]
    )
    assert alice.call("GET", "/api/v1/account").status_code == 401  # users are gone too


def test_state_dump(gf: Ghostfolio, alice: User) -> None:
    account = alice.create_account(balance=5)
    alice.import_([activity(accountId=account["id"])])
    gf.new_user().create_account("Other")
    everything = gf.control("GET", "/emulator/state")
    assert set(everything) == {
        "settings",
        "users",
        "accounts",
        "balances",
        "activities",
        "assetProfiles",
        "platforms",
        "tags",
    }
    assert len(everything["accounts"]) == 2 and len(everything["users"]) == 2
    mine = alice.state()
    assert [a["name"] for a in mine["accounts"]] == ["Brokerage"] and mine["accounts"][0]["balance"] == 5
    assert [(a["symbol"], a["dataSource"], a["quantity"]) for a in mine["activities"]] == [("AAPL", "YAHOO", 10)]
    assert [p["symbol"] for p in mine["assetProfiles"]] == ["AAPL"]
    assert alice.token not in str(everything) and alice.access_token not in str(everything)
