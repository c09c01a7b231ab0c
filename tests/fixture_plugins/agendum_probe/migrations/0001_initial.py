from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="ProbeNote",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("location_id", fields.IntField()),
                ("text", fields.CharField(max_length=200)),
            ],
            options={
                "table": "probe_note",
                "app": "probe",
                "pk_attr": "id",
                "table_description": "A note staff leave through the probe plugin's mutation.",
            },
            bases=["Model"],
        ),
    ]
