"""``ghostfolio-plaid rotate-keys`` against PostgreSQL: raw columns hold no plaintext, reruns are no-ops."""

from __future__ import annotations

import base64
import os

import httpx
from starlette.applications import Starlette

from ghostfolio_plaid.crypto import TokenCipher
from ghostfolio_plaid.models import PlaidItem
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import Caller
from tests.linking import link_seeded_item
from tests.processes import run_command


async def raw_tokens(item_ids: list[str]) -> dict[str, str]:
    rows = await PlaidItem._meta.db.execute_query_dict(
        "SELECT id::text AS id, access_token FROM plaid_item WHERE id::text = ANY($1::text[])", [item_ids]
    )
    return {row["id"]: row["access_token"] for row in rows}


async def test_rotate_keys_re_encrypts_every_row_and_resumes(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette, process_env: dict[str, str]
) -> None:
    item_ids = [(await link_seeded_item(client, emulator, alice))[0] for _ in range(4)]
    await PlaidItem.filter(id=item_ids.pop()).update(access_token="v1.deadbeef.AAAA")
    old_cipher: TokenCipher = app.state.services.cipher
    before = await raw_tokens(item_ids)
    plaintext = {i: old_cipher.decrypt(t, row_id=i) for i, t in before.items()}
    assert all(token.startswith("access-") and token not in before[i] for i, token in plaintext.items())
    old_key = process_env["PLAID_ENCRYPTION_KEY"]
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotating = {**process_env, "PLAID_ENCRYPTION_KEY": f"{new_key},{old_key}"}
    first = await run_command(rotating, "rotate-keys")
    assert "rotated" in first
    new_cipher = TokenCipher(base64.b64decode(new_key))
    stored = await raw_tokens(item_ids)
    for item_id, token in plaintext.items():
        assert token not in stored[item_id] and not new_cipher.needs_rotation(stored[item_id])
        assert new_cipher.decrypt(stored[item_id], row_id=item_id) == token
    assert "rotated 0 access tokens" in await run_command(rotating, "rotate-keys")
    back = {**process_env, "PLAID_ENCRYPTION_KEY": f"{old_key},{new_key}"}
    await run_command(back, "rotate-keys")
    assert {i: old_cipher.decrypt(t, row_id=i) for i, t in (await raw_tokens(item_ids)).items()} == plaintext
