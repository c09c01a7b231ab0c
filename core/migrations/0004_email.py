import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.models import DeliveryStatus, RecipientRole


class Migration(migrations.Migration):
    dependencies = [("core", "0003_no_double_booking")]

    initial = False

    operations = [
        ops.CreateModel(
            name="EmailTemplate",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="email_templates",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                ("event", fields.CharField(max_length=64)),
                (
                    "role",
                    fields.CharEnumField(
                        description="CUSTOMER: CUSTOMER\nSTAFF: STAFF", enum_type=RecipientRole, max_length=16
                    ),
                ),
                ("subject", fields.CharField(max_length=500)),
                ("body", fields.TextField(unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "email_template",
                "app": "core",
                "unique_together": (("location", "name"),),
                "pk_attr": "id",
                "table_description": "A named plain-text template of a location, for one recipient role and one event.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxMessage",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="outbox",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "appointment",
                    fields.ForeignKeyField(
                        "core.Appointment",
                        source_field="appointment_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="emails",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("event", fields.CharField(max_length=64)),
                (
                    "role",
                    fields.CharEnumField(
                        description="CUSTOMER: CUSTOMER\nSTAFF: STAFF", enum_type=RecipientRole, max_length=16
                    ),
                ),
                ("template_name", fields.CharField(default="", max_length=200)),
                ("to_address", fields.CharField(max_length=254)),
                ("subject", fields.CharField(max_length=500)),
                ("body", fields.TextField(unique=False)),
                ("ics", fields.TextField(null=True, unique=False)),
                ("message_id", fields.CharField(unique=True, max_length=200)),
                (
                    "status",
                    fields.CharEnumField(
                        default=DeliveryStatus.QUEUED,
                        description="QUEUED: QUEUED\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nVOID: VOID",
                        enum_type=DeliveryStatus,
                        max_length=16,
                    ),
                ),
                ("is_reminder", fields.BooleanField(default=False)),
                ("appointment_sequence", fields.IntField(null=True)),
                ("attempts", fields.IntField(default=0)),
                ("send_after", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("lease_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("leased_by", fields.CharField(default="", max_length=100)),
                ("last_error", fields.TextField(default="", unique=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "resent_from",
                    fields.ForeignKeyField(
                        "core.OutboxMessage",
                        source_field="resent_from_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="resends",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "outbox_message",
                "app": "core",
                "indexes": [
                    Index(fields=["status", "send_after"]),
                    Index(fields=["location_id", "created_at"]),
                    Index(fields=["appointment_id", "status"]),
                ],
                "pk_attr": "id",
                "table_description": "An email rendered when queued, delivered by a worker that leases it (nothing is lost).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffNotice",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="staff_notices",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("event", fields.CharField(max_length=64)),
                (
                    "template",
                    fields.ForeignKeyField(
                        "core.EmailTemplate",
                        source_field="template_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="staff_notices",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "staff_notice",
                "app": "core",
                "unique_together": (("location", "event"),),
                "pk_attr": "id",
                "table_description": "At a location, an event that notifies the calendar's owner when a customer made the change.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Location",
            name="reminder_offsets_minutes",
            field=fields.JSONField(
                default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
    ]
