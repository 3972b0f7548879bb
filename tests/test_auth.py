import base64
import json
import time

import jwt
import pytest

from ghostfolio_plaid.auth import issue_token, user_id_from_authorization
from ghostfolio_plaid.errors import Unauthenticated

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
