import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from plugins.one_time_links.models import LinkState


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("core", "0002_scheduling"),
        ("core", "0003_no_double_booking"),
        ("core", "0004_email"),
        ("core", "0005_plugins_branding"),
    ]

    initial = True

    operations = [
        ops.CreateModel(
            name="OneTimeLink",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "calendar",
                    fields.ForeignKeyField(
                        "core.Calendar",
                        source_field="calendar_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="one_time_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("location_id", fields.IntField()),
                (
                    "service_ids",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("expires_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("note", fields.CharField(default="", max_length=500)),
                (
                    "state",
                    fields.CharEnumField(
                        default=LinkState.ACTIVE,
                        description="ACTIVE: ACTIVE\nUSED: USED\nREVOKED: REVOKED",
                        enum_type=LinkState,
                        max_length=16,
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("created_by", fields.CharField(default="", max_length=100)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "appointment",
                    fields.ForeignKeyField(
                        "core.Appointment",
                        source_field="appointment_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="one_time_links",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={
                "table": "one_time_link",
                "app": "one_time_links",
                "indexes": [Index(fields=["calendar_id", "id"])],
                "pk_attr": "id",
                "table_description": "A single-use link to book one of `service_ids` on a calendar.",
            },
            bases=["Model"],
        ),
    ]
