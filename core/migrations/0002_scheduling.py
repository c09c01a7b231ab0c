import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.models import ActorKind, AppointmentStatus


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Appointment",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="appointments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "calendar",
                    fields.ForeignKeyField(
                        "core.Calendar",
                        source_field="calendar_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="appointments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "service",
                    fields.ForeignKeyField(
                        "core.Service",
                        source_field="service_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="appointments",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "customer",
                    fields.ForeignKeyField(
                        "core.Customer",
                        source_field="customer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="appointments",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("starts_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ends_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("blocked_until", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=AppointmentStatus.SCHEDULED,
                        description="SCHEDULED: SCHEDULED\nCONFIRMED: CONFIRMED\nCANCELLED: CANCELLED\nCOMPLETED: COMPLETED\nNO_SHOW: NO_SHOW",
                        enum_type=AppointmentStatus,
                        max_length=16,
                    ),
                ),
                ("cancellation_reason", fields.CharField(default="", max_length=200)),
                ("cancellation_note", fields.TextField(default="", unique=False)),
                ("sequence", fields.IntField(default=0)),
                ("customer_reschedules", fields.IntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "appointment",
                "app": "core",
                "indexes": [
                    Index(fields=["calendar_id", "starts_at"]),
                    Index(fields=["location_id", "starts_at"]),
                    Index(fields=["customer_id", "starts_at"]),
                ],
                "pk_attr": "id",
                "table_description": "A booking of a service on a calendar for a customer. Instants are UTC.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AppointmentEvent",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "appointment",
                    fields.ForeignKeyField(
                        "core.Appointment",
                        source_field="appointment_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("action", fields.CharField(max_length=32)),
                (
                    "actor_kind",
                    fields.CharEnumField(
                        description="STAFF: STAFF\nCUSTOMER_LINK: CUSTOMER_LINK\nPORTAL: PORTAL\nONE_TIME_LINK: ONE_TIME_LINK\nSYSTEM: SYSTEM",
                        enum_type=ActorKind,
                        max_length=16,
                    ),
                ),
                ("actor_id", fields.CharField(default="", max_length=64)),
                ("ip", fields.CharField(default="", max_length=64)),
                ("user_agent", fields.CharField(default="", max_length=500)),
                (
                    "before",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                (
                    "after",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
            ],
            options={
                "table": "appointment_event",
                "app": "core",
                "indexes": [Index(fields=["appointment_id", "at"])],
                "pk_attr": "id",
                "table_description": "One change of an appointment: who, from where, what before and after.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Location",
            name="cancellation_notice_hours",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="Location",
            name="cancellation_policy",
            field=fields.TextField(default="", unique=False),
        ),
        ops.AddField(
            model_name="Location",
            name="cancellation_reason_required",
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name="Location",
            name="cancellation_reasons",
            field=fields.JSONField(
                default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
        ops.AddField(
            model_name="Location",
            name="max_advance_days",
            field=fields.IntField(default=365),
        ),
        ops.AddField(
            model_name="Location",
            name="max_customer_reschedules",
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name="Location",
            name="min_notice_minutes",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="Location",
            name="reschedule_notice_hours",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="Location",
            name="same_day_changes_allowed",
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name="Service",
            name="rule_overrides",
            field=fields.JSONField(
                default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
            ),
        ),
    ]
