"""PostgreSQL only: an exclusion constraint so two live appointments of one calendar can never
overlap (buffers included), whatever the application does. Its violation maps to SlotUnavailable."""

from tortoise import migrations
from tortoise.migrations import operations as ops

CONSTRAINT = "appointment_no_overlap"


async def create_constraint(apps, schema_editor) -> None:
    if schema_editor.DIALECT != "postgres":
        return
    await schema_editor.client.execute_script(
        "CREATE EXTENSION IF NOT EXISTS btree_gist;"
        f'ALTER TABLE "appointment" ADD CONSTRAINT "{CONSTRAINT}" EXCLUDE USING gist ('
        ' "calendar_id" WITH =, tstzrange("starts_at", "blocked_until", \'[)\') WITH &&'
        ") WHERE (\"status\" <> 'CANCELLED');"
    )


async def drop_constraint(apps, schema_editor) -> None:
    if schema_editor.DIALECT == "postgres":
        await schema_editor.client.execute_script(f'ALTER TABLE "appointment" DROP CONSTRAINT "{CONSTRAINT}";')


class Migration(migrations.Migration):
    dependencies = [("core", "0002_scheduling")]

    operations = [ops.RunPython(create_constraint, drop_constraint)]
