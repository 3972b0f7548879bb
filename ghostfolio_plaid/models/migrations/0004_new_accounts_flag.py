from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_holdings')]

    initial = False

    operations = [
        ops.AddField(
            model_name='PlaidItem',
            name='new_accounts_available',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
