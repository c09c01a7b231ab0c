"""Agendum's test kit: a pytest plugin (registered through the `pytest11` entry point, so it is
active wherever Agendum is installed) whose `agendum_*` fixtures give a plugin's tests the real
app with chosen plugins on a fresh migrated database, a GraphQL client with an owner's token, a
clinic, a captured mailbox (a real SMTP server), due emails sent on demand and a clock to move.

Importing it loads neither strawberry nor tortoise: fixtures import the app when first used.
See docs/plugins.md, "Testing a plugin"."""
