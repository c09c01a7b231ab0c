import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0004_email")]

    initial = False

    operations = [
        ops.CreateModel(
            name="LocationLogo",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.OneToOneField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="logo",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("content_type", fields.CharField(max_length=32)),
                ("data", fields.BinaryField()),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "location_logo",
                "app": "core",
                "pk_attr": "id",
                "table_description": "A location's logo image (PNG, JPEG or WebP), shown on customer pages.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PluginActivation",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "location",
                    fields.ForeignKeyField(
                        "core.Location",
                        source_field="location_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="plugin_activations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("plugin", fields.CharField(max_length=100)),
                ("enabled", fields.BooleanField(default=False)),
                (
                    "settings",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("changed_by", fields.CharField(default="", max_length=100)),
                ("changed_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ("note", fields.CharField(default="", max_length=500)),
            ],
            options={
                "table": "plugin_activation",
                "app": "core",
                "unique_together": (("location", "plugin"),),
                "pk_attr": "id",
                "table_description": "Whether a plugin is on at a location, with its settings: never inherited from a headquarters.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Location",
            name="background_color",
            field=fields.CharField(default="#ffffff", max_length=7),
        ),
    ]
