from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_new_accounts_flag')]

    initial = False

    operations = [
        ops.AddField(
            model_name='SyncJob',
            name='transactions_fetched',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='SyncJob',
            name='transactions_total',
            field=fields.IntField(null=True),
        ),
    ]
