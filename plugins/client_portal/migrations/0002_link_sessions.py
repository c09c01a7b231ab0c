"""PortalSession.from_link: a session started from an action link's "See all my appointments"
may view and act on appointments, but not change the password or the profile."""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("client_portal", "0001_initial")]

    operations = [
        ops.AddField(model_name="PortalSession", name="from_link", field=fields.BooleanField(default=False)),
    ]
