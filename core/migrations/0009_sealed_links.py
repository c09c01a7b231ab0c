"""Customers' secret links leave the stored emails: until now a body kept its action, confirm-email
and set-password links in clear, readable by staff and by anyone reading the database. Each link
whose last path segment is a token (of the shape core.security.tokens makes) becomes its sealed reference
(core.email.secrets), which the worker turns back into the same link as it sends and staff see
masked. Sealing needs the secret key, read from the environment as `agendum migrate` and `serve`
read it (AGENDUM_SECRET_KEY; the demo's own in demo mode); without stored links, nothing is needed."""

import re

from tortoise import migrations
from tortoise.migrations import operations as ops

LINK = re.compile(r"https?://[^\s<>\"'{}]+/[A-Za-z0-9_-]{40,64}(?![A-Za-z0-9_/-])")


async def seal_stored_links(apps, schema_editor) -> None:
    from core import sql
    from core.email.secrets import MASK, sealed_link
    from core.settings import Settings

    client = schema_editor.client
    like = sql.params(client, 1)[0]
    found = await client.execute_query_dict(
        f'SELECT id, subject, body FROM "outbox_message" WHERE body LIKE {like} OR subject LIKE {like}', ["%://%"]
    )
    stored = [row for row in found if LINK.search(row["body"]) or LINK.search(row["subject"])]
    if not stored:
        return
    settings = Settings.from_env().with_secret_key()  # refuses a missing key, saying how to set one
    seal = lambda text: LINK.sub(lambda m: sealed_link(m.group(0), settings), text)  # noqa: E731
    marks = sql.params(client, 3)
    for row in stored:
        subject = seal(row["subject"])
        if len(subject) > 500:  # no room for a reference in the subject's column: hidden instead
            subject = LINK.sub(MASK, row["subject"])
        await client.execute_query(
            f'UPDATE "outbox_message" SET subject = {marks[0]}, body = {marks[1]} WHERE id = {marks[2]}',
            [subject, seal(row["body"]), row["id"]],
        )


class Migration(migrations.Migration):
    dependencies = [("core", "0008_sent_attempts")]

    operations = [ops.RunPython(seal_stored_links, ops.RunPython.noop)]
