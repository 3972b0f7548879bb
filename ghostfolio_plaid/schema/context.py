"""Per-request GraphQL context: the services, the caller's credentials, and request-scoped DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ghostfolio_plaid.events import EventHub
from ghostfolio_plaid.models import Account, Holding, SyncJob
from ghostfolio_plaid.resolvers.accounts import holdings_by_account
from ghostfolio_plaid.resolvers.items import accounts_by_item
from ghostfolio_plaid.resolvers.permissions import authenticate
from ghostfolio_plaid.resolvers.services import Services
from ghostfolio_plaid.resolvers.sync import last_sync_jobs


@dataclass
class Context:
    """One HTTP request's context, or one WebSocket connection's: then it lives as long as the socket, so its
    loaders batch without caching (each live event must read what is current), and the caller's token arrives
    in ``connection_init``'s payload (``connection_params``)."""

    services: Services
    authorization: str | None
    _user_id: str | None = None
    hub: EventHub | None = None
    connection_params: dict[str, Any] | None = None
    cache: bool = True
    expires_at: float | None = None
    """When the socket's token expires (UNIX time): the connection is closed then."""
    accounts_loader: DataLoader[uuid.UUID, list[Account]] = field(init=False)
    holdings_loader: DataLoader[uuid.UUID, list[Holding]] = field(init=False)
    last_sync_job_loader: DataLoader[uuid.UUID, SyncJob | None] = field(init=False)

    def __post_init__(self) -> None:
        self.accounts_loader = DataLoader(load_fn=accounts_by_item, cache=self.cache)
        self.holdings_loader = DataLoader(load_fn=holdings_by_account, cache=self.cache)
        self.last_sync_job_loader = DataLoader(load_fn=last_sync_jobs, cache=self.cache)

    async def user_id(self) -> str:
        if self._user_id is None:
            self._user_id = await authenticate(self.services, self.authorization)
        return self._user_id


GraphQLInfo = Info[Context, None]
