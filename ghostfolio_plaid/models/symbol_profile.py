from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.account import MONEY_DIGITS, MONEY_PLACES


class SymbolProfile(Model):
    """A security as Ghostfolio knows it, unique by data source and symbol.

    The symbol already tells listings apart (``SHOP`` on the NYSE, ``SHOP:XTSE`` on the TSX; see
    ``workers/mapping.py``), so the key stays (data source, symbol); ``market_identifier_code`` records the
    market Plaid named. Options keep their contract: call/put, strike (per share), expiry and underlying ticker.
    """

    id = fields.UUIDField(primary_key=True)
    data_source = fields.CharField(max_length=32)
    symbol = fields.CharField(max_length=255)
    currency = fields.CharField(max_length=8, null=True)
    name = fields.CharField(max_length=512, null=True)
    asset_class = fields.CharField(max_length=32, null=True)
    asset_sub_class = fields.CharField(max_length=32, null=True)
    isin = fields.CharField(max_length=16, null=True)
    cusip = fields.CharField(max_length=16, null=True)
    market_identifier_code = fields.CharField(max_length=16, null=True)
    option_type = fields.CharField(max_length=8, null=True)
    option_strike = fields.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, null=True)
    option_expiration = fields.DateField(null=True)
    option_underlying = fields.CharField(max_length=255, null=True)
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
