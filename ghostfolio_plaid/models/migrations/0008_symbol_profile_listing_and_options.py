from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0007_ghostfolio_connector")]

    initial = False

    operations = [
        ops.AddField(
            model_name="SymbolProfile",
            name="market_identifier_code",
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name="SymbolProfile",
            name="option_expiration",
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name="SymbolProfile",
            name="option_strike",
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=8),
        ),
        ops.AddField(
            model_name="SymbolProfile",
            name="option_type",
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name="SymbolProfile",
            name="option_underlying",
            field=fields.CharField(null=True, max_length=255),
        ),
    ]
