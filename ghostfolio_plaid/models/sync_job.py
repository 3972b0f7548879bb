from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.plaid_item import PlaidItem


class SyncStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_SYNC_STATUSES = (SyncStatus.QUEUED, SyncStatus.RUNNING)


class SyncTrigger(StrEnum):
    LINK = "link"
    MANUAL = "manual"
    WEBHOOK = "webhook"
    SCHEDULE = "schedule"


class SyncJob(Model):
    """One sync of one item, its id is also the RQ job id and the REST ``jobId``.

    A partial unique index (see the migrations) allows at most one queued or running job per item.
    """

    id = fields.UUIDField(primary_key=True)
    plaid_item: fields.ForeignKeyRelation[PlaidItem] = fields.ForeignKeyField(
        "models.PlaidItem", related_name="sync_jobs", on_delete=fields.CASCADE
    )
    status = fields.CharEnumField(SyncStatus, max_length=16, default=SyncStatus.QUEUED)
    trigger = fields.CharEnumField(SyncTrigger, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=255, null=True)
    activities_created = fields.IntField(default=0)
    activities_updated = fields.IntField(default=0)
    activities_removed = fields.IntField(default=0)
    holdings_seen = fields.IntField(default=0)
    transactions_fetched = fields.IntField(default=0, db_default=0)
    transactions_total = fields.IntField(null=True)
    duration_ms = fields.IntField(null=True)

    plaid_item_id: str

    class Meta:
        table = "sync_job"
