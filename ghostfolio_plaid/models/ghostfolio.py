"""What the Ghostfolio connector has delivered: the ledger the outbox is measured against.

The outbox of an item is the difference between what our tables say (orders, balances) and this ledger of
what Ghostfolio holds. Both sides live in PostgreSQL, so pending changes survive any crash or restart, and a
push that succeeds writes the ledger in the same step it learns Ghostfolio's answer.
"""

from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.account import Account
from ghostfolio_plaid.models.plaid_item import PlaidItem
from ghostfolio_plaid.models.symbol_profile import SymbolProfile


class GhostfolioActivity(Model):
    """One of our activities as Ghostfolio holds it: its id there and a hash of the fields last delivered."""

    id = fields.UUIDField(primary_key=True)
    plaid_item: fields.ForeignKeyRelation[PlaidItem] = fields.ForeignKeyField(
        "models.PlaidItem", related_name="ghostfolio_activities", on_delete=fields.CASCADE
    )
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="ghostfolio_activities", on_delete=fields.CASCADE
    )
    activity_key = fields.CharField(max_length=255)
    ghostfolio_id = fields.CharField(max_length=64)
    payload_hash = fields.CharField(max_length=64)
    updated_at = fields.DatetimeField(auto_now=True)

    plaid_item_id: str
    account_id: str

    class Meta:
        table = "ghostfolio_activity"
        unique_together = (("account", "activity_key"),)


class GhostfolioSymbol(Model):
    """Where a security is priced in Ghostfolio, chosen once (the instance's data source, else MANUAL) and kept."""

    id = fields.UUIDField(primary_key=True)
    symbol_profile: fields.ForeignKeyRelation[SymbolProfile] = fields.ForeignKeyField(
        "models.SymbolProfile", related_name="ghostfolio_symbols", on_delete=fields.CASCADE, unique=True
    )
    data_source = fields.CharField(max_length=32)
    symbol = fields.CharField(max_length=255)
    market_data_through = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    symbol_profile_id: str

    class Meta:
        table = "ghostfolio_symbol"


class GhostfolioPush(Model):
    """One delivery run of one item: what it sent and how it ended (the metrics count these)."""

    id = fields.UUIDField(primary_key=True)
    plaid_item: fields.ForeignKeyRelation[PlaidItem] = fields.ForeignKeyField(
        "models.PlaidItem", related_name="ghostfolio_pushes", on_delete=fields.CASCADE
    )
    outcome = fields.CharField(max_length=16)
    created = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    deleted = fields.IntField(default=0)
    balances = fields.IntField(default=0)
    requests = fields.IntField(default=0)
    error = fields.CharField(max_length=512, null=True)
    started_at = fields.DatetimeField(auto_now_add=True)
    finished_at = fields.DatetimeField(null=True)

    plaid_item_id: str

    class Meta:
        table = "ghostfolio_push"
