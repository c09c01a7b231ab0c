"""The shared HTTP toolkit of customer pages, used by every plugin's routes:

- pages.py      jinja2 layout in the location's branding, security headers, 404 / 410 / 429 pages
- csrf.py       stateless CSRF tokens bound to a link token or a session id
- sessions.py   signed-cookie sessions
- signing.py    the one signing scheme (itsdangerous, a salt per purpose, key rotation) of CSRF tokens,
                sessions and plugins' signed links
- ratelimit.py  `limited(request, key, rule)`: count an attempt, the 429 page when over the limit
- client_ip.py  the client's address, trusting X-Forwarded-For only from configured proxies
- branding.py   the logo routes (upload, delete, serve)
- mailbox.py    the dev mailbox of demo mode (an SMTP sink and its page)
- graphiql.py   GraphiQL on GET /graphql from vendored assets (static/graphiql/), under a nonce'd CSP
"""
