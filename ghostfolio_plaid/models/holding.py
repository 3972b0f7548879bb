from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.account import MONEY_DIGITS, MONEY_PLACES, Account
from ghostfolio_plaid.models.symbol_profile import SymbolProfile


class Holding(Model):
    """A position as Plaid last reported it (cash included), replaced on every sync."""

    id = fields.UUIDField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="holdings", on_delete=fields.CASCADE
    )
    symbol_profile: fields.ForeignKeyRelation[SymbolProfile] = fields.ForeignKeyField(
        "models.SymbolProfile", related_name="holdings", on_delete=fields.RESTRICT
    )
    quantity = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    price = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True)
    value = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True)
    cost_basis = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True)
    currency = fields.CharField(max_length=8)
    as_of = fields.DateField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    account_id: str
    symbol_profile_id: str

    class Meta:
        table = "holding"
        unique_together = (("account", "symbol_profile"),)
