"""Logs never carry secrets: every log record of the process is redacted when it is made.

Link tokens travel in URL paths (`/action/<token>`, `/portal/<slug>/verify/<token>`, signed
sign-in links), so access logs would keep them; errors may quote an email address. `install()`
wraps the log record factory, so the message and arguments of every record are redacted before
any handler or formatter sees them — uvicorn's access log, the worker's log, and any logger or
handler added later alike:

- in a URL path, each segment or query value of 40 characters or more (every token we issue is
  longer), or holding an email address, becomes `[redacted]`;
- elsewhere, token-shaped words (40 or more URL-safe characters, like `core.security.tokens.looks_like_token`)
  become `[redacted]` and email addresses `[email]`.

What cannot be recognised (a password, the literals of a GraphQL query) must not be logged at all.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from urllib.parse import unquote, unquote_plus

LONG = 40  # our tokens are 43 characters, signed sign-in links longer
REDACTED = "[redacted]"
_PATH = re.compile(r"(?<![\w.~-])/[^\s\"'<>]*")
_TOKEN = re.compile(rf"(?<![\w-])[\w-]{{{LONG},}}(?![\w-])", re.ASCII)
_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")


def _secret(part: str) -> bool:
    return len(part) >= LONG or _EMAIL.search(part) is not None


def _path(match: re.Match) -> str:
    path, _, query = match.group(0).partition("?")
    segments = [REDACTED if _secret(unquote(s)) else s for s in path.split("/")]
    if not query:
        return "/".join(segments)
    pairs = []
    for pair in query.split("&"):
        name, equals, value = pair.partition("=")
        if _secret(unquote_plus(value if equals else name)):
            pair = f"{name}={REDACTED}" if equals else REDACTED
        pairs.append(pair)
    return "/".join(segments) + "?" + "&".join(pairs)


def redact(text: str) -> str:
    """`text` without tokens or email addresses (see the module's rules)."""
    text = _PATH.sub(_path, text)
    return _EMAIL.sub("[email]", _TOKEN.sub(REDACTED, text))


def _argument(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else str(value)
    clean = redact(text)
    return value if clean == text and not isinstance(value, str) else clean


def redact_record(record: logging.LogRecord) -> None:
    """Redact a log record in place: its message, arguments, exception text and stack."""
    record.msg = redact(record.msg if isinstance(record.msg, str) else str(record.msg))
    if isinstance(record.args, Mapping):
        record.args = {key: _argument(value) for key, value in record.args.items()}
    elif record.args:
        record.args = tuple(_argument(value) for value in record.args)
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Redact every log record this process makes from now on, whatever logs it (idempotent)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "redacts", False):
        return

    def redacted(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redact_record(record)
        return record

    setattr(redacted, "redacts", True)  # noqa: B010 - a mark on a function (mypy knows no such attribute)
    logging.setLogRecordFactory(redacted)
