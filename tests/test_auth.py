import base64
import json
import time

import httpx
import jwt
import pytest

from ghostfolio_plaid.auth import issue_token, user_id_from_authorization
from ghostfolio_plaid.errors import Unauthenticated
from tests.conftest import JWT_SECRET

OTHER_SECRET = "other-secret-0123456789-0123456789-0123456789"
SECRET = "unit-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"


def _unsigned(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def test_issued_token_round_trips() -> None:
    assert user_id_from_authorization(f"Bearer {issue_token('user-1', SECRET)}", SECRET) == "user-1"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Basic abc",
        "Bearer",
        "Bearer not-a-jwt",
        f"Bearer {_unsigned({'id': 'user-1', 'exp': int(time.time()) + 60})}",
        f"Bearer {jwt.encode({'id': 'user-1', 'exp': int(time.time()) + 60}, OTHER_SECRET)}",
        f"Bearer {jwt.encode({'id': 'user-1', 'exp': int(time.time()) - 60}, SECRET)}",
        f"Bearer {jwt.encode({'id': 'user-1'}, SECRET)}",
        f"Bearer {jwt.encode({'exp': int(time.time()) + 60}, SECRET)}",
        f"Bearer {jwt.encode({'id': 42, 'exp': int(time.time()) + 60}, SECRET)}",
        f"Bearer {jwt.encode({'id': 'user-1', 'exp': int(time.time()) + 60}, SECRET, algorithm='HS512')}",
    ],
    ids=[
        "missing",
        "empty",
        "basic",
        "no-token",
        "garbage",
        "alg-none",
        "bad-signature",
        "expired",
        "no-exp",
        "no-id",
        "id-not-string",
        "hs512",
    ],
)
def test_rejected_tokens(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        user_id_from_authorization(header, SECRET)


def test_a_short_ghostfolio_secret_still_works() -> None:
    assert user_id_from_authorization(f"Bearer {issue_token('user-2', 'short')}", "short") == "user-2"


def test_a_token_issued_a_few_seconds_in_the_future_is_accepted() -> None:
    now = int(time.time())
    token = jwt.encode({"id": "user-3", "iat": now + 3, "nbf": now + 3, "exp": now + 600}, SECRET)
    assert user_id_from_authorization(f"Bearer {token}", SECRET) == "user-3"


def test_a_token_issued_minutes_in_the_future_is_refused() -> None:
    now = int(time.time())
    token = jwt.encode({"id": "user-3", "iat": now + 300, "exp": now + 900}, SECRET)
    with pytest.raises(Unauthenticated):
        user_id_from_authorization(f"Bearer {token}", SECRET)


@pytest.mark.parametrize("user_id", ["user\x00one", "user\none", "\x1b[31m"])
async def test_a_signed_id_with_control_characters_is_401_not_500(client: httpx.AsyncClient, user_id: str) -> None:
    token = jwt.encode({"id": user_id, "iat": int(time.time()), "exp": int(time.time()) + 60}, JWT_SECRET)
    rest = await client.get("/api/v1/plaid/items", headers={"Authorization": f"Bearer {token}"})
    assert rest.status_code == 401, rest.text
    graphql = await client.post(
        "/graphql", json={"query": "{ plaidItems { id } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert graphql.status_code == 200
    assert graphql.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
