"""Per-request GraphQL context: the services, the caller's credentials, and request-scoped DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ghostfolio_plaid.models import Account, Holding
from ghostfolio_plaid.resolvers.accounts import holdings_by_account
from ghostfolio_plaid.resolvers.items import accounts_by_item
from ghostfolio_plaid.resolvers.permissions import authenticate
from ghostfolio_plaid.resolvers.services import Services


@dataclass
class Context:
    services: Services
    authorization: str | None
    _user_id: str | None = None
    accounts_loader: DataLoader[uuid.UUID, list[Account]] = field(
        default_factory=lambda: DataLoader(load_fn=accounts_by_item)
    )
    holdings_loader: DataLoader[uuid.UUID, list[Holding]] = field(
        default_factory=lambda: DataLoader(load_fn=holdings_by_account)
    )

    async def user_id(self) -> str:
        if self._user_id is None:
            self._user_id = await authenticate(self.services, self.authorization)
        return self._user_id


GraphQLInfo = Info[Context, None]
