"""Idempotency keys of mutations (core.idempotency): the key, its principal and the answer to replay."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

from core.instants import DatetimeField


class Migration(migrations.Migration):
    dependencies = [("core", "0009_sealed_links")]

    initial = False

    operations = [
        ops.CreateModel(
            name="IdempotentRequest",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("principal", fields.CharField(max_length=100)),
                ("key", fields.CharField(max_length=255)),
                ("request_hash", fields.CharField(max_length=64)),
                ("status_code", fields.IntField(default=200)),
                ("response", fields.TextField(default="", unique=False)),
                ("created_at", DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "idempotent_request",
                "app": "core",
                "unique_together": (("principal", "key"),),
                "pk_attr": "id",
                "table_description": "A mutation sent with an `Idempotency-Key`, with the answer to replay.",
            },
            bases=["Model"],
        ),
    ]
