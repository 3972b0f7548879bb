from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_one_active_sync_per_item')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Holding',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='holdings', on_delete=OnDelete.CASCADE)),
                ('symbol_profile', fields.ForeignKeyField('models.SymbolProfile', source_field='symbol_profile_id', db_constraint=True, to_field='id', related_name='holdings', on_delete=OnDelete.RESTRICT)),
                ('quantity', fields.DecimalField(max_digits=28, decimal_places=8)),
                ('price', fields.DecimalField(null=True, max_digits=28, decimal_places=8)),
                ('value', fields.DecimalField(null=True, max_digits=28, decimal_places=8)),
                ('cost_basis', fields.DecimalField(null=True, max_digits=28, decimal_places=8)),
                ('currency', fields.CharField(max_length=8)),
                ('as_of', fields.DateField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'holding', 'app': 'models', 'unique_together': (('account', 'symbol_profile'),), 'pk_attr': 'id', 'table_description': 'A position as Plaid last reported it (cash included), replaced on every sync.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['account_id', 'date']),
        ),
    ]
