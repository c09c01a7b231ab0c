"""Where outgoing email goes: `AGENDUM_SMTP_URL` parsed into an `SmtpConfig`, refusing anything
unclear (wrong scheme, no host, bad port, STARTTLS on an already encrypted connection, unknown
options) with a message that names the setting and never repeats the password.

    smtp://host:25                            plain SMTP (port 25 by default)
    smtp://user:pass@host:587?starttls=true   upgraded with STARTTLS (required, not opportunistic)
    smtps://user:pass@host:465                TLS from the first byte (port 465 by default)
    ...?timeout=10                            seconds to wait for the server on each step (default 10)

User name and password are percent-decoded (`p%40ss` is `p@ss`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from core.errors import SettingsError

SETTING = "AGENDUM_SMTP_URL"
DEFAULT_TIMEOUT = 10.0
DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
OPTIONS = ("starttls", "timeout")
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the SMTP server that relays Agendum's email."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # smtps://: TLS from the start
    start_tls: bool = False  # smtp://...?starttls=true: STARTTLS required
    timeout: float = DEFAULT_TIMEOUT

    def __repr__(self) -> str:  # never show the password (logs, tracebacks)
        return f"SmtpConfig({self.describe()!r})"

    def describe(self) -> str:
        """The URL without the password, for logs and the benchmark's report."""
        scheme = "smtps" if self.use_tls else "smtp"
        user = f"{self.username}:***@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "?starttls=true" if self.start_tls else ""
        return f"{scheme}://{user}{host}:{self.port}{query} (timeout {self.timeout:g}s)"

    def client_options(self) -> dict:
        """Keyword arguments for `aiosmtplib.SMTP`."""
        return {
            "hostname": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "use_tls": self.use_tls,
            "start_tls": self.start_tls,
            "timeout": self.timeout,
        }


def _refuse(problem: str) -> SettingsError:
    return SettingsError(
        f"{SETTING}: {problem}. Expected smtp://[user:password@]host[:port][?starttls=true] "
        "or smtps://[user:password@]host[:port]"
    )


def parse_smtp_url(url: str) -> SmtpConfig:
    """The SMTP server an URL names; SettingsError (naming AGENDUM_SMTP_URL) when it is unusable."""
    url = url.strip()
    if not url:
        raise _refuse("empty")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise _refuse("contains spaces or control characters")
    if "://" not in url:
        raise _refuse("it does not start with smtp:// or smtps://")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise _refuse(f"not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"{scheme!r}" if scheme else "missing"
        raise _refuse(f"the scheme is {shown}, not smtp or smtps")
    host = parts.hostname
    if not host:
        raise _refuse("the host is missing")
    try:
        port = parts.port
    except ValueError:
        raise _refuse("the port is not a number from 1 to 65535") from None
    if port is None:
        if parts.netloc.endswith(":"):
            raise _refuse("the port is empty")
        port = DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise _refuse("the port is not a number from 1 to 65535")
    if parts.path not in ("", "/"):
        raise _refuse(f"unexpected path {parts.path!r}")
    if parts.fragment:
        raise _refuse("unexpected fragment (#...)")
    options: dict[str, str] = {}
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _refuse(f"cannot read the options {parts.query!r}") from None
    for name, value in pairs:
        if name not in OPTIONS:
            raise _refuse(f"unknown option {name!r} (known: {', '.join(OPTIONS)})")
        if name in options:
            raise _refuse(f"option {name!r} given twice")
        options[name] = value
    start_tls = _boolean("starttls", options.get("starttls", "false"))
    if start_tls and scheme == "smtps":
        raise _refuse("starttls=true cannot be combined with smtps:// (the connection is already encrypted)")
    timeout = _seconds(options.get("timeout"))
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise _refuse("a password is given without a user name")
    if username and not password:
        raise _refuse("a user name is given without a password")
    return SmtpConfig(host, port, username, password, scheme == "smtps", start_tls, timeout)


def _boolean(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return True
    if lowered in FALSE:
        return False
    raise _refuse(f"option {name}={value!r} is not true or false")


def _seconds(value: str | None) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= 600):
        raise _refuse(f"option timeout={value!r} is not a number of seconds above 0 and at most 600")
    return seconds
