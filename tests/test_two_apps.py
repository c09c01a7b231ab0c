"""Two apps in one process (issue 14: no process globals): different base URLs, secret keys,
plugin sets and SMTP servers serve interleaved requests, run their in-process workers and their
after-commit work; each one's links, emails and hooks are its own.

They share the test's database (Tortoise binds one database per process by default), each with
its own locations. A worker claims any due message of its database, so each app's emails are
queued and sent before the other queues its own: a worker is woken only by its own app's commits
(an hour between polls otherwise), so a message reaching the other app's SMTP server would mean
the other app's worker was woken by this app's change."""

from __future__ import annotations

import asyncio
import importlib
import re
from dataclasses import replace

import pytest
from helpers import book, local, make_clinic, throwaway_plugin
from jinja2 import TemplateNotFound
from smtp_server import SmtpServer

from app import BUILTIN_PLUGINS
from core.email.delivery import DeliveryConfig
from core.email.templates import default_template, default_templates
from core.models import Appointment, RecipientRole
from core.plugins.host import PluginHost
from plugins.action_links.links import token_for

A_URL, B_URL = "http://clinic-a.example", "http://clinic-b.example"
A_KEY = "a-key-Zq8vN2mT5rW9yB3cF6hJ1kL4pS7uX0dG2eI5oR8tV1wY4zC7bN0mQ3sU6xA9"
B_KEY = "b-key-Hc3fK6nP9sV2yB5eH8kM1pS4vX7aD0gJ3mQ6tW9zC2fI5lO8rU1xA4dG7jN0q"
QUIET = replace(DeliveryConfig(), poll_interval=3600.0, lanes=1)  # looks only when its app wakes it
VIEW = "query($t: String!) { actionLink(token: $t) { __typename } }"
ONE_TIME = "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { __typename ... on OneTimeLink { url } } }"
ENABLE = (
    "mutation($l: ID!, $p: String!) { setPluginEnabled(locationIds: [$l], plugin: $p, enabled: true) { __typename } }"
)
SILVER = "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }"
LINK = re.compile(r"(http://[^/\s]+)/action/([A-Za-z0-9_-]{43})")


def recorder(name: str, seen: list):
    """A plugin noting every committed change it hears of, with the app it heard it in."""
    return throwaway_plugin(
        name, appointment_changed=lambda change, app: seen.append((name, app.settings.base_url, change.appointment.id))
    )


async def _ready(api, plugin_names) -> object:
    clinic = await make_clinic(api)
    await api.data(SILVER, {"l": clinic.location})
    for plugin in plugin_names:
        assert (await api.data(ENABLE, {"l": clinic.location, "p": plugin}))["setPluginEnabled"][
            "__typename"
        ] == "PluginStateList"
    return clinic


async def test_two_apps_in_one_process_keep_their_links_emails_and_after_commit_work_apart(api_factory, smtp):
    seen: list = []
    builtins = [importlib.import_module(name) for name in BUILTIN_PLUGINS]
    host_a = PluginHost([*builtins, recorder("recorder_a", seen)])  # all the built-ins
    host_b = PluginHost([builtins[0], builtins[2], recorder("recorder_b", seen)])  # no one-time links
    smtp_b = await SmtpServer().up()
    try:
        a = await api_factory(host=host_a, base_url=A_URL, secret_key=A_KEY, smtp_url=smtp.url(), delivery=QUIET)
        b = await api_factory(host=host_b, base_url=B_URL, secret_key=B_KEY, smtp_url=smtp_b.url(), delivery=QUIET)
        assert a.app is not b.app and a.app.plugins is host_a and b.app.plugins is host_b
        assert len(a.app.workers) == len(b.app.workers) == 1 and set(a.app.workers).isdisjoint(b.app.workers)
        clinic_a, clinic_b = await asyncio.gather(
            _ready(a, ["action_links", "one_time_links", "recorder_a"]), _ready(b, ["action_links", "recorder_b"])
        )

        # Each app's booking is emailed by its own worker to its own server, with its own link.
        booked_a = await book(a, clinic_a, local(clinic_a.tz, 3, 10))
        await smtp.wait_for(1)
        booked_b = await book(b, clinic_b, local(clinic_b.tz, 3, 11))
        await smtp_b.wait_for(1)
        await asyncio.gather(smtp.settle(), smtp_b.settle())
        assert (len(smtp.received), len(smtp_b.received)) == (1, 1)
        token_a = await token_for(a.settings, await Appointment.get(id=int(booked_a["id"])))
        token_b = await token_for(b.settings, await Appointment.get(id=int(booked_b["id"])))
        assert LINK.findall(smtp.received[0].message.get_body().get_content()) == [(A_URL, token_a)]
        assert LINK.findall(smtp_b.received[0].message.get_body().get_content()) == [(B_URL, token_b)]

        # Interleaved requests: each app opens its own links only (the other's key made the other's).
        answers = await asyncio.gather(
            *(
                api.data(VIEW, {"t": token}, token=None)
                for api, token in ((a, token_a), (b, token_b), (a, token_b), (b, token_a))
            )
        )
        assert [answer["actionLink"]["__typename"] for answer in answers] == [
            "ActionLinkView",
            "ActionLinkView",
            "NotFound",
            "NotFound",
        ]
        pages = await asyncio.gather(
            *(
                api.client.get(f"/action/{token}")
                for api, token in ((a, token_a), (b, token_b), (a, token_b), (b, token_a))
            )
        )
        assert [page.status_code for page in pages] == [200, 200, 404, 404]

        # Each app's plugin set: one-time links in A only, made with A's base URL.
        made = (await a.data(ONE_TIME, {"c": clinic_a.calendar}))["createOneTimeLink"]
        assert made["url"].startswith(f"{A_URL}/book/"), made
        assert "createOneTimeLink" in (await b.gql(ONE_TIME, {"c": clinic_b.calendar}))["errors"][0]["message"]

        # After-commit work ran in each app, by its own plugins, with its own settings.
        assert sorted(seen) == sorted(
            [("recorder_a", A_URL, int(booked_a["id"])), ("recorder_b", B_URL, int(booked_b["id"]))]
        )
    finally:
        await smtp_b.down()


async def test_each_app_knows_only_its_own_plugins_default_emails_and_page_templates(api_factory):
    portal, one_time = (importlib.import_module(f"plugins.{name}") for name in ("client_portal", "one_time_links"))
    a = await api_factory(host=PluginHost([portal]))
    b = await api_factory(host=PluginHost([one_time]))
    verify = default_template(a.app.plugins.registry, "PORTAL_VERIFY_EMAIL", RecipientRole.CUSTOMER)
    assert verify is not None and verify.subject == "Confirm your email for {LocationName}"
    assert default_template(b.app.plugins.registry, "PORTAL_VERIFY_EMAIL", RecipientRole.CUSTOMER) is None
    assert {t.event for t in default_templates(b.app.plugins.registry)} == {
        "APPOINTMENT_BOOKED",
        "APPOINTMENT_CONFIRMED",
        "APPOINTMENT_RESCHEDULED",
        "APPOINTMENT_CANCELLED",
        "APPOINTMENT_REMINDER",
    }
    pages_a, pages_b = a.app.asgi.state.pages, b.app.asgi.state.pages
    assert pages_a.env.get_template("client_portal/book_confirm.html") is not None
    assert pages_b.env.get_template("one_time_links/services.html") is not None
    with pytest.raises(TemplateNotFound):
        pages_b.env.get_template("client_portal/book_confirm.html")
    with pytest.raises(TemplateNotFound):
        pages_a.env.get_template("one_time_links/services.html")
