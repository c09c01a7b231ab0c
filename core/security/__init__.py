"""Who may do what, and keeping secrets: actors and scopes (access), staff accounts and sign-in
(accounts), passwords and their strength, tokens, rate limits, sealed secrets and log redaction."""
