"""Location.logo_version: when the location's logo last changed (null without one), so customer
pages build the logo's address from the location row instead of querying the logo."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0005_plugins_branding")]

    operations = [
        ops.AddField(model_name="Location", name="logo_version", field=fields.DatetimeField(null=True)),
        ops.RunSQL(
            'UPDATE "location" SET "logo_version" = (SELECT "updated_at" FROM "location_logo" WHERE "location_id" = "location"."id")',
            reverse_sql=ops.RunSQL.noop,
        ),
    ]
