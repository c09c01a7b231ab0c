"""Slot fields and slot pages are priced before any work against a per-request budget
(QueryTooCostly), and customers' ones count toward a per-IP limit (RateLimited, 429)."""

from __future__ import annotations

import asyncio
import datetime as dt

from helpers import book, local, make_clinic, statements
from portal_helpers import portal_clinic

from core.availability.budget import SlotBudget
from core.availability.cost import open_minutes_per_week, slot_cost, window_days
from core.errors import QueryTooCostly
from core.models import Appointment
from core.settings import RateLimit
from plugins.action_links.links import token_for
from web.slot_pages import TOO_MANY

WEEK = 7 * 24 * 60
WEEKDAYS = [
    {"weekday": day, "start": "09:00", "end": "17:00"}
    for day in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
]
PORTAL_SLOTS = """{alias}: portalAvailableSlots(slug: $s, serviceId: $v, from: $f, to: $t, calendarId: $c) {{ __typename
  ... on PortalSlotList {{ slots {{ start calendarIds }} }} ... on QueryTooCostly {{ message cost budget }}
  ... on RateLimited {{ retryAfterSeconds }} ... on Problem {{ message }} }}"""
LINK_SLOTS = """query($k: String!, $v: ID!, $f: DateTime!, $t: DateTime!) { oneTimeLinkSlots(token: $k, serviceId: $v, from: $f, to: $t) {
  __typename ... on SlotList { slots { start } } ... on QueryTooCostly { cost budget } ... on RateLimited { retryAfterSeconds } } }"""
STAFF_SLOT = """{alias}: availableSlots(calendarId: $c, serviceId: $v, from: $f, to: $t) {{
  __typename ... on SlotList {{ slots {{ start }} }} ... on QueryTooCostly {{ cost budget }} }}"""


def portal_slots(aliases: int) -> str:
    """A request of `aliases` portalAvailableSlots fields, all with the same variables."""
    fields = "\n".join(PORTAL_SLOTS.format(alias=f"a{i}") for i in range(aliases))
    return f"query($s: String!, $v: ID!, $f: DateTime!, $t: DateTime!, $c: ID) {{ {fields} }}"


def staff_slots(aliases: int) -> str:
    """A request of `aliases` availableSlots fields, all with the same variables."""
    fields = "\n".join(STAFF_SLOT.format(alias=f"a{i}") for i in range(aliases))
    return f"query($c: ID!, $v: ID!, $f: DateTime!, $t: DateTime!) {{ {fields} }}"


def window(clinic, days: int) -> dict:
    """From tomorrow's local midnight for `days` days."""
    start = local(clinic.tz, 1, 0)
    return {"f": start.isoformat(), "t": (start + dt.timedelta(days=days)).isoformat()}


def slot_loads(sent: list[str]) -> int:
    """How many calendars' free slots were worked out among these SQL statements: computing them
    starts by reading the calendar's exceptions (core.availability.slots.slots_for), pricing never does."""
    return sum("calendar_exception" in statement for statement in sent)


# ------------------------------------------------------------------ the cost and the budget, pure


def test_the_cost_counts_calendars_days_and_open_time():
    nights = [
        (0, 22 * 60, 2 * 60),
        (0, 23 * 60, 23 * 60 + 30),
        (1, 9 * 60, 17 * 60),
    ]  # a night window, one inside it, a day
    assert open_minutes_per_week(nights) == 4 * 60 + 8 * 60
    assert (
        open_minutes_per_week([(d, 0, 0) for d in range(7)] * 2) == WEEK
    )  # overlapping whole days: never more than the week
    assert open_minutes_per_week([]) == 0
    assert window_days(dt.datetime(2030, 1, 1, 10, tzinfo=dt.UTC), dt.datetime(2030, 1, 15, 9, tzinfo=dt.UTC)) == 14
    assert slot_cost([WEEK], 14, 15) == 40 + 14 + 14 * 96  # a calendar open round the clock: 96 steps a day
    assert slot_cost([5 * 8 * 60] * 20, 14, 15) == 20 * (
        40 + 14 + 320
    )  # 20 calendars open 40 hours a week: 320 steps in 2 weeks
    assert slot_cost([0, 0], 62, 5) == 2 * (40 + 62)  # closed calendars still cost their queries and days


async def test_fields_that_start_together_are_decided_together_on_their_total():
    budget = SlotBudget()
    tickets = [budget.ticket(100) for _ in range(3)]
    refused = await asyncio.gather(
        *(t.charge(40) for t in tickets), return_exceptions=True
    )  # each fits alone, not together
    assert [(type(r), r.cost, r.budget) for r in refused] == [(QueryTooCostly, 120, 100)] * 3
    fresh = SlotBudget()
    first, failed = fresh.ticket(100), fresh.ticket(100)
    waiting = asyncio.ensure_future(first.charge(60))
    await asyncio.sleep(0)
    assert not waiting.done()  # waits for the field beside it to be priced
    failed.close()  # ...which failed before pricing: it adds nothing
    await waiting
    assert fresh.total == 60


# ------------------------------------------------------------------ GraphQL


async def test_fifteen_aliases_over_62_days_are_refused_before_any_slot_work(api_factory):
    api = await api_factory(run_worker=False)  # only the requests' own statements
    clinic, slug = await portal_clinic(api)  # one calendar open round the clock, 15-minute steps
    variables = {"s": slug, "v": clinic.service, "c": None, **window(clinic, 62)}
    one = slot_cost([WEEK], 62, 15)
    assert one <= api.settings.slot_budget < 15 * one  # one alias alone would fit

    with statements() as sent:
        answer = await api.data(portal_slots(15), variables, token=None)
    assert [a["__typename"] for a in answer.values()] == ["QueryTooCostly"] * 15
    assert {(a["cost"], a["budget"]) for a in answer.values()} == {(15 * one, api.settings.slot_budget)}
    assert "too many free times" in answer["a0"]["message"]
    assert slot_loads(sent) == 0 and not any(
        '"appointment"' in s for s in sent
    )  # no exceptions, no bookings read: nothing computed

    with statements() as sent:
        alone = (await api.data(portal_slots(1), variables, token=None))["a0"]
    assert alone["__typename"] == "PortalSlotList" and len(alone["slots"]) > 60 * 96
    assert slot_loads(sent) == 1 and any('"appointment"' in s for s in sent)


async def test_the_fortnight_at_twenty_calendars_and_a_month_of_one_calendar_fit(api):
    clinic, slug = await portal_clinic(api, roster=WEEKDAYS)
    calendars = [clinic.calendar]
    for n in range(19):
        created = await api.data(
            "mutation($l: ID!, $n: String!) { createCalendar(input: {locationId: $l, name: $n}) { ... on Calendar { id } } }",
            {"l": clinic.location, "n": f"Room {n}"},
        )
        calendars.append(created["createCalendar"]["id"])
        await api.data(
            "mutation($c: ID!, $r: [RosterIntervalInput!]!) { setRoster(calendarId: $c, rules: $r) { __typename } }",
            {"c": calendars[-1], "r": WEEKDAYS},
        )
    updated = await api.data(
        "mutation($s: ID!, $c: [ID!]!) { updateService(id: $s, input: {calendarIds: $c}) { __typename } }",
        {"s": clinic.service, "c": calendars},
    )
    assert updated["updateService"]["__typename"] == "Service", updated

    fortnight = (
        await api.data(portal_slots(1), {"s": slug, "v": clinic.service, "c": None, **window(clinic, 14)}, token=None)
    )["a0"]
    assert fortnight["__typename"] == "PortalSlotList", fortnight
    assert len(fortnight["slots"]) == 10 * 31 and all(
        len(s["calendarIds"]) == 20 for s in fortnight["slots"]
    )  # 10 weekdays, 09:00-16:30
    month = (
        await api.data(
            portal_slots(1), {"s": slug, "v": clinic.service, "c": calendars[5], **window(clinic, 31)}, token=None
        )
    )["a0"]
    assert month["__typename"] == "PortalSlotList" and len(month["slots"]) > 0, month

    # The densest month: one calendar open round the clock on a 5-minute grid.
    dense, dense_slug = await portal_clinic(api, timezone="UTC", step=5, duration=5)
    densest = (
        await api.data(
            portal_slots(1), {"s": dense_slug, "v": dense.service, "c": dense.calendar, **window(dense, 31)}, token=None
        )
    )["a0"]
    assert densest["__typename"] == "PortalSlotList" and len(densest["slots"]) == 31 * 288


async def test_staff_and_link_slot_fields_spend_their_budgets(api_factory):
    api = await api_factory(slot_budget=2000, staff_slot_budget=3000, run_worker=False)
    clinic = await make_clinic(api)  # round the clock, 15-minute steps: 14 days cost 1,398
    fortnight = slot_cost([WEEK], 14, 15)
    staff = (await api.data(staff_slots(1), {"c": clinic.calendar, "v": clinic.service, **window(clinic, 62)}))["a0"]
    assert staff == {"__typename": "QueryTooCostly", "cost": slot_cost([WEEK], 62, 15), "budget": 3000}
    two = await api.data(staff_slots(2), {"c": clinic.calendar, "v": clinic.service, **window(clinic, 14)})
    assert [a["__typename"] for a in two.values()] == [
        "SlotList"
    ] * 2  # 2 x 1,398: within the staff budget, over the customers'

    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    link = (
        await api.data(
            "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { url } } }",
            {"c": clinic.calendar},
        )
    )["createOneTimeLink"]
    token = link["url"].rsplit("/", 1)[1]
    refused = (await api.data(LINK_SLOTS, {"k": token, "v": clinic.service, **window(clinic, 28)}, token=None))[
        "oneTimeLinkSlots"
    ]
    assert refused == {"__typename": "QueryTooCostly", "cost": slot_cost([WEEK], 28, 15), "budget": 2000}

    # Action links: each rescheduleSlots the view selects is priced by the field that returns the
    # view, before anything else, so a refused change changes nothing.
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    booked = await book(api, clinic, local(clinic.tz, 3, 10))
    action = await token_for(api.settings, await Appointment.get(id=int(booked["id"])))
    view = await api.data(
        "query($k: String!) { actionLink(token: $k) { __typename ... on ActionLinkView { rescheduleSlots { start } } } }",
        {"k": action},
        token=None,
    )
    assert view["actionLink"]["__typename"] == "ActionLinkView" and len(view["actionLink"]["rescheduleSlots"]) > 0
    confirm = """mutation($k: String!) { confirmViaActionLink(token: $k) { __typename ... on QueryTooCostly { cost budget }
      ... on ActionLinkView { a: rescheduleSlots { start } b: rescheduleSlots { start } } } }"""
    with statements() as sent:
        refused = (await api.data(confirm, {"k": action}, token=None))["confirmViaActionLink"]
    assert refused == {"__typename": "QueryTooCostly", "cost": 2 * fortnight, "budget": 2000}
    assert (await Appointment.get(id=int(booked["id"]))).status.value == "SCHEDULED"
    assert slot_loads(sent) == 0 and not any(
        s.upper().startswith(("UPDATE", "INSERT")) for s in sent
    )  # nothing computed or changed


# ------------------------------------------------------------------ pages and the per-IP limit


async def test_a_slot_page_over_budget_says_so(api_factory):
    api = await api_factory(slot_budget=1000)  # less than a fortnight of a calendar open round the clock
    clinic = await make_clinic(api)
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    link = (
        await api.data(
            "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { url } } }",
            {"c": clinic.calendar},
        )
    )["createOneTimeLink"]
    page = await api.client.get(link["url"].replace("http://testserver", "") + f"?service={clinic.service}")
    assert (
        page.status_code == 422
        and TOO_MANY in page.text
        and 'name="start"' not in page.text
        and "start=" not in page.text
    )

    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    booked = await book(api, clinic, local(clinic.tz, 3, 10))
    action = await token_for(api.settings, await Appointment.get(id=int(booked["id"])))
    page = await api.client.get(f"/action/{action}/reschedule")
    assert page.status_code == 422 and TOO_MANY in page.text and 'name="start"' not in page.text


async def test_customers_slot_fields_and_pages_share_a_per_ip_limit(api_factory):
    api = await api_factory(slot_limit_per_ip=RateLimit(4, 60))
    clinic, slug = await portal_clinic(api)
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    link = (
        await api.data(
            "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { url } } }",
            {"c": clinic.calendar},
        )
    )["createOneTimeLink"]
    token = link["url"].rsplit("/", 1)[1]
    day = window(clinic, 1)

    two = await api.data(
        portal_slots(2), {"s": slug, "v": clinic.service, "c": None, **day}, token=None
    )  # each alias counts
    assert [a["__typename"] for a in two.values()] == ["PortalSlotList"] * 2
    assert (await api.data(LINK_SLOTS, {"k": token, "v": clinic.service, **day}, token=None))["oneTimeLinkSlots"][
        "__typename"
    ] == "SlotList"
    assert (await api.client.get(f"/book/{token}?service={clinic.service}")).status_code == 200  # the 4th
    refused = await api.client.get(f"/book/{token}?service={clinic.service}")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    limited = (await api.data(portal_slots(1), {"s": slug, "v": clinic.service, "c": None, **day}, token=None))["a0"]
    assert limited["__typename"] == "RateLimited" and limited["retryAfterSeconds"] > 0
    staff = (await api.data(staff_slots(1), {"c": clinic.calendar, "v": clinic.service, **day}))["a0"]
    assert staff["__typename"] == "SlotList"  # staff's field is not a customer's
    details = await api.client.get(
        f"/book/{token}", params={"service": clinic.service, "start": local(clinic.tz, 2, 10).isoformat()}
    )
    assert (
        details.status_code == 200 and "Your details" in details.text
    )  # the link's pages without slots are not counted
