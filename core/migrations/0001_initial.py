from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from core.models import ExceptionKind, StaffRole, Tier


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Location",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=200)),
                ("timezone", fields.CharField(max_length=64)),
                ("currency", fields.CharField(max_length=3)),
                ("locale", fields.CharField(default="en", max_length=35)),
                ("contact_email", fields.CharField(default="", max_length=254)),
                ("contact_phone", fields.CharField(default="", max_length=40)),
                (
                    "tier",
                    fields.CharEnumField(
                        default=Tier.FREE,
                        description="FREE: FREE\nSILVER: SILVER\nGOLD: GOLD\nPLATINUM: PLATINUM",
                        enum_type=Tier,
                        max_length=16,
                    ),
                ),
                (
                    "headquarters",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="headquarters_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="branches",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("shares_headquarters_settings", fields.BooleanField(default=False)),
                ("slot_step_minutes", fields.IntField(default=15)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "location", "app": "core", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Calendar",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="calendars",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                ("owner_name", fields.CharField(default="", max_length=200)),
                ("owner_email", fields.CharField(default="", max_length=254)),
                ("owner_phone", fields.CharField(default="", max_length=40)),
                ("version", fields.BigIntField(default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "calendar", "app": "core", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="CalendarException",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "calendar",
                    fields.ForeignKeyField(
                        "core.Calendar",
                        source_field="calendar_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="exceptions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("date", fields.DateField()),
                ("start_minute", fields.SmallIntField()),
                ("end_minute", fields.SmallIntField()),
                (
                    "kind",
                    fields.CharEnumField(
                        description="TIME_OFF: TIME_OFF\nEXTRA_HOURS: EXTRA_HOURS",
                        enum_type=ExceptionKind,
                        max_length=16,
                    ),
                ),
                ("note", fields.CharField(default="", max_length=500)),
            ],
            options={
                "table": "calendar_exception",
                "app": "core",
                "indexes": [Index(fields=["calendar_id", "date"])],
                "pk_attr": "id",
                "table_description": "Time off or extra hours on one local date (no times: the whole day).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Customer",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="customers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("first_name", fields.CharField(max_length=100)),
                ("last_name", fields.CharField(max_length=100)),
                ("email", fields.CharField(max_length=254)),
                ("email_key", fields.CharField(max_length=254)),
                ("mobile_phone", fields.CharField(default="", max_length=40)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "customer",
                "app": "core",
                "unique_together": (("location", "email_key"),),
                "indexes": [Index(fields=["location_id", "last_name", "first_name", "id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="RosterRule",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "calendar",
                    fields.ForeignKeyField(
                        "core.Calendar",
                        source_field="calendar_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="roster",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("weekday", fields.SmallIntField()),
                ("start_minute", fields.SmallIntField()),
                ("end_minute", fields.SmallIntField()),
            ],
            options={
                "table": "roster_rule",
                "app": "core",
                "pk_attr": "id",
                "table_description": "One working interval on a weekday, in local wall-clock minutes since midnight.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Service",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="services",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(max_length=200)),
                ("duration_minutes", fields.IntField()),
                ("price", fields.DecimalField(default=0, max_digits=12, decimal_places=2)),
                ("buffer_after_minutes", fields.IntField(default=0)),
                ("bookable_online", fields.BooleanField(default=True)),
                (
                    "calendars",
                    fields.ManyToManyField(
                        "core.Calendar",
                        unique=True,
                        db_constraint=True,
                        through="service_calendar",
                        forward_key="calendar_id",
                        backward_key="service_id",
                        related_name="services",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "service", "app": "core", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffUser",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email", fields.CharField(max_length=254)),
                ("email_key", fields.CharField(unique=True, max_length=254)),
                ("name", fields.CharField(default="", max_length=200)),
                ("password_hash", fields.CharField(max_length=200)),
                (
                    "role",
                    fields.CharEnumField(
                        description="OWNER: OWNER\nMANAGER: MANAGER", enum_type=StaffRole, max_length=16
                    ),
                ),
                (
                    "locations",
                    fields.ManyToManyField(
                        "core.Location",
                        unique=True,
                        db_constraint=True,
                        through="staff_user_location",
                        forward_key="location_id",
                        backward_key="staff_user_id",
                        related_name="managers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("active", fields.BooleanField(default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "staff_user", "app": "core", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StaffToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "core.StaffUser",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "staff_token",
                "app": "core",
                "pk_attr": "id",
                "table_description": "A bearer token for the API (only its SHA-256 is stored).",
            },
            bases=["Model"],
        ),
    ]
