from tortoise import fields
from tortoise.models import Model


class Platform(Model):
    """An institution accounts are held at, one row per Plaid institution id."""

    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=255)
    url = fields.CharField(max_length=2048, null=True)
    plaid_institution_id = fields.CharField(max_length=64, unique=True, null=True)

    class Meta:
        table = "platform"
