"""The probe plugin's own table (app label "probe")."""

from tortoise import fields
from tortoise.models import Model


class ProbeNote(Model):
    """A note staff leave through the probe plugin's mutation."""

    id = fields.IntField(primary_key=True)
    location_id = fields.IntField()
    text = fields.CharField(max_length=200)

    class Meta:
        table = "probe_note"
