"""Email: the events and placeholders (registry), templates and their rendering, the outbox
written in each change's transaction, and the worker that delivers it over SMTP (delivery, mime,
smtp), with calendar files (ics) and the secrets in stored messages (secrets)."""
