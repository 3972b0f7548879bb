"""GraphQL object and input types. Field names are a contract with front ends: change none."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import strawberry

from ghostfolio_plaid import models
from ghostfolio_plaid.ghostfolio.status import GhostfolioState, GhostfolioStatus, ghostfolio_state
from ghostfolio_plaid.plaid_client import LinkToken as PlaidLinkToken
from ghostfolio_plaid.resolvers import accounts, sync
from ghostfolio_plaid.resolvers.inputs import ExchangeInput, LinkedAccountInput
from ghostfolio_plaid.resolvers.items import ExchangeResult, ItemStatus, ListedItem, item_status
from ghostfolio_plaid.schema.context import GraphQLInfo

# The domain's own enums, exposed under the GraphQL names clients rely on.
strawberry.enum(ItemStatus, name="PlaidItemStatus")
strawberry.enum(models.SyncStatus, name="SyncJobStatus")
strawberry.enum(models.SyncTrigger, name="SyncTrigger")
strawberry.enum(models.OrderType, name="ActivityType")
strawberry.enum(GhostfolioStatus, name="GhostfolioPushStatus")


@strawberry.type(description="The Ghostfolio connector's delivery of one item (OFF without GHOSTFOLIO_URL).")
class GhostfolioPush:
    status: GhostfolioStatus
    last_pushed_at: datetime | None
    pending_changes: int = strawberry.field(description="Activities Ghostfolio does not have as we do yet")
    error: str | None = strawberry.field(description="Ghostfolio's last refusal, or the outage being retried")

    @classmethod
    def from_state(cls, state: GhostfolioState) -> GhostfolioPush:
        return cls(
            status=state.status,
            last_pushed_at=state.last_pushed_at,
            pending_changes=state.pending_changes,
            error=state.error,
        )


@strawberry.type
class LinkToken:
    link_token: str
    expiration: datetime

    @classmethod
    def from_plaid(cls, token: PlaidLinkToken) -> LinkToken:
        return cls(link_token=token.link_token, expiration=token.expiration)


@strawberry.type
class Holding:
    symbol: str
    name: str | None
    quantity: Decimal
    price: Decimal | None
    value: Decimal | None
    cost_basis: Decimal | None
    currency: str

    @classmethod
    def from_model(cls, holding: models.Holding) -> Holding:
        return cls(
            symbol=holding.symbol_profile.symbol,
            name=holding.symbol_profile.name,
            quantity=holding.quantity,
            price=holding.price,
            value=holding.value,
            cost_basis=holding.cost_basis,
            currency=holding.currency,
        )


@strawberry.type
class Activity:
    id: strawberry.ID
    type: models.OrderType
    date: datetime
    quantity: Decimal
    unit_price: Decimal
    fee: Decimal
    currency: str
    symbol: str
    symbol_name: str | None
    plaid_transaction_id: str | None

    @classmethod
    def from_model(cls, order: models.Order) -> Activity:
        return cls(
            id=strawberry.ID(str(order.id)),
            type=order.type,
            date=order.date,
            quantity=order.quantity,
            unit_price=order.unit_price,
            fee=order.fee,
            currency=order.currency,
            symbol=order.symbol_profile.symbol,
            symbol_name=order.symbol_profile.name,
            plaid_transaction_id=order.plaid_transaction_id,
        )


@strawberry.type
class ActivityEdge:
    node: Activity
    cursor: str


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Account:
    id: strawberry.ID
    name: str
    plaid_account_id: str | None
    type: str | None
    subtype: str | None
    mask: str | None
    balance: Decimal
    currency: str

    @strawberry.field(description="Positions as Plaid last reported them, cash included.")
    async def holdings(self, info: GraphQLInfo) -> list[Holding]:
        loaded = await info.context.holdings_loader.load(uuid.UUID(str(self.id)))
        return [Holding.from_model(holding) for holding in loaded]

    @strawberry.field(description="Activities, newest first (a Relay cursor connection).")
    async def activities(self, first: int | None = 50, after: str | None = None) -> ActivityConnection:
        page = await accounts.activities_page(uuid.UUID(str(self.id)), 50 if first is None else first, after)
        edges = [ActivityEdge(node=Activity.from_model(o), cursor=accounts.encode_cursor(o)) for o in page.orders]
        return ActivityConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total_count,
        )

    @classmethod
    def from_model(cls, account: models.Account) -> Account:
        return cls(
            id=strawberry.ID(str(account.id)),
            name=account.name,
            plaid_account_id=account.plaid_account_id,
            type=account.account_type,
            subtype=account.account_subtype,
            mask=account.mask,
            balance=account.balance,
            currency=account.currency,
        )


@strawberry.type
class PlaidItem:
    id: strawberry.ID
    institution_id: str | None
    institution_name: str | None
    last_synced_at: datetime | None
    error: str | None
    consent_expires_at: datetime | None
    account_count: int
    created_at: datetime
    status: ItemStatus
    disconnected_at: datetime | None
    new_accounts_available: bool
    _model: strawberry.Private[models.PlaidItem]

    @strawberry.field
    async def accounts(self, info: GraphQLInfo) -> list[Account]:
        loaded = await info.context.accounts_loader.load(self._model.id)
        return [Account.from_model(account) for account in loaded]

    @strawberry.field(description="The item's syncs, newest first (a Relay cursor connection).")
    async def sync_jobs(self, first: int | None = 20, after: str | None = None) -> SyncJobConnection:
        page = await sync.sync_jobs_page(self._model.id, 20 if first is None else first, after)
        edges = [
            SyncJobEdge(node=SyncJob.from_model(job), cursor=sync.encode_sync_job_cursor(job)) for job in page.jobs
        ]
        return SyncJobConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total_count,
        )

    @strawberry.field(description="The item's newest sync, whatever its status; null before the first one.")
    async def last_sync_job(self, info: GraphQLInfo) -> SyncJob | None:
        job = await info.context.last_sync_job_loader.load(self._model.id)
        return None if job is None else SyncJob.from_model(job)

    @strawberry.field
    def ghostfolio(self, info: GraphQLInfo) -> GhostfolioPush:
        connector_on = info.context.services.settings.ghostfolio_url is not None
        return GhostfolioPush.from_state(ghostfolio_state(self._model, connector_on=connector_on))

    @classmethod
    def from_listed(cls, listed: ListedItem) -> PlaidItem:
        item = listed.item
        return cls(
            id=strawberry.ID(str(item.id)),
            institution_id=item.institution_id,
            institution_name=item.institution_name,
            last_synced_at=item.last_synced_at,
            error=item.error,
            consent_expires_at=item.consent_expires_at,
            account_count=listed.account_count,
            created_at=item.created_at,
            status=item_status(item),
            disconnected_at=item.disconnected_at,
            new_accounts_available=item.new_accounts_available,
            _model=item,
        )


@strawberry.type
class SyncJob:
    id: strawberry.ID
    status: models.SyncStatus
    trigger: models.SyncTrigger
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    activities_created: int
    activities_updated: int
    activities_removed: int
    holdings_seen: int
    transactions_fetched: int = strawberry.field(description="Investment transactions read so far")
    transactions_total: int | None = strawberry.field(description="Plaid's total, once the first page is read")

    @classmethod
    def from_model(cls, job: models.SyncJob) -> SyncJob:
        return cls(
            id=strawberry.ID(str(job.id)),
            status=job.status,
            trigger=job.trigger,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=job.error,
            activities_created=job.activities_created,
            activities_updated=job.activities_updated,
            activities_removed=job.activities_removed,
            holdings_seen=job.holdings_seen,
            transactions_fetched=job.transactions_fetched,
            transactions_total=job.transactions_total,
        )


@strawberry.type
class SyncJobEdge:
    node: SyncJob
    cursor: str


@strawberry.type
class SyncJobConnection:
    edges: list[SyncJobEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class LinkedAccount:
    account_id: strawberry.ID
    plaid_account_id: str
    name: str


@strawberry.type
class ExchangePublicTokenPayload:
    plaid_item_id: strawberry.ID
    accounts: list[LinkedAccount]

    @classmethod
    def from_result(cls, result: ExchangeResult) -> ExchangePublicTokenPayload:
        return cls(
            plaid_item_id=strawberry.ID(str(result.plaid_item_id)),
            accounts=[
                LinkedAccount(
                    account_id=strawberry.ID(str(account.id)),
                    plaid_account_id=account.plaid_account_id or "",
                    name=account.name,
                )
                for account in result.accounts
            ],
        )


@strawberry.input
class PlaidAccountInput:
    id: str
    name: str
    type: str
    subtype: str | None = None
    mask: str | None = None


@strawberry.input
class ExchangePublicTokenInput:
    public_token: str
    institution_id: str
    institution_name: str
    accounts: list[PlaidAccountInput]

    def to_input(self) -> ExchangeInput:
        return ExchangeInput(
            public_token=self.public_token,
            institution_id=self.institution_id,
            institution_name=self.institution_name,
            accounts=tuple(
                LinkedAccountInput(id=a.id, name=a.name, type=a.type, subtype=a.subtype, mask=a.mask)
                for a in self.accounts
            ),
        )
