"""One-time booking links (app label "one_time_links"): only the token's hash is kept."""

from enum import Enum

from tortoise import fields
from tortoise.models import Model

from core.instants import DatetimeField


class LinkState(str, Enum):
    """Stored state; EXPIRED is not stored but read from `expires_at`."""

    ACTIVE = "ACTIVE"
    USED = "USED"
    REVOKED = "REVOKED"


class OneTimeLink(Model):
    """A single-use link to book one of `service_ids` on a calendar."""

    id = fields.IntField(primary_key=True)
    calendar = fields.ForeignKeyField("core.Calendar", related_name="one_time_links", on_delete=fields.CASCADE)
    location_id = fields.IntField()
    service_ids = fields.JSONField(default=list)
    expires_at = DatetimeField(null=True)
    note = fields.CharField(max_length=500, default="")
    state = fields.CharEnumField(LinkState, max_length=16, default=LinkState.ACTIVE)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = DatetimeField(auto_now_add=True)
    created_by = fields.CharField(max_length=100, default="")
    used_at = DatetimeField(null=True)
    appointment = fields.ForeignKeyField(
        "core.Appointment", related_name="one_time_links", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "one_time_link"
        indexes = (("calendar_id", "id"),)
