"""Logs of a whole flow: JSON lines with request and item ids, and no secret anywhere in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from ghostfolio_plaid.logs import JsonFormatter, install_redaction, redact
from ghostfolio_plaid.models import PlaidItem, SyncJob
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync
from tests.conftest import PLAID_SECRET, Caller, plaid_post
from tests.linking import link_seeded_item


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


async def test_a_full_flow_logs_no_secret(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    app: Starlette,
    sync_services: SyncServices,
    captured: io.StringIO,
) -> None:
    seeded_public = await plaid_post(
        emulator, "/sandbox/public_token/create", {"institution_id": "ins_109508", "initial_products": ["investments"]}
    )
    await client.post(
        "/api/v1/plaid/exchange-token",
        json={
            "publicToken": seeded_public["public_token"],
            "institutionId": "ins_109508",
            "institutionName": "First Platypus Bank",
            "accounts": [],
        },
        headers=alice.headers,
    )
    item_id, _ = await link_seeded_item(client, emulator, alice)
    job = (await client.post(f"/api/v1/plaid/sync/{item_id}", headers=alice.headers)).json()["jobId"]
    await execute_sync(sync_services, job)
    assert (await SyncJob.get(id=job)).status.value == "succeeded"
    await client.post("/api/v1/plaid/link-token", headers={**alice.headers, "X-Request-ID": "trace-me-1"})
    await client.delete(f"/api/v1/plaid/items/{item_id}", headers=alice.headers)
    item = await PlaidItem.get(id=item_id)
    access_token = sync_services.cipher.decrypt(item.access_token, row_id=str(item.id))
    settings = app.state.services.settings

    text = captured.getvalue()
    secrets = {
        "access token": access_token,
        "public token": seeded_public["public_token"],
        "JWT": alice.token,
        "Plaid secret": PLAID_SECRET,
        "JWT secret": settings.jwt_secret_key,
        **{f"encryption key {n}": value for n, value in enumerate(settings.secret_values()[2:])},
    }
    assert [name for name, value in secrets.items() if value in text] == []
    lines = [json.loads(line) for line in text.splitlines()]
    access = [line for line in lines if line["logger"] == "ghostfolio_plaid.access"]
    assert any(line.get("request_id") == "trace-me-1" and line["status"] == 200 for line in access)
    assert all(line["request_id"] and "route" in line and "duration_ms" in line for line in access)
    assert any(line.get("item_id") == item_id and "synced item" in line["message"] for line in lines)


def test_redaction_patterns() -> None:
    text = "token access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970 and Bearer eyJhbGciOi.eyJpZCI6Ij.sig_x"
    assert redact(text) == "token [REDACTED] and Bearer [REDACTED]"


def test_redaction_keeps_records_in_the_shape_formatters_expect() -> None:
    """uvicorn's access formatter unpacks five arguments and formats the status with ``%d``."""
    from uvicorn.logging import AccessFormatter

    token = "access-sandbox-8ab976e6-64bc-4b38-98f7-731e7a349970"
    install_redaction()
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/items?token={token}", "1.1", 200),
        None,
    )
    assert isinstance(record.args, tuple) and len(record.args) == 5 and record.args[4] == 200
    line = AccessFormatter(fmt="%(client_addr)s %(request_line)s %(status_code)s", use_colors=False).format(record)
    assert line == "127.0.0.1:5000 GET /items?token=[REDACTED] HTTP/1.1 200 OK"


def test_a_secret_split_across_arguments_is_still_redacted() -> None:
    install_redaction()
    record = logging.getLogger("split").makeRecord(
        "split", logging.INFO, __file__, 1, "%s%s", ("access-sandbox-", "8ab976e6-64bc-4b38"), None
    )
    assert record.getMessage() == "[REDACTED]"
