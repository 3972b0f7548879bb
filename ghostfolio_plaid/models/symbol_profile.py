from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.account import MONEY_DIGITS, MONEY_PLACES


class SymbolProfile(Model):
    """A security as Ghostfolio knows it, unique by data source and symbol."""

    id = fields.UUIDField(primary_key=True)
    data_source = fields.CharField(max_length=32)
    symbol = fields.CharField(max_length=255)
    currency = fields.CharField(max_length=8, null=True)
    name = fields.CharField(max_length=512, null=True)
    asset_class = fields.CharField(max_length=32, null=True)
    asset_sub_class = fields.CharField(max_length=32, null=True)
    isin = fields.CharField(max_length=16, null=True)
    cusip = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "symbol_profile"
        unique_together = (("data_source", "symbol"),)


class MarketData(Model):
    """A security's price on one day, unique by data source, symbol and date."""

    id = fields.UUIDField(primary_key=True)
    data_source = fields.CharField(max_length=32)
    symbol = fields.CharField(max_length=255)
    date = fields.DateField()
    market_price = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "market_data"
        unique_together = (("data_source", "symbol", "date"),)
