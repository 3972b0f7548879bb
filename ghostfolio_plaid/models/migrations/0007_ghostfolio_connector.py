from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("models", "0006_order_unique_per_account")]

    initial = False

    operations = [
        ops.CreateModel(
            name="GhostfolioActivity",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "plaid_item",
                    fields.ForeignKeyField(
                        "models.PlaidItem",
                        source_field="plaid_item_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ghostfolio_activities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "account",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ghostfolio_activities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("activity_key", fields.CharField(max_length=255)),
                ("ghostfolio_id", fields.CharField(max_length=64)),
                ("payload_hash", fields.CharField(max_length=64)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "ghostfolio_activity",
                "app": "models",
                "unique_together": (("account", "activity_key"),),
                "pk_attr": "id",
                "table_description": "One of our activities as Ghostfolio holds it: its id there and a hash of the fields last delivered.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="GhostfolioPush",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "plaid_item",
                    fields.ForeignKeyField(
                        "models.PlaidItem",
                        source_field="plaid_item_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="ghostfolio_pushes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("outcome", fields.CharField(max_length=16)),
                ("created", fields.IntField(default=0)),
                ("updated", fields.IntField(default=0)),
                ("deleted", fields.IntField(default=0)),
                ("balances", fields.IntField(default=0)),
                ("requests", fields.IntField(default=0)),
                ("error", fields.CharField(null=True, max_length=512)),
                ("started_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("finished_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "ghostfolio_push",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One delivery run of one item: what it sent and how it ended (the metrics count these).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="GhostfolioSymbol",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                (
                    "symbol_profile",
                    fields.ForeignKeyField(
                        "models.SymbolProfile",
                        source_field="symbol_profile_id",
                        unique=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="ghostfolio_symbols",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("data_source", fields.CharField(max_length=32)),
                ("symbol", fields.CharField(max_length=255)),
                ("market_data_through", fields.DateField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "ghostfolio_symbol",
                "app": "models",
                "pk_attr": "id",
                "table_description": "Where a security is priced in Ghostfolio, chosen once (the instance's data source, else MANUAL) and kept.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Account",
            name="ghostfolio_account_id",
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name="Account",
            name="ghostfolio_balance",
            field=fields.DecimalField(null=True, max_digits=28, decimal_places=8),
        ),
        ops.AddField(
            model_name="Account",
            name="ghostfolio_balance_date",
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name="PlaidItem",
            name="ghostfolio_attempts",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name="PlaidItem",
            name="ghostfolio_error",
            field=fields.CharField(null=True, max_length=512),
        ),
        ops.AddField(
            model_name="PlaidItem",
            name="ghostfolio_pending",
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name="PlaidItem",
            name="ghostfolio_pushed_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
