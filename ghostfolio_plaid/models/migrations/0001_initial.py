from tortoise import migrations
from tortoise.migrations import operations as ops
from ghostfolio_plaid.models.order import OrderType
from ghostfolio_plaid.models.sync_job import SyncStatus, SyncTrigger
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='MarketData',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('data_source', fields.CharField(max_length=32)),
                ('symbol', fields.CharField(max_length=255)),
                ('date', fields.DateField()),
                ('market_price', fields.DecimalField(max_digits=28, decimal_places=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'market_data', 'app': 'models', 'unique_together': (('data_source', 'symbol', 'date'),), 'pk_attr': 'id', 'table_description': "A security's price on one day, unique by data source, symbol and date."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Platform',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=255)),
                ('url', fields.CharField(null=True, max_length=2048)),
                ('plaid_institution_id', fields.CharField(null=True, unique=True, max_length=64)),
            ],
            options={'table': 'platform', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An institution accounts are held at, one row per Plaid institution id.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SymbolProfile',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('data_source', fields.CharField(max_length=32)),
                ('symbol', fields.CharField(max_length=255)),
                ('currency', fields.CharField(null=True, max_length=8)),
                ('name', fields.CharField(null=True, max_length=512)),
                ('asset_class', fields.CharField(null=True, max_length=32)),
                ('asset_sub_class', fields.CharField(null=True, max_length=32)),
                ('isin', fields.CharField(null=True, max_length=16)),
                ('cusip', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'symbol_profile', 'app': 'models', 'unique_together': (('data_source', 'symbol'),), 'pk_attr': 'id', 'table_description': 'A security as Ghostfolio knows it, unique by data source and symbol.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A Ghostfolio user, known by the ``id`` claim of its JWT, created on first sight of a valid token.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlaidItem',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='plaid_items', on_delete=OnDelete.CASCADE)),
                ('item_id', fields.CharField(unique=True, max_length=255)),
                ('access_token', fields.TextField(unique=False)),
                ('institution_id', fields.CharField(null=True, max_length=64)),
                ('institution_name', fields.CharField(null=True, max_length=255)),
                ('consent_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_synced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.CharField(null=True, max_length=128)),
                ('disconnected_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'plaid_item', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One Plaid Item (a login at one institution). ``access_token`` holds ciphertext only (see crypto).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Account',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='accounts', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=255)),
                ('currency', fields.CharField(default='USD', max_length=8)),
                ('balance', fields.DecimalField(default=0, max_digits=28, decimal_places=8)),
                ('platform', fields.ForeignKeyField('models.Platform', source_field='platform_id', null=True, db_constraint=True, to_field='id', related_name='accounts', on_delete=OnDelete.SET_NULL)),
                ('plaid_item', fields.ForeignKeyField('models.PlaidItem', source_field='plaid_item_id', null=True, db_constraint=True, to_field='id', related_name='accounts', on_delete=OnDelete.SET_NULL)),
                ('plaid_account_id', fields.CharField(null=True, max_length=255)),
                ('account_type', fields.CharField(null=True, max_length=64)),
                ('account_subtype', fields.CharField(null=True, max_length=64)),
                ('mask', fields.CharField(null=True, max_length=16)),
                ('is_excluded', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'account', 'app': 'models', 'unique_together': (('plaid_item', 'plaid_account_id'),), 'pk_attr': 'id', 'table_description': 'A Ghostfolio account, linked ones point at their Plaid item and Plaid account id.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccountBalance',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='balances', on_delete=OnDelete.CASCADE)),
                ('date', fields.DateField()),
                ('value', fields.DecimalField(max_digits=28, decimal_places=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'account_balance', 'app': 'models', 'unique_together': (('account', 'date'),), 'pk_attr': 'id', 'table_description': "An account's balance as of one day, at most one row per account and day."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Order',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.CASCADE)),
                ('symbol_profile', fields.ForeignKeyField('models.SymbolProfile', source_field='symbol_profile_id', db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.RESTRICT)),
                ('type', fields.CharEnumField(description='BUY: BUY\nSELL: SELL\nDIVIDEND: DIVIDEND\nFEE: FEE\nINTEREST: INTEREST\nLIABILITY: LIABILITY', enum_type=OrderType, max_length=16)),
                ('date', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('quantity', fields.DecimalField(max_digits=28, decimal_places=8)),
                ('unit_price', fields.DecimalField(max_digits=28, decimal_places=8)),
                ('fee', fields.DecimalField(default=0, max_digits=28, decimal_places=8)),
                ('currency', fields.CharField(max_length=8)),
                ('plaid_transaction_id', fields.CharField(null=True, unique=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'order', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A Ghostfolio activity. ``plaid_transaction_id`` is unique so a re-import can never duplicate it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SyncJob',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('plaid_item', fields.ForeignKeyField('models.PlaidItem', source_field='plaid_item_id', db_constraint=True, to_field='id', related_name='sync_jobs', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=SyncStatus.QUEUED, description='QUEUED: queued\nRUNNING: running\nSUCCEEDED: succeeded\nFAILED: failed', enum_type=SyncStatus, max_length=16)),
                ('trigger', fields.CharEnumField(description='MANUAL: manual\nWEBHOOK: webhook\nSCHEDULE: schedule', enum_type=SyncTrigger, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.CharField(null=True, max_length=255)),
                ('activities_created', fields.IntField(default=0)),
                ('activities_updated', fields.IntField(default=0)),
                ('activities_removed', fields.IntField(default=0)),
                ('holdings_seen', fields.IntField(default=0)),
                ('duration_ms', fields.IntField(null=True)),
            ],
            options={'table': 'sync_job', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One sync of one item, its id is also the RQ job id and the REST ``jobId``.'},
            bases=['Model'],
        ),
    ]
