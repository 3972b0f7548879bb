"""REST bodies a client got wrong are a NestJS 400 naming the defect, never a 500 with a logged traceback."""

from __future__ import annotations

import logging

import httpx
import pytest

from ghostfolio_plaid.models import PlaidItem
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import Caller
from tests.linking import sandbox_public_token

EXCHANGE = "/api/v1/plaid/exchange-token"
OTHER_FIELDS = b'"institutionId": "i", "institutionName": "n", "accounts": []'


def nested(depth: int) -> bytes:
    """``{"accounts": [[[...]]]}`` with ``depth`` levels in all."""
    return b'{"accounts": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(nested(1000), "nested", id="1000-deep"),
        pytest.param(nested(100_000), "nested", id="100000-deep"),
        pytest.param(nested(200), "nested", id="200-deep"),
        pytest.param(b'{"publicToken": "\xff\xfe"}', "UTF-8", id="invalid-utf8"),
        pytest.param('{"publicToken": "p"}'.encode("utf-16"), "UTF-8", id="utf16"),
        pytest.param(b'{"publicToken": "\\ud800", ' + OTHER_FIELDS + b"}", "Unicode", id="lone-surrogate"),
        pytest.param(b'{"institutionName": "\\udc00x"}', "Unicode", id="lone-low-surrogate"),
        pytest.param(b'{"\\ud800": 1}', "Unicode", id="lone-surrogate-key"),
        pytest.param(b'{"publicToken": NaN}', "valid JSON", id="nan"),
        pytest.param(b'{"publicToken": -Infinity}', "valid JSON", id="infinity"),
        pytest.param(b"[1]", "JSON object", id="array"),
    ],
)
async def test_malformed_json_is_a_400(
    client: httpx.AsyncClient, alice: Caller, caplog: pytest.LogCaptureFixture, content: bytes, message: str
) -> None:
    response = await client.post(
        EXCHANGE, content=content, headers={**alice.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body == {"statusCode": 400, "message": body["message"], "error": "Bad Request"}
    assert message in body["message"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_valid_surrogate_pairs_and_moderate_nesting_are_read(client: httpx.AsyncClient, alice: Caller) -> None:
    """A UTF-8 byte order mark (RFC 8259 allows ignoring it), an escaped emoji (a valid pair) and shallow nesting
    are all fine: the body reaches the field checks, which name the field."""
    content = b'\xef\xbb\xbf{"publicToken": "\\ud83d\\ude00", "institutionId": "i", "institutionName": "n", '
    content += b'"accounts": [[[[]]]]}'
    response = await client.post(
        EXCHANGE, content=content, headers={**alice.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "accounts[0] must be an object"


async def test_a_lone_surrogate_never_reaches_plaid_or_the_database(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL cannot store a lone surrogate: it used to fail after Plaid had exchanged the token (a 500)."""
    token = (await sandbox_public_token(emulator)).encode()
    content = b'{"publicToken": "' + token + b'", "institutionId": "i", "institutionName": "\\ud800", "accounts": []}'
    response = await client.post(
        EXCHANGE, content=content, headers={**alice.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400 and "Unicode" in response.json()["message"]
    assert await PlaidItem.filter(user_id=alice.id).count() == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
