from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.plaid_item import PlaidItem
from ghostfolio_plaid.models.platform import Platform
from ghostfolio_plaid.models.user import User

MONEY_DIGITS = 28
MONEY_PLACES = 8


class Account(Model):
    """A Ghostfolio account, linked ones point at their Plaid item and Plaid account id."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="accounts", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=255)
    currency = fields.CharField(max_length=8, default="USD")
    balance = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0)
    platform: fields.ForeignKeyNullableRelation[Platform] = fields.ForeignKeyField(
        "models.Platform", related_name="accounts", null=True, on_delete=fields.SET_NULL
    )
    plaid_item: fields.ForeignKeyNullableRelation[PlaidItem] = fields.ForeignKeyField(
        "models.PlaidItem", related_name="accounts", null=True, on_delete=fields.SET_NULL
    )
    plaid_account_id = fields.CharField(max_length=255, null=True)
    account_type = fields.CharField(max_length=64, null=True)
    account_subtype = fields.CharField(max_length=64, null=True)
    mask = fields.CharField(max_length=16, null=True)
    is_excluded = fields.BooleanField(default=False)
    ghostfolio_account_id = fields.CharField(max_length=64, null=True)
    ghostfolio_balance = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True)
    ghostfolio_balance_date = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    user_id: str
    plaid_item_id: str | None

    class Meta:
        table = "account"
        unique_together = (("plaid_item", "plaid_account_id"),)


class AccountBalance(Model):
    """An account's balance as of one day, at most one row per account and day."""

    id = fields.UUIDField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="balances", on_delete=fields.CASCADE
    )
    date = fields.DateField()
    value = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    account_id: str

    class Meta:
        table = "account_balance"
        unique_together = (("account", "date"),)
