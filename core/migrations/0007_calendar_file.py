"""Appointment.ics_uid and Appointment.ics_sequence: the calendar file's own UID and SEQUENCE.

`ics_sequence` starts at the appointment's `sequence`, the SEQUENCE its last calendar file
carried. `ics_uid` stays null for existing appointments: their invites went out with the UID
`appointment-<id>@<host>`, which core/email/ics.py keeps using for them so that their entries in
customers' calendars stay updatable; appointments booked from now on get a random UUID."""

import uuid

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0006_logo_version")]

    operations = [
        ops.AddField(model_name="Appointment", name="ics_sequence", field=fields.IntField(default=0, db_default=0)),
        ops.RunSQL('UPDATE "appointment" SET "ics_sequence" = "sequence"', reverse_sql=ops.RunSQL.noop),
        ops.AddField(model_name="Appointment", name="ics_uid", field=fields.UUIDField(null=True, default=uuid.uuid4)),
    ]
