from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0005_plugins_branding")]

    initial = True

    operations = [
        ops.CreateModel(
            name="ActionLink",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "appointment",
                    fields.OneToOneField(
                        "core.Appointment",
                        source_field="appointment_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="action_link",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("generation", fields.IntField(default=0)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "action_link",
                "app": "action_links",
                "pk_attr": "id",
                "table_description": "One link per appointment. Its token is derived from the appointment and `generation`",
            },
            bases=["Model"],
        ),
    ]
