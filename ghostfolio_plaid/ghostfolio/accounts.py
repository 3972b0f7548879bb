"""Ghostfolio accounts for a new link: created before our rows, removed again if the link fails."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.errors import GhostfolioError, GhostfolioRefused, GhostfolioRejected, Unavailable
from ghostfolio_plaid.ghostfolio.client import GhostfolioClient
from ghostfolio_plaid.plaid_client import PlaidAccount

log = logging.getLogger(__name__)


def ghostfolio_client(settings: Settings) -> GhostfolioClient:
    assert settings.ghostfolio_url is not None
    return GhostfolioClient(
        settings.ghostfolio_url, settings.jwt_secret_key, timeout_seconds=settings.ghostfolio_timeout_seconds
    )


@asynccontextmanager
async def ghostfolio_accounts(
    settings: Settings, user_id: str, chosen: Sequence[tuple[PlaidAccount, str]]
) -> AsyncIterator[list[str] | None]:
    """One Ghostfolio account per linked Plaid account, as the user, named as linked, in Plaid's currency.

    Yields their ids (None with the connector off). If the body of the ``with`` fails, they are deleted again,
    so a failed link leaves nothing behind in Ghostfolio either.
    """
    if settings.ghostfolio_url is None:
        yield None
        return
    client = ghostfolio_client(settings)
    created: list[str] = []
    try:
        try:
            for plaid_account, name in chosen:
                created.append(
                    await client.create_account(user_id, name=name, currency=plaid_account.currency or "USD")
                )
        except GhostfolioRefused as exc:
            raise GhostfolioRejected(
                f"Ghostfolio refused to create the linked accounts ({exc.message}); nothing was linked"
            ) from None
        except GhostfolioError as exc:
            raise Unavailable(f"Ghostfolio is unavailable ({exc}); nothing was linked, try again shortly") from None
        yield created
    except BaseException:
        for account_id in created:
            try:
                await client.delete_account(user_id, account_id)
            except GhostfolioError as exc:
                log.error("Ghostfolio account %s of a failed link could not be deleted: %s", account_id, exc)
        raise
    finally:
        await client.aclose()
