from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ProbeNote',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('location_id', fields.IntField()),
                ('text', fields.CharField(max_length=200)),
            ],
            options={'table': 'probe_note', 'app': 'probe', 'pk_attr': 'id', 'table_description': "A note staff leave through the probe plugin's mutation."},
            bases=['Model'],
        ),
    ]
