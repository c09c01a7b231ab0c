import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


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
            name="PortalAccount",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="portal_accounts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("email", fields.CharField(max_length=254)),
                ("email_key", fields.CharField(max_length=254)),
                (
                    "customer",
                    fields.ForeignKeyField(
                        "core.Customer",
                        source_field="customer_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="portal_accounts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("password_hash", fields.CharField(default="", max_length=200)),
                (
                    "pending",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("verified_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("password_changed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "portal_account",
                "app": "client_portal",
                "unique_together": (("location_id", "email_key"),),
                "pk_attr": "id",
                "table_description": "A customer's sign-in at one location. Until the email is verified the account holds the",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PortalAddress",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.OneToOneField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="portal_address",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("slug", fields.CharField(unique=True, max_length=60)),
            ],
            options={
                "table": "portal_address",
                "app": "client_portal",
                "pk_attr": "id",
                "table_description": "A location's portal address: the slug in /portal/{slug}, unique across locations.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PortalSession",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("session_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="portal_sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "customer",
                    fields.ForeignKeyField(
                        "core.Customer",
                        source_field="customer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="portal_sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "account",
                    fields.ForeignKeyField(
                        "client_portal.PortalAccount",
                        source_field="account_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="sessions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "portal_session",
                "app": "client_portal",
                "indexes": [Index(fields=["customer_id", "location_id"])],
                "pk_attr": "id",
                "table_description": "A signed-in browser: the hash of its session id, the customer and location it is for.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PortalToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "account",
                    fields.ForeignKeyField(
                        "client_portal.PortalAccount",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("purpose", fields.CharField(max_length=16)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "portal_token",
                "app": "client_portal",
                "pk_attr": "id",
                "table_description": "A single-use token emailed to an account: `purpose` VERIFY (confirm the email) or",
            },
            bases=["Model"],
        ),
    ]
