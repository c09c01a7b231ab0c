"""Settings read from the environment (all `AGENDUM_*`)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from typing import TYPE_CHECKING, Mapping

from core.email.smtp import parse_smtp_url
from core.errors import SettingsError

if TYPE_CHECKING:
    from core.email.delivery import DeliveryConfig

DEMO_SECRET = "demo-secret-key-not-for-production-use-000000"
DEFAULT_DATABASE_URL = "sqlite://agendum.sqlite3"
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128
MAKE_A_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
MIN_BODY_BYTES, MAX_BODY_BYTES = 1024, 2**30


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` attempts per `window` seconds for one key."""

    limit: int
    window: float

    def __str__(self) -> str:
        """As the settings write it: `attempts/seconds`."""
        return f"{self.limit}/{self.window:g}"


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = ""
    # Earlier keys, still accepted when verifying what they signed (links, cookies, forms); never used to sign.
    secret_key_fallbacks: tuple[str, ...] = ()
    base_url: str = "http://127.0.0.1:8000"
    debug: bool = False
    demo: bool = False
    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    staff_token_hours: int = 24 * 30
    # Attempts at one account (staff or portal) from one client network (/24, /64), and from every
    # network together (the ceiling, against guessing spread over many networks); per client IP.
    login_limit_per_account: RateLimit = RateLimit(10, 15 * 60)
    login_ceiling_per_account: RateLimit = RateLimit(100, 15 * 60)
    login_limit_per_ip: RateLimit = RateLimit(30, 15 * 60)
    # Attempts at link tokens (action links, one-time links...): per client IP, per token and client
    # network, and per token from every network together (the ceiling).
    link_limit_per_ip: RateLimit = RateLimit(120, 60)
    link_limit_per_token: RateLimit = RateLimit(30, 60)
    link_ceiling_per_token: RateLimit = RateLimit(300, 60)
    # Free-slot work (core.availability.cost units) one request may ask for: customers' slot fields and
    # pages, and staff's availableSlots. Sized in bench/slot_cost.py.
    slot_budget: int = 12_000
    staff_slot_budget: int = 36_000
    # Customers' slot fields (every alias) and slot pages, counted per client IP.
    slot_limit_per_ip: RateLimit = RateLimit(30, 60)
    max_query_depth: int = 12
    max_aliases: int = 15
    max_tokens: int = 2000
    # Request bodies over this many bytes are refused with 413 before they are read (web/body_limit.py).
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    expose_process_id: bool = False
    mail_from: str = "Agendum <no-reply@agendum.local>"
    load_entry_points: bool = True
    # Outgoing email (core/email/smtp.py parses the URL); empty: nothing is sent (the demo uses its dev mailbox).
    smtp_url: str = ""
    # Run the outbox worker inside the app process (off when separate `agendum worker` processes send).
    run_worker: bool = True
    # Tuning of the outbox worker (core.email.delivery.DeliveryConfig); None: its defaults. Tests shorten it.
    delivery: "DeliveryConfig | None" = None
    # Shared rate-limit counters (core.security.ratelimit.RedisLimiter) when several processes serve; empty: in memory.
    redis_url: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Read `AGENDUM_*` variables; keyword overrides win (the CLI passes `demo=True`)."""
        env = os.environ if environ is None else environ
        get = lambda name, default="": env.get(f"AGENDUM_{name}", default)  # noqa: E731
        settings = cls(
            database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL),
            secret_key=get("SECRET_KEY"),
            secret_key_fallbacks=tuple(k.strip() for k in get("SECRET_KEY_FALLBACKS").split(",") if k.strip()),
            base_url=get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
            debug=_flag(get("DEBUG")),
            demo=_flag(get("DEMO")),
            cors_origins=tuple(o.strip() for o in get("CORS_ORIGINS").split(",") if o.strip()),
            trusted_proxies=parse_networks(get("TRUSTED_PROXIES")),
            staff_token_hours=_hours("STAFF_TOKEN_HOURS", get("STAFF_TOKEN_HOURS", "720")),
            login_ceiling_per_account=_rate("LOGIN_CEILING_PER_ACCOUNT", get("LOGIN_CEILING_PER_ACCOUNT", str(cls.login_ceiling_per_account))),
            link_limit_per_ip=_rate("LINK_LIMIT_PER_IP", get("LINK_LIMIT_PER_IP", str(cls.link_limit_per_ip))),
            link_limit_per_token=_rate("LINK_LIMIT_PER_TOKEN", get("LINK_LIMIT_PER_TOKEN", str(cls.link_limit_per_token))),
            link_ceiling_per_token=_rate("LINK_CEILING_PER_TOKEN", get("LINK_CEILING_PER_TOKEN", str(cls.link_ceiling_per_token))),
            slot_budget=_budget("SLOT_BUDGET", get("SLOT_BUDGET", str(cls.slot_budget))),
            staff_slot_budget=_budget("STAFF_SLOT_BUDGET", get("STAFF_SLOT_BUDGET", str(cls.staff_slot_budget))),
            slot_limit_per_ip=_rate("SLOT_LIMIT_PER_IP", get("SLOT_LIMIT_PER_IP", str(cls.slot_limit_per_ip))),
            max_body_bytes=_body_bytes(get("MAX_BODY_BYTES", str(DEFAULT_MAX_BODY_BYTES))),
            expose_process_id=_flag(get("EXPOSE_PROCESS_ID")),
            mail_from=get("MAIL_FROM", "Agendum <no-reply@agendum.local>"),
            load_entry_points=get("LOAD_ENTRY_POINTS", "1").strip().lower() not in {"0", "false", "no", "off"},
            smtp_url=get("SMTP_URL").strip(),
            run_worker=_switch("RUN_WORKER", get("RUN_WORKER", "true")),
            redis_url=_redis_url(get("REDIS_URL").strip()),
        )
        return replace(settings, **overrides)

    def checked(self) -> "Settings":
        """Return settings fit to serve, filling the demo secret; refuse a missing or weak secret
        key or fallback key, and an unusable SMTP URL or sender address."""
        self.check_delivery()
        if self.demo and not self.secret_key:
            return replace(self, secret_key=DEMO_SECRET)
        if not self.secret_key:
            raise SettingsError(
                "AGENDUM_SECRET_KEY is not set. Set it to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters, e.g. the output of `{MAKE_A_SECRET}`, "
                "or run the demo with `agendum serve --demo`."
            )
        if not self.demo:
            _check_secret("AGENDUM_SECRET_KEY", self.secret_key)
            for number, key in enumerate(self.secret_key_fallbacks, 1):
                _check_secret(f"AGENDUM_SECRET_KEY_FALLBACKS (key {number})", key)
        return self

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The key that signs everything new, then the fallback keys that still verify, in order."""
        return tuple(dict.fromkeys((self.secret_key, *self.secret_key_fallbacks)))

    def check_delivery(self) -> None:
        """Refuse an unusable AGENDUM_SMTP_URL or AGENDUM_MAIL_FROM (SettingsError says which)."""
        self.smtp
        _, address = parseaddr(self.mail_from)
        if "@" not in address or any(ch in self.mail_from for ch in "\r\n"):
            raise SettingsError(
                f"AGENDUM_MAIL_FROM: {self.mail_from!r} is not an email address; "
                "use e.g. `Agendum <no-reply@example.com>` or `no-reply@example.com`"
            )

    @property
    def smtp(self):
        """The SMTP server (core.email.smtp.SmtpConfig) from AGENDUM_SMTP_URL, or None when unset."""
        return parse_smtp_url(self.smtp_url) if self.smtp_url else None

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


def _check_secret(name: str, key: str) -> None:
    """Refuse a key that is short, the demo's, or guessable (under 128 bits as core.security.strength estimates)."""
    from core.security.strength import secret_bits  # zxcvbn is loaded only when a key is checked

    if len(key) < MIN_SECRET_LENGTH or key == DEMO_SECRET or secret_bits(key) < MIN_SECRET_BITS:
        raise SettingsError(
            f"{name} is too weak: use at least {MIN_SECRET_LENGTH} random characters worth {MIN_SECRET_BITS} bits "
            "(repeated characters, sequences and words count for little; the demo key is refused outside "
            f"demo mode). Make one with `{MAKE_A_SECRET}`."
        )


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _switch(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise SettingsError(f"AGENDUM_{name}: {value!r} is not true or false")
    return lowered in {"1", "true", "yes", "on"}


def _redis_url(value: str) -> str:
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"AGENDUM_REDIS_URL: {value!r} is not a redis://, rediss:// or unix:// URL")
    return value


def _hours(name: str, value: str) -> int:
    if not value.strip().isdecimal() or not 1 <= int(value) <= 100_000:
        raise SettingsError(f"AGENDUM_{name}: {value!r} is not a whole number of hours from 1 to 100000")
    return int(value)


def _budget(name: str, value: str) -> int:
    if not value.strip().isdecimal() or not 1 <= int(value) <= 100_000_000:
        raise SettingsError(f"AGENDUM_{name}: {value!r} is not a whole number from 1 to 100000000")
    return int(value)


def _body_bytes(value: str) -> int:
    if not value.strip().isdecimal() or not MIN_BODY_BYTES <= int(value) <= MAX_BODY_BYTES:
        raise SettingsError(
            f"AGENDUM_MAX_BODY_BYTES: {value!r} is not a whole number of bytes from {MIN_BODY_BYTES} to "
            f"{MAX_BODY_BYTES} (default {DEFAULT_MAX_BODY_BYTES}, 1 MB)"
        )
    return int(value)


def _rate(name: str, value: str) -> RateLimit:
    return parse_rate(value, f"AGENDUM_{name}")


def parse_rate(value: str, name: str) -> RateLimit:
    """A rate limit written `attempts/seconds`, e.g. `120/60`."""
    attempts, _, seconds = value.partition("/")
    try:
        rule = RateLimit(int(attempts), float(seconds))
    except ValueError:
        raise SettingsError(f"{name}: {value!r} is not written attempts/seconds, e.g. 120/60") from None
    if rule.limit < 1 or rule.window <= 0:
        raise SettingsError(f"{name}: {value!r} needs at least 1 attempt over a positive number of seconds")
    return rule


def parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Parse a comma-separated list of IPs or CIDR networks; refuse anything else."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"AGENDUM_TRUSTED_PROXIES: {part!r} is not an IP address or network") from None
    return tuple(networks)
