from tortoise import fields
from tortoise.models import Model


class User(Model):
    """A Ghostfolio user, known by the ``id`` claim of its JWT, created on first sight of a valid token."""

    id = fields.CharField(primary_key=True, max_length=255)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "user"
