"""The action link of an appointment (app label "action_links"): only the token's hash is kept."""

from tortoise import fields
from tortoise.models import Model

from core.instants import DatetimeField


class ActionLink(Model):
    """One link per appointment. Its token is derived from the appointment and `generation`
    (revoking bumps the generation, so the old token becomes unknown)."""

    id = fields.IntField(primary_key=True)
    appointment = fields.OneToOneField("core.Appointment", related_name="action_link", on_delete=fields.CASCADE)
    generation = fields.IntField(default=0)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = DatetimeField(auto_now_add=True)
    updated_at = DatetimeField(auto_now=True)

    class Meta:
        table = "action_link"
