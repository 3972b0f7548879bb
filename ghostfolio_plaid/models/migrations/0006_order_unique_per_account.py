"""Orders are unique per (account, Plaid transaction id), no longer by Plaid's id alone. Written by hand.

Why not the generated operations: on PostgreSQL the generated ``AlterField`` drops a constraint named
``uid_order_plaid_t_9a808d``, but 0001 created PostgreSQL's default name ``order_plaid_transaction_id_key``;
on SQLite (the demo) ``AlterField`` rebuilds the table and silently loses its other indexes (the order's
``idx_order_account_0166ef``; for ``sync_job`` the partial unique index of 0002). So the schema change is
plain SQL per dialect, and the migration state moves by the operations the autodetector would write, applied
to the state only.
"""

from typing import Any

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

from ghostfolio_plaid.models.sync_job import SyncTrigger

SQLITE_ORDER_COLUMNS = (
    '"id" CHAR(36) NOT NULL PRIMARY KEY, '
    '"type" VARCHAR(16) NOT NULL, '
    '"date" TIMESTAMP NOT NULL, '
    '"quantity" VARCHAR(40) NOT NULL, '
    '"unit_price" VARCHAR(40) NOT NULL, '
    '"fee" VARCHAR(40) NOT NULL, '
    '"currency" VARCHAR(8) NOT NULL, '
    '"plaid_transaction_id" VARCHAR(255){unique}, '
    '"created_at" TIMESTAMP NOT NULL, '
    '"updated_at" TIMESTAMP NOT NULL, '
    '"account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE, '
    '"symbol_profile_id" CHAR(36) NOT NULL REFERENCES "symbol_profile" ("id") ON DELETE RESTRICT, '
    '"user_id" VARCHAR(255) NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE'
)
COLUMN_NAMES = (
    '"id", "type", "date", "quantity", "unit_price", "fee", "currency", "plaid_transaction_id", '
    '"created_at", "updated_at", "account_id", "symbol_profile_id", "user_id"'
)


def sqlite_rebuild(unique: str, indexes: list[str]) -> list[str]:
    """SQLite cannot drop a column's UNIQUE: copy the table into one without it, then recreate its indexes."""
    return [
        f'CREATE TABLE "new__order" ({SQLITE_ORDER_COLUMNS.format(unique=unique)})',
        f'INSERT INTO "new__order" ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM "order"',
        'DROP TABLE "order"',
        'ALTER TABLE "new__order" RENAME TO "order"',
        'CREATE INDEX "idx_order_account_0166ef" ON "order" ("account_id", "date")',
        *indexes,
    ]


FORWARD = {
    "postgres": [
        'ALTER TABLE "order" DROP CONSTRAINT "order_plaid_transaction_id_key"',
        'ALTER TABLE "order" ADD CONSTRAINT "uid_order_account_f66a4c" UNIQUE ("account_id", "plaid_transaction_id")',
        "COMMENT ON COLUMN \"sync_job\".\"trigger\" IS 'LINK: link\\nMANUAL: manual\\nWEBHOOK: webhook\\nSCHEDULE: schedule'",
    ],
    "sqlite": sqlite_rebuild(
        "",
        ['CREATE UNIQUE INDEX "uid_order_account_f66a4c" ON "order" ("account_id", "plaid_transaction_id")'],
    ),
}
BACKWARD = {
    "postgres": [
        'ALTER TABLE "order" DROP CONSTRAINT "uid_order_account_f66a4c"',
        'ALTER TABLE "order" ADD CONSTRAINT "order_plaid_transaction_id_key" UNIQUE ("plaid_transaction_id")',
        "COMMENT ON COLUMN \"sync_job\".\"trigger\" IS 'MANUAL: manual\\nWEBHOOK: webhook\\nSCHEDULE: schedule'",
    ],
    "sqlite": sqlite_rebuild(" UNIQUE", []),
}


class DialectSQL(ops.TortoiseOperation):
    """Runs the statements written for the connection's dialect (PostgreSQL or SQLite)."""

    def __init__(self, forward: dict[str, list[str]], backward: dict[str, list[str]]) -> None:
        self.forward, self.backward = forward, backward

    def describe(self) -> str:
        return "Run SQL for the dialect"

    async def database_forward(self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None) -> None:
        await self._run(self.forward, state_editor)

    async def database_backward(
        self, app_label: str, old_state: Any, new_state: Any, state_editor: Any = None
    ) -> None:
        await self._run(self.backward, state_editor)

    @staticmethod
    async def _run(statements: dict[str, list[str]], state_editor: Any) -> None:
        if state_editor is None:
            return
        for sql in statements[state_editor.client.capabilities.dialect]:
            await state_editor._run_sql(sql)


class StateOnly(ops.TortoiseOperation):
    """``operation``'s change to the migration state, without its SQL (``DialectSQL`` does the schema)."""

    def __init__(self, operation: ops.TortoiseOperation) -> None:
        self.operation = operation

    def describe(self) -> str:
        return f"{self.operation.describe()} (state only)"

    def state_forward(self, app_label: str, state: Any) -> None:
        self.operation.state_forward(app_label, state)


class Migration(migrations.Migration):
    dependencies = [("models", "0005_sync_progress")]

    initial = False

    operations = [
        DialectSQL(FORWARD, BACKWARD),
        StateOnly(
            ops.AlterModelOptions(
                name="Order",
                options={
                    "table": "order",
                    "app": "models",
                    "unique_together": (("account", "plaid_transaction_id"),),
                    "indexes": [Index(fields=["account_id", "date"])],
                    "pk_attr": "id",
                    "table_description": (
                        "A Ghostfolio activity. ``(account, plaid_transaction_id)`` is unique so a re-import can "
                        "never duplicate it."
                    ),
                },
            )
        ),
        StateOnly(
            ops.AlterField(
                model_name="Order",
                name="plaid_transaction_id",
                field=fields.CharField(null=True, max_length=255),
            )
        ),
        StateOnly(
            ops.AddConstraint(
                model_name="Order",
                constraint=UniqueConstraint(fields=("account", "plaid_transaction_id"), name=None),
            )
        ),
        StateOnly(
            ops.AlterField(
                model_name="SyncJob",
                name="trigger",
                field=fields.CharEnumField(
                    description="LINK: link\nMANUAL: manual\nWEBHOOK: webhook\nSCHEDULE: schedule",
                    enum_type=SyncTrigger,
                    max_length=16,
                ),
            )
        ),
    ]
