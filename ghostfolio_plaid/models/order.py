from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.account import MONEY_DIGITS, MONEY_PLACES, Account
from ghostfolio_plaid.models.symbol_profile import SymbolProfile
from ghostfolio_plaid.models.user import User


class OrderType(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    DIVIDEND = "DIVIDEND"
    FEE = "FEE"
    INTEREST = "INTEREST"
    LIABILITY = "LIABILITY"


class Order(Model):
    """A Ghostfolio activity. ``(account, plaid_transaction_id)`` is unique so a re-import can never duplicate it.

    The key includes the account: Plaid's transaction ids are only trusted within the item that reported them,
    so one item's answer can never match, move or delete another user's order.
    """

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="orders", on_delete=fields.CASCADE
    )
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="orders", on_delete=fields.CASCADE
    )
    symbol_profile: fields.ForeignKeyRelation[SymbolProfile] = fields.ForeignKeyField(
        "models.SymbolProfile", related_name="orders", on_delete=fields.RESTRICT
    )
    type = fields.CharEnumField(OrderType, max_length=16)
    date = fields.DatetimeField()
    quantity = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    unit_price = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    fee = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)
    currency = fields.CharField(max_length=8)
    plaid_transaction_id = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    user_id: str
    account_id: str
    symbol_profile_id: str

    class Meta:
        table = "order"
        indexes = (("account_id", "date"),)
        unique_together = (("account", "plaid_transaction_id"),)
