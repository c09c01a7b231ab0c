"""Page parameters never cause a 500. Every customer page declares what it reads from its address
and its form (web/params.py); the sweep below is generated from the app's own routes and those
declarations, so a new page or parameter cannot escape it: each parameter, and each part of each
page's path, gets hostile values (far dates, garbage, huge and negative numbers, other scripts'
digits, control characters, very long text), and every answer must be an HTML page with a
message. With every plugin on, on both databases, for a signed-in portal customer, an action link
and a one-time link."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from conftest import make_settings
from helpers import local
from portal_helpers import (
    BOOK,
    CSRF_RE,
    PASSWORD,
    link_in,
    portal_clinic,
    registered,
    sign_in_link_from_action_page,
    signed_up,
)
from starlette.routing import Mount, Route

from app import create_app
from core import clock
from core.models import Appointment
from core.settings import RateLimit
from plugins.action_links.links import token_for
from web.csrf import csrf_token
from web.params import declared_params
from web.slot_picker import window

ROOT = Path(__file__).resolve().parent.parent
# Not customer pages: the API, the health check, and logos (staff upload them; anyone fetches them).
NOT_PAGES = {
    "/graphql",
    "/graphql/assets/{name}",
    "/healthz",
    "/locations/{location_id}/logo",
}  # GraphiQL assets: files, no page
# The only modules that read a request's query or form themselves (web/csrf.py the CSRF field,
# web/branding.py the staff's logo upload); every page reads through web/params.py.
READ_DIRECTLY = {"web/params.py", "web/csrf.py", "web/branding.py"}
HOSTILE = [
    "2200-12-31",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00-12:00",
    "2026-12-01T10:00:00",
    "garbage",
    str(10**30),
    "-1",
    "٢٠٢٦-١٢-٠١",
    "２０２６-１２-０１",
    "",
    "x" * 3000,
    "a\x00b\x1b[2J",
    "line\r\nbreak",
]
# In a path the server itself refuses control characters, before the app sees them.
HOSTILE_IN_PATH = ["garbage", str(10**30), "-1", "٢٠٢٦", "x" * 3000, "9999-12-31"]
UNLIMITED = RateLimit(1_000_000, 60)
CANCEL_TAKES_NOTICE = {"cancellationNoticeHours": 8760}  # so a hostile note never cancels anything
CREATE_LINK = "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { url } } }"


def app_routes(app) -> list[tuple[str, Route]]:
    """Every route of the app as (full path template without convertors, route), through mounts."""
    found = []

    def walk(routes, prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(route.routes, prefix + route.path)
            else:
                found.append((re.sub(r":\w+}", "}", prefix + route.path), route))

    walk(app.routes, "")
    return found


def every_app(database_url: str):
    """An app with every page there is: the plugins and the dev mailbox (demo mode)."""
    return create_app(make_settings(database_url, demo=True))


def test_every_page_declares_what_it_reads():
    app = every_app("sqlite://:memory:")
    pages = [(path, route) for path, route in app_routes(app) if path not in NOT_PAGES]
    assert {path.split("/")[1] for path, _ in pages} == {"action", "book", "portal", "dev"}
    undeclared = [path for path, route in pages if declared_params(route.endpoint) is None]
    assert not undeclared, f"pages that do not declare their parameters (web.params.reads): {undeclared}"


def test_no_page_reads_its_query_or_form_around_the_declarations():
    readers = []
    for source in [*ROOT.glob("plugins/**/*.py"), *ROOT.glob("web/*.py"), ROOT / "app.py"]:
        name = str(source.relative_to(ROOT))
        if name not in READ_DIRECTLY and re.search(r"query_params|\.form\(\)", source.read_text()):
            readers.append(name)
    assert not readers, f"read request parameters through web.params instead: {readers}"


@dataclass
class Scene:
    """How to reach one page for real: its path parameters, valid values for what it reads, and
    the binding of its forms' CSRF token (a link token; None: the customer's session)."""

    path: dict[str, str]
    valid: dict[str, str] = field(default_factory=dict)
    binding: str | None = None
    server: str = "app"


async def _world(api_factory, smtp):
    """A clinic with every plugin on; a signed-in portal customer with an appointment; an action
    link, a one-time link, an emailed address confirmation and password link, a sign-in link."""
    limits = dict(
        link_limit_per_ip=UNLIMITED,
        link_limit_per_token=UNLIMITED,
        login_limit_per_ip=UNLIMITED,
        login_limit_per_account=UNLIMITED,
        slot_limit_per_ip=UNLIMITED,
    )
    api = await api_factory(smtp_url=smtp.url(), **limits)
    mailbox = await api_factory(demo=True, run_worker=False, **limits)
    clinic, slug = await portal_clinic(api, rules=CANCEL_TAKES_NOTICE)
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    grace = await signed_up(api, smtp, slug, "grace@example.com")
    taken = local(clinic.tz, 3, 10)
    own = (await grace.gql(BOOK, {"i": {"serviceId": clinic.service, "start": taken.isoformat()}}))["portalBook"]
    assert own["__typename"] == "PortalAppointment", own
    appointment, from_link = await sign_in_link_from_action_page(api, clinic, grace)
    action = await token_for(api.settings, await Appointment.get(id=appointment.id))
    one_time = (await api.data(CREATE_LINK, {"c": clinic.calendar}))["createOneTimeLink"]["url"].rsplit("/", 1)[1]
    _, verify_link = await registered(api, smtp, slug, "alan@example.com", "Alan", "Turing")
    sent = len(smtp.received)
    await grace.gql(
        'mutation($s: String!) { portalRequestPasswordReset(slug: $s, email: "grace@example.com") { __typename } }',
        {"s": slug},
    )
    await smtp.wait_for(sent + 1)
    password = link_in(smtp.received[sent]).rsplit("/", 1)[1]
    verify = verify_link.rsplit("/", 1)[1]
    service, calendar, start = (
        clinic.service,
        clinic.calendar,
        taken.isoformat(),
    )  # `start` is taken: nothing gets booked
    portal = {"slug": slug}
    scenes = {
        ("GET", "/action/{token}"): Scene({"token": action}),
        ("GET", "/action/{token}/reschedule"): Scene({"token": action}, {"from": str(taken.date())}),
        ("POST", "/action/{token}/confirm"): Scene({"token": action}, binding=action),
        ("POST", "/action/{token}/reschedule"): Scene(
            {"token": action}, {"start": start, "sequence": "0"}, binding=action
        ),
        ("POST", "/action/{token}/cancel"): Scene({"token": action}, {"note": "sorry"}, binding=action),
        ("GET", "/book/{token}"): Scene({"token": one_time}, {"service": service}),
        ("POST", "/book/{token}"): Scene(
            {"token": one_time},
            {"service": service, "start": start, "first_name": "Ada", "last_name": "Byron", "email": "ada@example.org"},
            binding=one_time,
        ),
        ("GET", "/portal/{slug}"): Scene(portal),
        ("GET", "/portal/{slug}/book"): Scene(portal, {"service": service, "calendar": calendar}),
        ("POST", "/portal/{slug}/book"): Scene(
            portal, {"service": service, "calendar": calendar, "start": start, "accept_terms": "yes"}
        ),
        ("GET", "/portal/{slug}/cancel/{appointment}"): Scene({**portal, "appointment": own["id"]}),
        ("POST", "/portal/{slug}/cancel/{appointment}"): Scene({**portal, "appointment": own["id"]}, {"note": "sorry"}),
        ("POST", "/portal/{slug}/login"): Scene(portal, {"email": "grace@example.com", "password": "not her password"}),
        ("POST", "/portal/{slug}/logout"): Scene(portal),
        ("GET", "/portal/{slug}/register"): Scene(portal),
        ("POST", "/portal/{slug}/register"): Scene(
            portal, {"first_name": "Ann", "last_name": "Other", "email": "ann@example.com", "password": PASSWORD}
        ),
        ("GET", "/portal/{slug}/forgot"): Scene(portal),
        ("POST", "/portal/{slug}/forgot"): Scene(portal, {"email": "nobody@example.com"}),
        ("GET", "/portal/{slug}/verify/{token}"): Scene({**portal, "token": verify}),
        ("POST", "/portal/{slug}/verify/{token}"): Scene({**portal, "token": verify}, binding=verify),
        ("GET", "/portal/{slug}/password/{token}"): Scene({**portal, "token": password}),
        ("POST", "/portal/{slug}/password/{token}"): Scene(
            {**portal, "token": password},
            {"password": "one new password", "password_again": "another one"},
            binding=password,
        ),
        ("GET", "/portal/{slug}/from-link/{token}"): Scene({**portal, "token": from_link.rsplit("/", 1)[1]}),
        ("POST", "/portal/{slug}/from-link/{token}"): Scene({**portal, "token": from_link.rsplit("/", 1)[1]}),
        ("GET", "/portal/{slug}/profile"): Scene(portal),
        ("POST", "/portal/{slug}/profile"): Scene(
            portal,
            {
                "change": "details",
                "first_name": "Grace",
                "last_name": "Hopper",
                "mobile_phone": "",
                "current_password": "not her password",
            },
        ),
        ("GET", "/dev/mailbox"): Scene({}, server="mailbox"),
        ("GET", "/dev/mailbox/{number}/invite.ics"): Scene({"number": "1"}, server="mailbox"),
    }
    return api, mailbox, grace, slug, scenes


def _is_page(response) -> bool:
    """An HTML page with a heading: something a person can read (429 would mean the sweep tested
    nothing: the limits are off here)."""
    return (
        response.status_code < 500
        and response.status_code != 429
        and response.headers.get("content-type", "").startswith("text/html")
        and "<h1>" in response.text
    )


async def test_every_parameter_of_every_page_answers_hostile_values_with_a_page(api_factory, smtp, database_url):
    # Before the servers: creating an app installs its plugin host as the process's current one.
    routes = [(path, route) for path, route in app_routes(every_app(database_url)) if path not in NOT_PAGES]
    api, mailbox, grace, slug, scenes = await _world(api_factory, smtp)
    session_csrf = CSRF_RE.search((await grace.page(f"/portal/{slug}/profile")).text).group(1)
    urls = {"app": api.url, "mailbox": mailbox.url}
    missing = [
        (method, path) for path, route in routes for method in route.methods - {"HEAD"} if (method, path) not in scenes
    ]
    assert not missing, f"pages the sweep cannot reach yet (add a Scene): {missing}"
    failures, requests = [], 0

    async def send(method: str, path: str, scene: Scene, path_values: dict, values: dict, what: str) -> None:
        nonlocal requests
        url = urls[scene.server] + path.format(**{k: quote(v, safe="") for k, v in path_values.items()})
        if method == "GET":
            response = await grace.client.get(url, params=values, follow_redirects=True)
        else:
            binding = scene.binding
            token = csrf_token(api.settings.secret_key, binding) if binding else session_csrf
            response = await grace.client.post(url, data={**values, "csrf_token": token}, follow_redirects=True)
        requests += 1
        if not _is_page(response):
            failures.append(
                (method, path, what, response.status_code, response.headers.get("content-type"), response.text[:200])
            )

    for path, route in routes:
        declared = declared_params(route.endpoint)
        for method in sorted(route.methods - {"HEAD"}):
            scene = scenes[(method, path)]
            names = [p.name for p in (declared.query if method == "GET" else declared.form)]
            assert set(scene.valid) <= set(names), (method, path, scene.valid)
            for name in names:
                for value in HOSTILE:
                    await send(method, path, scene, scene.path, {**scene.valid, name: value}, f"{name}={value[:40]!r}")
            for name in scene.path:
                for value in HOSTILE_IN_PATH:
                    await send(method, path, scene, {**scene.path, name: value}, {}, f"path {name}={value[:40]!r}")
    assert not failures, f"{len(failures)} of {requests} answers were not pages:\n" + "\n".join(
        map(repr, failures[:40])
    )
    await grace.close()


async def test_far_and_past_dates_on_slot_pages_show_the_bookable_days(api_factory, smtp):
    api, _, grace, slug, scenes = await _world(api_factory, smtp)
    action = scenes[("GET", "/action/{token}")].path["token"]
    one_time = scenes[("GET", "/book/{token}")].path["token"]
    service = scenes[("GET", "/portal/{slug}/book")].valid["service"]
    last_day = (clock.now() + dt.timedelta(days=365)).astimezone(ZoneInfo("Europe/London")).date()
    for far in ("2200-12-31", "9999-12-31", str(last_day + dt.timedelta(days=1))):
        for path in (
            f"/action/{action}/reschedule?from={far}",
            f"/book/{one_time}?service={service}&from={far}",
            f"/portal/{slug}/book?service={service}&from={far}",
        ):
            page = await grace.page(path)
            assert page.status_code == 200, (path, page.status_code, page.text[:300])
            assert f"from={last_day - dt.timedelta(days=14)}" in page.text and "Later dates" not in page.text, path
    today = clock.now().astimezone(ZoneInfo("Europe/London")).date()
    for past in ("0001-01-01", str(today - dt.timedelta(days=30))):  # a window ending before now is never asked for
        for path in (
            f"/action/{action}/reschedule?from={past}",
            f"/book/{one_time}?service={service}&from={past}",
            f"/portal/{slug}/book?service={service}&from={past}",
        ):
            page = await grace.page(path)
            assert page.status_code == 200, (path, page.status_code, page.text[:300])
            assert f"from={today + dt.timedelta(days=14)}" in page.text and "Earlier dates" not in page.text, path
    garbage = await grace.page(f"/action/{action}/reschedule?from=2026-13-01")
    assert garbage.status_code == 400 and "not a date such as 2026-12-01" in garbage.text
    await grace.close()


def test_the_window_stays_within_the_bookable_days(monkeypatch):
    tz = ZoneInfo("Pacific/Kiritimati")  # UTC+14: the local date is ahead of UTC's
    now = dt.datetime(2026, 12, 31, 11, 0, tzinfo=dt.UTC)  # 2027-01-01 01:00 local
    monkeypatch.setattr(clock, "now", lambda: now)
    today, last = dt.date(2027, 1, 1), dt.date(2027, 1, 31)
    first = window(None, tz, 30)
    assert (first.first_day, first.start, first.earlier, first.later) == (
        today,
        now,
        None,
        today + dt.timedelta(days=14),
    )
    assert first.end == dt.datetime(2027, 1, 15, tzinfo=tz)
    for far in (dt.date(9999, 12, 31), dt.date(2200, 12, 31), last + dt.timedelta(days=1)):
        shown = window(far, tz, 30)
        assert (shown.first_day, shown.later, shown.earlier) == (last, None, last - dt.timedelta(days=14))
    for past in (dt.date(1, 1, 1), today - dt.timedelta(days=1)):
        assert window(past, tz, 30) == first
    middle = window(dt.date(2027, 1, 10), tz, 30)
    assert (middle.earlier, middle.later) == (today, dt.date(2027, 1, 24))
    assert window(dt.date(2027, 1, 17), tz, 30).later == dt.date(2027, 1, 31)
