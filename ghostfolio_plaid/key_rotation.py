"""``ghostfolio-plaid rotate-keys``: re-encrypt every access token with the newest key.

Put the new key first in ``PLAID_ENCRYPTION_KEY`` (old keys after it, comma-separated), deploy, run this, then
drop the old keys. Each row is rewritten on its own, only if it still holds what was read, so the command can be
stopped and run again at any time and runs safely beside the service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise import Tortoise

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.crypto import DecryptionError
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.models import PlaidItem

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Rotation:
    rotated: int = 0
    current: int = 0
    unreadable: int = 0


async def rotate_keys(settings: Settings) -> Rotation:
    """Rows no configured key can read (tampered, or a key already dropped) are counted and left alone."""
    cipher = settings.cipher()
    prefix = f"v1.{cipher.current_key_id}."
    result = Rotation()
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        result.current = await PlaidItem.filter(access_token__startswith=prefix).count()
        last_id = None
        while True:
            query = PlaidItem.exclude(access_token__startswith=prefix).order_by("id").limit(BATCH)
            if last_id is not None:
                query = query.filter(id__gt=last_id)
            rows = await query
            if not rows:
                return result
            for item in rows:
                try:
                    token = cipher.decrypt(item.access_token, row_id=str(item.id))
                except DecryptionError:
                    log.warning("access token of plaid item %s cannot be read by any configured key", item.id)
                    result.unreadable += 1
                    continue
                fresh = cipher.encrypt(token, row_id=str(item.id))
                same = PlaidItem.filter(id=item.id, access_token=item.access_token)
                result.rotated += await same.update(access_token=fresh)
            last_id = rows[-1].id
            log.info("rotated %d access tokens so far", result.rotated)
    finally:
        await Tortoise.close_connections()
