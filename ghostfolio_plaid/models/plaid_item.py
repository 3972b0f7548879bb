from tortoise import fields
from tortoise.models import Model

from ghostfolio_plaid.models.user import User


class PlaidItem(Model):
    """One Plaid Item (a login at one institution). ``access_token`` holds ciphertext only (see crypto)."""

    id = fields.UUIDField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="plaid_items", on_delete=fields.CASCADE
    )
    item_id = fields.CharField(max_length=255, unique=True)
    access_token = fields.TextField()
    institution_id = fields.CharField(max_length=64, null=True)
    institution_name = fields.CharField(max_length=255, null=True)
    consent_expires_at = fields.DatetimeField(null=True)
    last_synced_at = fields.DatetimeField(null=True)
    error = fields.CharField(max_length=128, null=True)
    disconnected_at = fields.DatetimeField(null=True)
    new_accounts_available = fields.BooleanField(default=False, db_default=False)
    ghostfolio_pending = fields.IntField(default=0, db_default=0)
    ghostfolio_attempts = fields.IntField(default=0, db_default=0)
    ghostfolio_pushed_at = fields.DatetimeField(null=True)
    ghostfolio_error = fields.CharField(max_length=512, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    user_id: str

    class Meta:
        table = "plaid_item"
