from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    operations = [
        ops.RunSQL(
            "CREATE UNIQUE INDEX sync_job_one_active_per_item ON sync_job (plaid_item_id) "
            "WHERE status IN ('queued', 'running')",
            reverse_sql="DROP INDEX sync_job_one_active_per_item",
        ),
    ]
