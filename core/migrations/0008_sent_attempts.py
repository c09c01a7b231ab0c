"""OutboxMessage.attempts counts every try, the accepting one included: messages sent before
this counted only refusals, so each SENT row gets its accepting try."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("core", "0007_calendar_file")]

    operations = [
        ops.RunSQL(
            'UPDATE "outbox_message" SET "attempts" = "attempts" + 1 WHERE "status" = \'SENT\'',
            reverse_sql='UPDATE "outbox_message" SET "attempts" = "attempts" - 1 WHERE "status" = \'SENT\' AND "attempts" > 0',
        ),
    ]
