"""Activities after the import on the Ghostfolio emulator: listing, PUT and DELETE /api/v1/activities/:id, and the
holdings the portfolio route computes from them (Ghostfolio 3.58 behaviour)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.test_ghostfolio_emulator import NOT_FOUND, Ghostfolio, User, activity, alice, gf, ghostfolio_server

__all__ = ["alice", "gf", "ghostfolio_server"]  # fixtures shared with test_ghostfolio_emulator


def imported(user: User, *activities: dict[str, Any]) -> list[dict[str, Any]]:
    response = user.import_(list(activities))
    assert response.status_code == 201, response.text
    created: list[dict[str, Any]] = response.json()["activities"]
    return created


def update_body(existing: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What Ghostfolio's client sends to PUT: the whole activity, ``id`` included."""
    body = {
        "accountId": existing["accountId"],
        "comment": existing["comment"],
        "currency": existing["currency"],
        "dataSource": existing["SymbolProfile"]["dataSource"],
        "date": existing["date"],
        "fee": existing["fee"],
        "id": existing["id"],
        "quantity": existing["quantity"],
        "symbol": existing["SymbolProfile"]["symbol"],
        "type": existing["type"],
        "unitPrice": existing["unitPrice"],
    }
    body.update(changes)
    return body


def holdings(user: User, **params: str) -> dict[str, dict[str, Any]]:
    response = user.call("GET", "/api/v1/portfolio/holdings", params=params)
    assert response.status_code == 200, response.text
    return {h["assetProfile"]["symbol"]: h for h in response.json()["holdings"]}


def test_list_activities_shape_filters_and_paging(alice: User) -> None:
    one, two = alice.create_account("One"), alice.create_account("Two")
    imported(
        alice,
        activity(accountId=one["id"], date="2024-01-01"),
        activity(accountId=two["id"], date="2024-02-01", symbol="MSFT", comment="b"),
        activity(accountId=two["id"], date="2024-03-01", type="SELL", quantity=1, comment="c"),
    )
    listing = alice.call("GET", "/api/v1/activities").json()
    assert listing["count"] == 3 and [a["comment"] for a in listing["activities"]] == ["plaid:tx-1", "b", "c"]
    first = listing["activities"][0]
    assert first["account"]["name"] == "One" and first["SymbolProfile"]["symbol"] == "AAPL"
    assert first["assetProfile"]["name"] == "Apple Inc." and first["tags"] == []
    assert (first["value"], first["valueInBaseCurrency"], first["feeInBaseCurrency"]) == (1500, 1500, 0)
    by_account = alice.call("GET", "/api/v1/activities", params={"accounts": two["id"]}).json()
    assert [a["comment"] for a in by_account["activities"]] == ["b", "c"]
    sells = alice.call("GET", "/api/v1/activities", params={"activityTypes": "SELL,DIVIDEND"}).json()
    assert [a["comment"] for a in sells["activities"]] == ["c"]
    page = alice.call("GET", "/api/v1/activities", params={"sortDirection": "desc", "skip": "1", "take": "1"}).json()
    assert page["count"] == 3 and [a["comment"] for a in page["activities"]] == ["b"]
    year = alice.call("GET", "/api/v1/activities", params={"range": "2024"}).json()
    assert year["count"] == 3
    assert alice.call("GET", "/api/v1/activities", params={"range": "2023"}).json()["count"] == 0
    one_activity = alice.call("GET", f"/api/v1/activities/{first['id']}")
    assert one_activity.status_code == 200 and one_activity.json()["id"] == first["id"]


def test_activity_query_validation(alice: User) -> None:
    response = alice.call(
        "GET",
        "/api/v1/activities",
        params={"skip": "-1", "take": "x", "sortColumn": "price", "activityTypes": "BUY,GIFT", "foo": "1"},
    )
    assert response.status_code == 400
    assert response.json()["message"] == [
        "property foo should not exist",
        "skip must not be less than 0",
        "sortColumn must be one of the following values: accountId, accountUserId, comment, createdAt, currency, "
        "date, fee, id, quantity, symbolProfileId, type, unitPrice, updatedAt, userId",
        "take must not be less than 0",
        "take must be an integer number",
        "each value in activityTypes must be one of the following values: "
        "BUY, DIVIDEND, FEE, INTEREST, LIABILITY, SELL",
    ]
    repeated = alice.call("GET", "/api/v1/portfolio/holdings", params=[("accounts", "a"), ("accounts", "b")])
    assert repeated.json()["message"] == ["accounts must be a string"]


def test_update_activity(alice: User) -> None:
    account = alice.create_account()
    original = imported(alice, activity(accountId=account["id"]))[0]
    response = alice.call(
        "PUT",
        f"/api/v1/activities/{original['id']}",
        json=update_body(original, quantity=12, unitPrice=151.5, comment="  edited  ", accountId=None),
    )
    assert response.status_code == 200, response.text
    row = response.json()
    assert (row["id"], row["quantity"], row["unitPrice"], row["comment"], row["accountId"]) == (
        original["id"],
        12,
        151.5,
        "edited",
        None,
    )
    assert "SymbolProfile" not in row  # PUT answers the bare Order row
    assert holdings(alice)["AAPL"]["quantity"] == 12
    moved = alice.call("PUT", f"/api/v1/activities/{original['id']}", json=update_body(original, symbol="MSFT"))
    assert moved.status_code == 500  # no MSFT asset profile yet: a database error, as in Ghostfolio
    imported(alice, activity(symbol="MSFT", comment="makes the profile"))
    moved = alice.call("PUT", f"/api/v1/activities/{original['id']}", json=update_body(original, symbol="MSFT"))
    assert moved.status_code == 200 and moved.json()["symbolProfileId"] != original["symbolProfileId"]


@pytest.mark.parametrize(
    ("changes", "messages"),
    [
        ({"fee": -1}, ["fee must not be less than 0"]),
        (
            {"quantity": "2"},
            ["quantity must not be less than 0", "quantity must be a number conforming to the specified constraints"],
        ),
        ({"currency": "eur"}, ["currency must be a valid ISO4217 currency code"]),
        ({"date": "nope"}, ["date must be after 1970", "date must be a valid ISO 8601 date string"]),
        ({"id": None}, ["id must be a string"]),
        ({"dataSource": None}, ["dataSource must be a string"]),
        ({"type": 3}, ["type must be a string"]),
        ({"isDraft": True}, ["property isDraft should not exist"]),
    ],
)
def test_update_validation(alice: User, changes: dict[str, Any], messages: list[str]) -> None:
    original = imported(alice, activity())[0]
    body = update_body(original, **changes)
    body = {k: v for k, v in body.items() if not (k in changes and changes[k] is None)}
    response = alice.call("PUT", f"/api/v1/activities/{original['id']}", json=body)
    assert response.status_code == 400
    assert response.json() == {"message": messages, "error": "Bad Request", "statusCode": 400}


def test_update_database_errors_and_quirks(gf: Ghostfolio, alice: User) -> None:
    original = imported(alice, activity())[0]
    url = f"/api/v1/activities/{original['id']}"
    assert alice.call("PUT", url, json=update_body(original, type="GIFT")).status_code == 500
    bobs_account = gf.new_user().create_account()
    assert alice.call("PUT", url, json=update_body(original, accountId=bobs_account["id"])).status_code == 500
    unknown_tag = alice.call("PUT", url, json=update_body(original, tags=["no-such-tag"]))
    assert unknown_tag.json() == {"statusCode": 400, "message": "Bad Request"}
    renamed = alice.call("PUT", url, json=update_body(original, id="renamed-by-body"))
    assert renamed.status_code == 200 and renamed.json()["id"] == "renamed-by-body"  # Prisma writes the body's id
    assert alice.call("GET", url).status_code == 404


def test_update_and_delete_of_missing_or_foreign_activities_are_404(gf: Ghostfolio, alice: User) -> None:
    original = imported(alice, activity())[0]
    bob = gf.new_user()
    for user, activity_id in ((bob, original["id"]), (alice, "does-not-exist")):
        put = user.call("PUT", f"/api/v1/activities/{activity_id}", json=update_body(original))
        delete = user.call("DELETE", f"/api/v1/activities/{activity_id}")
        get = user.call("GET", f"/api/v1/activities/{activity_id}")
        assert [(r.status_code, r.json()) for r in (put, delete, get)] == [(404, NOT_FOUND)] * 3
    demo = gf.new_user("DEMO")
    assert demo.call("DELETE", f"/api/v1/activities/{original['id']}").json() == {
        "statusCode": 403,
        "message": "Forbidden",
    }


def test_delete_activity(alice: User) -> None:
    kept, removed = imported(alice, activity(), activity(comment="to delete", symbol="MSFT"))
    response = alice.call("DELETE", f"/api/v1/activities/{removed['id']}")
    assert response.status_code == 200 and response.json()["id"] == removed["id"]
    assert alice.call("DELETE", f"/api/v1/activities/{removed['id']}").status_code == 404
    state = alice.state()
    assert [a["id"] for a in state["activities"]] == [kept["id"]]
    assert [p["symbol"] for p in state["assetProfiles"]] == ["AAPL"]  # the unused profile goes too


def test_holdings_are_buys_minus_sells(alice: User) -> None:
    one, two = alice.create_account("One"), alice.create_account("Two")
    imported(
        alice,
        activity(accountId=one["id"], quantity=10, unitPrice=100, date="2024-01-01", comment="1"),
        activity(accountId=two["id"], quantity=5, unitPrice=120, date="2024-01-02", comment="2"),
        activity(accountId=one["id"], type="SELL", quantity=3, unitPrice=130, date="2024-01-03", comment="3"),
        activity(accountId=one["id"], symbol="MSFT", quantity=2, unitPrice=400, date="2024-01-04", comment="4"),
        activity(
            accountId=one["id"], symbol="MSFT", type="SELL", quantity=2, unitPrice=410, date="2024-01-05", comment="5"
        ),
        activity(accountId=one["id"], symbol="VTI", type="DIVIDEND", quantity=1, unitPrice=3, comment="6"),
        activity(
            accountId=one["id"], type="FEE", dataSource="MANUAL", symbol="GF_FEES", quantity=1, unitPrice=9, comment="7"
        ),
    )
    held = holdings(alice)
    assert set(held) == {"AAPL"}  # MSFT is closed, dividends and fees hold nothing
    aapl = held["AAPL"]
    assert aapl["quantity"] == 12 and aapl["marketPrice"] == 130 and aapl["valueInBaseCurrency"] == 1560
    assert aapl["activitiesCount"] == 3 and aapl["dateOfFirstActivity"] == "2024-01-01T00:00:00.000Z"
    assert aapl["assetProfile"]["dataSource"] == "YAHOO" and aapl["allocationInPercentage"] == 1
    assert holdings(alice, accounts=one["id"])["AAPL"]["quantity"] == 7
    assert holdings(alice, accounts=f"{one['id']},{two['id']}")["AAPL"]["quantity"] == 12
    assert set(holdings(alice, holdingType="CLOSED")) == {"MSFT", "VTI"}  # VTI: dividends only, quantity 0
    accounts = {a["name"]: a for a in alice.call("GET", "/api/v1/account").json()["accounts"]}
    assert accounts["One"]["valueInBaseCurrency"] == 7 * 130 and accounts["Two"]["valueInBaseCurrency"] == 5 * 130
    assert accounts["One"]["activitiesCount"] == 6 and accounts["One"]["dividendInBaseCurrency"] == 3


def test_holdings_wait_for_the_portfolio_debounce(gf: Ghostfolio, alice: User) -> None:
    """Ghostfolio serves its cached portfolio until 5 s after the last change; the emulator can do the same."""
    gf.control("POST", "/emulator/config", {"portfolio_debounce_seconds": 0.6})
    imported(alice, activity(quantity=1))
    assert holdings(alice)["AAPL"]["quantity"] == 1
    imported(alice, activity(quantity=2, comment="more"))
    assert holdings(alice)["AAPL"]["quantity"] == 1  # still the cached figures
    time.sleep(0.7)
    assert holdings(alice)["AAPL"]["quantity"] == 3
