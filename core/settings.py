"""Settings read from the environment (all `AGENDUM_*`): one strict pydantic-settings model.

`Settings.from_env()` reads the variables; `Settings(...)` takes keyword arguments only (tests,
commands) and never looks at the environment. A bad value is refused with a `SettingsError` of one
line per variable, naming it. True/false settings accept true/false, 1/0, yes/no and on/off in any
case, and nothing else."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from core.email.smtp import parse_smtp_url
from core.errors import SettingsError

DEMO_SECRET = "demo-secret-key-not-for-production-use-000000"
DEFAULT_DATABASE_URL = "sqlite://agendum.sqlite3"
DEMO_BASE_URL = "http://127.0.0.1:8000"
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128
MAKE_A_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MIN_BODY_BYTES, MAX_BODY_BYTES = 1024, 2**30
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
PREFIX = "AGENDUM_"
CODE_ONLY: JsonDict = {"env": False}  # a field set by code (tests, commands), never read from the environment


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` attempts per `window` seconds for one key."""

    limit: int
    window: float

    def __str__(self) -> str:
        """As the settings write it: `attempts/seconds`."""
        return f"{self.limit}/{self.window:g}"


# ---------------------------------------------------------------- parsers (raise ValueError)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower() if isinstance(value, str) else None
    if lowered not in TRUE + FALSE:
        raise ValueError(f"{value!r} is not true or false (use true/false, 1/0, yes/no or on/off)")
    return lowered in TRUE


def _whole(low: int, high: int, what: str = "", note: str = "") -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        text = value.strip() if isinstance(value, str) else None
        number = int(text) if text is not None and text.isdecimal() else value
        if type(number) is not int or not low <= number <= high:
            raise ValueError(f"{value!r} is not a whole number{what} from {low} to {high}{note}")
        return number

    return parse


def _rate(value: Any) -> RateLimit:
    if isinstance(value, RateLimit):
        rule = value
    else:
        attempts, _, seconds = str(value).partition("/")
        try:
            rule = RateLimit(int(attempts), float(seconds))
        except ValueError:
            raise ValueError(f"{value!r} is not written attempts/seconds, e.g. 120/60") from None
    if rule.limit < 1 or not rule.window > 0:
        raise ValueError(f"{value!r} needs at least 1 attempt over a positive number of seconds")
    return rule


def _items(value: Any) -> tuple:
    """A comma-separated variable's items, blanks dropped; a sequence given by code as it is."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


DEFAULT_CORS_HEADERS = (
    "authorization",
    "content-type",
    "idempotency-key",
    "x-request-id",
    "apollographql-client-name",
    "apollographql-client-version",  # Apollo Client
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",  # W3C trace context, Sentry
)
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def _header_names(value: Any) -> tuple[str, ...]:
    names = tuple(name.lower() for name in _items(value))
    for name in names:
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an HTTP header name")
    return names


def _networks(value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for part in _items(value):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(networks)


def _origins(value: Any) -> tuple[str, ...]:
    origins = _items(value)
    for origin in origins:
        try:
            parts = urlsplit(origin)
            parts.port  # noqa: B018 - raises on a port that is no number
        except (ValueError, AttributeError):
            parts = None
        if (
            parts is None
            or not parts.scheme
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or "@" in parts.netloc
        ):
            raise ValueError(
                f"{origin!r} is not an origin scheme://host[:port], e.g. https://app.example.com "
                "(no path, no trailing slash)"
            )
    return origins


def _base_url(value: Any) -> str:
    url = str(value).strip().rstrip("/")
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ValueError(f"{value!r} is not an http:// or https:// address, e.g. https://book.example.com")
    return url


def _scheme(url: str) -> str:
    return url.partition("://")[0] if "://" in url else ""


def _database_url(value: Any) -> str:
    url = str(value).strip()
    scheme = _scheme(url).lower()  # never repeat the URL: it may hold a password
    if scheme not in ("sqlite", "postgres", "postgresql"):
        found = f"the scheme is {scheme!r}" if scheme else "it has no scheme://"
        raise ValueError(
            f"not a database URL ({found}): use sqlite://path.sqlite3 or postgres://user:password@host:5432/database"
        )
    if scheme == "sqlite":
        if not url[len("sqlite://") :]:
            raise ValueError("a sqlite:// URL names a file: sqlite://path.sqlite3")
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError:
        raise ValueError("the port is not a number from 1 to 65535") from None
    if not (parts.hostname and parts.path.strip("/")):
        raise ValueError("a postgres:// URL names a host and a database: postgres://user:password@host:5432/database")
    return url


def _redis_url(value: Any) -> str:
    url = str(value).strip()
    if url and _scheme(url).lower() not in ("redis", "rediss", "unix"):
        raise ValueError(f"not a redis://, rediss:// or unix:// URL (the scheme is {_scheme(url)!r})")
    return url


def _smtp_url(value: Any) -> str:
    url = str(value).strip()
    if url:
        try:
            parse_smtp_url(url)
        except SettingsError as error:
            raise ValueError(str(error).removeprefix(f"{PREFIX}SMTP_URL: ")) from None
    return url


def _mail_from(value: Any) -> str:
    _, address = parseaddr(value)
    if "@" not in address or any(ch in value for ch in "\r\n"):
        raise ValueError(
            f"{value!r} is not an email address; use e.g. `Agendum <no-reply@example.com>` or `no-reply@example.com`"
        )
    return value


# Field types read by their parser from a variable's text (or checked when code gives the value).
Flag = Annotated[bool, NoDecode, BeforeValidator(_flag)]
Rate = Annotated[RateLimit, NoDecode, BeforeValidator(_rate)]
Items = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_items)]
Origins = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_origins)]
HeaderNames = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_header_names)]
Networks = Annotated[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...], NoDecode, BeforeValidator(_networks)]
Hours = Annotated[int, NoDecode, BeforeValidator(_whole(1, 100_000, " of hours"))]
Budget = Annotated[int, NoDecode, BeforeValidator(_whole(1, 100_000_000))]
BodyBytes = Annotated[
    int,
    NoDecode,
    BeforeValidator(_whole(MIN_BODY_BYTES, MAX_BODY_BYTES, " of bytes", f" (default {DEFAULT_MAX_BODY_BYTES}, 1 MB)")),
]
DatabaseUrl = Annotated[str, NoDecode, BeforeValidator(_database_url)]
BaseUrl = Annotated[str, NoDecode, BeforeValidator(_base_url)]
RedisUrl = Annotated[str, NoDecode, BeforeValidator(_redis_url)]
SmtpUrl = Annotated[str, NoDecode, BeforeValidator(_smtp_url)]
MailFrom = Annotated[str, NoDecode, BeforeValidator(_mail_from)]


class Settings(BaseSettings):
    """Everything the app needs to know about its environment (frozen; `replace` makes a changed copy).
    Its repr leaves out the keys and the URLs that may hold passwords."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="forbid", validate_default=True)

    database_url: DatabaseUrl = Field(
        DEFAULT_DATABASE_URL, repr=False, description=("`sqlite://path.sqlite3` or `postgres://user:pass@host:5432/db`")
    )
    secret_key: str = Field(
        "",
        repr=False,
        description=(
            "signs links, session cookies and forms: at least 32 random characters worth 128 bits (repeats, sequences "
            "and words count for little); make one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`; "
            "required outside demo mode (the demo has its own), where a missing or weak key stops the server from "
            "starting, and by `agendum worker` (it reads and derives the customers' links in emails with it)"
        ),
    )
    # Earlier keys, still accepted when verifying what they signed (links, cookies, forms); never used to sign.
    secret_key_fallbacks: Items = Field(
        (),
        repr=False,
        description=(
            "comma-separated earlier keys, as strong: what they signed still verifies, nothing new uses them "
            "(see *Rotating the secret key*)"
        ),
    )
    base_url: BaseUrl = Field(
        "",
        description=(
            "public address (`http://` or `https://`), used in every link the app makes and emails; required outside "
            "demo mode and by `agendum worker`; the demo's is where `serve` listens (`http://127.0.0.1:8000`)"
        ),
    )
    debug: Flag = Field(False, description="`true` shows unexpected errors instead of masking them")
    demo: Flag = Field(
        False,
        description=(
            "`true` runs demo mode (what `serve --demo` sets): the demo secret key and, without `AGENDUM_SMTP_URL`, "
            "the dev mailbox; loopback addresses only"
        ),
    )
    cors_origins: Origins = Field(
        (), description=("comma-separated origins (`scheme://host[:port]`) allowed to call `/graphql` from a browser")
    )
    cors_headers: HeaderNames = Field(
        DEFAULT_CORS_HEADERS,
        description=(
            "comma-separated request headers a browser at an allowed origin may send (replaces the default, which "
            "covers bearer tokens, `Idempotency-Key`, `X-Request-Id`, Apollo's client name and version, W3C trace "
            "context and Sentry); `Retry-After` and `X-Request-Id` are always readable by scripts"
        ),
    )
    trusted_proxies: Networks = Field(
        (), description=("comma-separated IPs/networks whose `X-Forwarded-For` is believed")
    )
    staff_token_hours: Hours = Field(24 * 30, description=("lifetime of staff tokens, in hours"))
    # Attempts at one account (staff or portal) from one client network (/24, /64), and from every
    # network together (the ceiling, against guessing spread over many networks); per client IP.
    login_limit_per_account: Rate = Field(RateLimit(10, 15 * 60), json_schema_extra=CODE_ONLY)
    login_ceiling_per_account: Rate = Field(
        RateLimit(100, 15 * 60),
        description=(
            "password attempts at one staff or portal account from every network together; from one client network "
            "the limit is 10 per 15 minutes, so a stranger elsewhere cannot lock the owner out (docs/api.md, "
            "*Rate limits*), `attempts/seconds`"
        ),
    )
    login_limit_per_ip: Rate = Field(RateLimit(30, 15 * 60), json_schema_extra=CODE_ONLY)
    # Attempts at link tokens (action links, one-time links...): per client IP, per token and client
    # network, and per token from every network together (the ceiling).
    link_limit_per_ip: Rate = Field(
        RateLimit(120, 60),
        description=("attempts at link tokens (pages and GraphQL fields) per client IP, written `attempts/seconds`"),
    )
    link_limit_per_token: Rate = Field(
        RateLimit(30, 60),
        description=(
            "attempts at one link token from one client network (/24 for IPv4, /64 for IPv6), written "
            "`attempts/seconds`"
        ),
    )
    link_ceiling_per_token: Rate = Field(
        RateLimit(300, 60),
        description=(
            "attempts at one link token from every network together (the ceiling against guessing from many "
            "networks), `attempts/seconds`"
        ),
    )
    # Free-slot work (core.availability.cost units) one request may ask for: customers' slot fields and
    # pages, and staff's availableSlots. Sized in bench/slot_cost.py.
    slot_budget: Budget = Field(
        12_000,
        description=(
            "the most free-slot work one customer request (or slot page) may ask for, in the cost units of "
            "docs/api.md; over it: `QueryTooCostly`; the default is at most about 1 s of server CPU "
            "(`bench/slot_cost.py`)"
        ),
    )
    staff_slot_budget: Budget = Field(36_000, description=("the same for staff's `availableSlots`"))
    # Customers' slot fields (every alias) and slot pages, counted per client IP.
    slot_limit_per_ip: Rate = Field(
        RateLimit(30, 60),
        description=("customers' slot fields (every alias) and slot pages per client IP, `attempts/seconds`"),
    )
    max_query_depth: int = Field(12, json_schema_extra=CODE_ONLY)
    max_aliases: int = Field(15, json_schema_extra=CODE_ONLY)
    max_tokens: int = Field(2000, json_schema_extra=CODE_ONLY)
    # Request bodies over this many bytes are refused with 413 before they are read (web/body_limit.py).
    max_body_bytes: BodyBytes = Field(
        DEFAULT_MAX_BODY_BYTES,
        description=(
            "largest request body accepted, in bytes (1024 to 1073741824; the default is 1 MB); a larger one is "
            "refused with 413 before it is read: a JSON error from `/graphql`, a page from customer pages. Logo "
            "uploads keep their own limit (512 KB)"
        ),
    )
    expose_process_id: Flag = Field(
        False,
        description=(
            "`true` adds an `X-Agendum-Pid` header to every response (tests use it to see which server process "
            "answered)"
        ),
    )
    mail_from: MailFrom = Field("Agendum <no-reply@agendum.local>", description="sender of every email")
    load_entry_points: Flag = Field(
        True, description=("`false` to ignore third-party plugins installed with the `agendum` entry point")
    )
    # Outgoing email (core/email/smtp.py parses the URL); empty: nothing is sent (the demo uses its dev mailbox).
    smtp_url: SmtpUrl = Field(
        "",
        repr=False,
        description=(
            "where email goes: `smtp://host:25`, `smtp://user:pass@host:587?starttls=true`, "
            "`smtps://user:pass@host:465`; option `timeout=10` (seconds, e.g. `smtp://host?timeout=5`); user and "
            "password percent-encoded; without it emails stay queued (the demo uses its dev mailbox)"
        ),
    )
    # Run the outbox worker inside the app process (off when separate `agendum worker` processes send).
    run_worker: Flag = Field(True, description="`false` when separate `agendum worker` processes deliver email")
    # Tuning of the outbox worker (core.email.delivery.DeliveryConfig); None: its defaults. Tests shorten it.
    delivery: Any = Field(None, json_schema_extra=CODE_ONLY)
    # Shared rate-limit counters (core.security.ratelimit.RedisLimiter) when several processes serve; empty: in memory.
    redis_url: RedisUrl = Field(
        "",
        repr=False,
        description=(
            "`redis://host:6379/0`: rate limits shared by every server process and host; without it they are "
            "counted in each process"
        ),
    )
    # Cost of new password hashes: a profile of argon2.profiles (the test kit uses the cheapest;
    # checking a password always takes the cost its hash was made with).
    password_hash_profile: Literal["RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "CHEAPEST"] = Field(
        "RFC_9106_LOW_MEMORY", json_schema_extra=CODE_ONLY
    )

    def __init__(self, **values: Any) -> None:
        """Settings of these values (the others: defaults); SettingsError, one line per bad value."""
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise SettingsError(_describe(error)) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        *_positional: Any,
        **_sources: Any,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments only: `from_env` reads the environment it is given."""
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read `AGENDUM_*` variables; keyword overrides win (the CLI passes `demo=True`)."""
        values = _Environment(cls, os.environ if environ is None else environ)()
        return cls(**{**values, **overrides})

    def replace(self, **changes: Any) -> Settings:
        """A copy with these fields changed, checked like any settings."""
        return type(self)(**{**{name: getattr(self, name) for name in type(self).model_fields}, **changes})

    def with_secret_key(self) -> Settings:
        """Return settings with a key to sign with (the demo's in demo mode when none is set); refuse
        a missing or weak secret key or fallback key."""
        return self._checked(need_base_url=False)

    def checked(self) -> Settings:
        """Return settings fit to serve: a secret key as `with_secret_key` requires, and outside demo
        mode a base URL (the demo's defaults to where `serve` listens); every problem, one line each."""
        return self._checked(need_base_url=True)

    def _checked(self, need_base_url: bool) -> Settings:
        problems = self._key_problems()
        if need_base_url and not self.base_url and not self.demo:
            problems.append(
                f"{PREFIX}BASE_URL is not set: set it to the public address every link points at, e.g. "
                "https://book.example.com (only the demo defaults to where it listens)"
            )
        if problems:
            raise SettingsError("\n".join(problems))
        if not self.demo or (self.secret_key and self.base_url):
            return self
        return self.replace(secret_key=self.secret_key or DEMO_SECRET, base_url=self.base_url or DEMO_BASE_URL)

    def _key_problems(self) -> list[str]:
        if self.demo:
            return []
        if not self.secret_key:
            return [
                f"{PREFIX}SECRET_KEY is not set. Set it to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters, e.g. the output of `{MAKE_A_SECRET}`, "
                "or run the demo with `agendum serve --demo`."
            ]
        keys = [(f"{PREFIX}SECRET_KEY", self.secret_key)]
        keys += [(f"{PREFIX}SECRET_KEY_FALLBACKS (key {n})", key) for n, key in enumerate(self.secret_key_fallbacks, 1)]
        return [problem for name, key in keys if (problem := _secret_problem(name, key))]

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The key that signs everything new, then the fallback keys that still verify, in order."""
        return tuple(dict.fromkeys((self.secret_key, *self.secret_key_fallbacks)))

    @property
    def smtp(self):
        """The SMTP server (core.email.smtp.SmtpConfig) from AGENDUM_SMTP_URL, or None when unset."""
        return parse_smtp_url(self.smtp_url) if self.smtp_url else None

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


class _Environment(EnvSettingsSource):
    """The `AGENDUM_*` variables of one environment mapping, for the fields read from it."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env_vars = parse_env_vars(environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """The variable's text, or nothing for a field that code alone sets."""
        if not is_variable(field):
            return None, field_name, False
        return super().get_field_value(field, field_name)


def is_variable(field: FieldInfo) -> bool:
    """True for a setting read from an `AGENDUM_*` variable (not one code alone sets)."""
    return field.json_schema_extra != CODE_ONLY


def variables() -> dict[str, FieldInfo]:
    """Every `AGENDUM_*` variable and its field, in the model's order."""
    return {f"{PREFIX}{name.upper()}": field for name, field in Settings.model_fields.items() if is_variable(field)}


def settings_table() -> str:
    """README's table of settings (Markdown): each variable, its meaning, its default."""
    rows = ["| variable | meaning | default |", "|---|---|---|"]
    for name, field in variables().items():
        default = field.default
        if isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        elif default in ("", ()):
            shown = "none"
        elif isinstance(default, tuple):
            shown = ", ".join(f"`{item}`" for item in default)
        else:
            shown = f"`{default}`"
        rows.append(f"| `{name}` | {field.description} | {shown} |")
    return "\n".join(rows) + "\n"


def _describe(error: ValidationError) -> str:
    """One line per refused variable: `AGENDUM_NAME: what is wrong`."""
    lines = []
    for problem in error.errors(include_url=False):
        name = f"{PREFIX}{str(problem['loc'][0]).upper()}" if problem["loc"] else "Settings"
        cause = problem.get("ctx", {}).get("error")
        message = str(cause) if problem["type"] == "value_error" and cause is not None else problem["msg"]
        lines.append(f"{name}: {message}")
    return "\n".join(dict.fromkeys(lines))


def _secret_problem(name: str, key: str) -> str | None:
    """Why a key is refused: short, the demo's, or guessable (under 128 bits as core.security.strength estimates)."""
    from core.security.strength import secret_bits  # zxcvbn is loaded only when a key is checked

    if len(key) < MIN_SECRET_LENGTH or key == DEMO_SECRET or secret_bits(key) < MIN_SECRET_BITS:
        return (
            f"{name} is too weak: use at least {MIN_SECRET_LENGTH} random characters worth {MIN_SECRET_BITS} bits "
            "(repeated characters, sequences and words count for little; the demo key is refused outside "
            f"demo mode). Make one with `{MAKE_A_SECRET}`."
        )
    return None


def parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parse a comma-separated list of IPs or CIDR networks; refuse anything else."""
    try:
        return _networks(value)
    except ValueError as error:
        raise SettingsError(f"{PREFIX}TRUSTED_PROXIES: {error}") from None
