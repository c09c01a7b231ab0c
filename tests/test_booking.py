"""The booking path through GraphQL (staff) and called as a customer channel: transitions,
history, every rule code, override, and bad input that changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers import APPOINTMENT_FIELDS, book, later_today, local, make_clinic, midday_timezone

from core import booking
from core.availability.rules import RULE_CODES
from core.errors import PermissionDenied, RuleViolation
from core.models import ActorKind, Appointment, AppointmentEvent
from core.security.access import Actor

CONFIRM = (
    "mutation($id: ID!, $o: Boolean! = false) { confirmAppointment(id: $id, override: $o) { %s } }" % APPOINTMENT_FIELDS
)
RESCHEDULE = (
    "mutation($id: ID!, $t: DateTime!, $seq: Int, $o: Boolean! = false) { rescheduleAppointment(id: $id, start: $t, expectedSequence: $seq, override: $o) { %s } }"
    % APPOINTMENT_FIELDS
)
CANCEL = (
    "mutation($id: ID!, $r: String, $n: String, $o: Boolean! = false) { cancelAppointment(id: $id, reason: $r, note: $n, override: $o) { %s } }"
    % APPOINTMENT_FIELDS
)
COMPLETE = "mutation($id: ID!) { markAppointmentCompleted(id: $id) { %s } }" % APPOINTMENT_FIELDS
NO_SHOW = "mutation($id: ID!) { markAppointmentNoShow(id: $id) { %s } }" % APPOINTMENT_FIELDS
SLOTS = """query($c: ID!, $s: ID!, $f: DateTime!, $t: DateTime!) { availableSlots(calendarId: $c, serviceId: $s, from: $f, to: $t) {
  __typename ... on SlotList { slots { start end } } ... on ValidationError { field message } ... on NotFound { message } } }"""


async def run(api, query: str, **variables) -> dict:
    data = await api.data(query, variables)
    return next(iter(data.values()))


def customer(clinic) -> Actor:
    """The clinic's customer acting through a link channel (rules always bind)."""
    return Actor(
        ActorKind.CUSTOMER_LINK, id="link-1", customer_id=int(clinic.customer), ip="203.0.113.9", user_agent="phone"
    )


async def test_book_confirm_reschedule_cancel_with_history(api):
    clinic = await make_clinic(api, rules={"cancellationReasons": ["Feeling better", "Clash"]})
    booked = await book(api, clinic, local(clinic.tz, 3, 10))
    assert (booked["__typename"], booked["status"], booked["sequence"]) == ("Appointment", "SCHEDULED", 0)
    assert (
        booked["startsAt"] == local(clinic.tz, 3, 10).isoformat()
        and booked["endsAt"] == local(clinic.tz, 3, 10, 30).isoformat()
    )
    confirmed = await run(api, CONFIRM, id=booked["id"])
    assert confirmed["status"] == "CONFIRMED"
    again = await run(api, CONFIRM, id=booked["id"])
    assert again["status"] == "CONFIRMED" and len(again["history"]) == 2
    moved = await run(api, RESCHEDULE, id=booked["id"], t=local(clinic.tz, 4, 11).isoformat(), seq=0)
    assert (moved["status"], moved["sequence"], moved["startsAt"]) == (
        "SCHEDULED",
        1,
        local(clinic.tz, 4, 11).isoformat(),
    )
    stale = await run(api, RESCHEDULE, id=booked["id"], t=local(clinic.tz, 4, 12).isoformat(), seq=0)
    assert stale == {"__typename": "StaleAppointment", "message": stale["message"], "currentSequence": 1}
    bad_reason = await run(api, CANCEL, id=booked["id"], r="Bored")
    assert bad_reason["__typename"] == "ValidationError" and bad_reason["field"] == "reason"
    cancelled = await run(api, CANCEL, id=booked["id"], r="Clash", n="Double-booked at work")
    assert (cancelled["status"], cancelled["cancellationReason"], cancelled["cancellationNote"]) == (
        "CANCELLED",
        "Clash",
        "Double-booked at work",
    )
    assert [e["action"] for e in cancelled["history"]] == ["BOOKED", "CONFIRMED", "RESCHEDULED", "CANCELLED"]
    assert {e["actorKind"] for e in cancelled["history"]} == {"STAFF"}
    rescheduled = cancelled["history"][2]["changes"]
    assert {
        "field": "startsAt",
        "before": local(clinic.tz, 3, 10).isoformat(),
        "after": local(clinic.tz, 4, 11).isoformat(),
    } in rescheduled
    assert {"field": "status", "before": "CONFIRMED", "after": "SCHEDULED"} in rescheduled
    assert {"field": "sequence", "before": "0", "after": "1"} in rescheduled
    twice = await run(api, CANCEL, id=booked["id"])
    assert (twice["__typename"], twice["status"]) == ("InvalidTransition", "CANCELLED")
    # The cancelled time is free again.
    rebooked = await book(api, clinic, local(clinic.tz, 4, 11))
    assert rebooked["__typename"] == "Appointment"


async def test_history_shows_times_with_the_locations_offset_like_at(api):
    clinic = await make_clinic(api, timezone="Australia/Sydney")
    start, moved_to = local(clinic.tz, 3, 10), local(clinic.tz, 4, 11)
    booked = await book(api, clinic, start)
    moved = await run(api, RESCHEDULE, id=booked["id"], t=moved_to.isoformat(), seq=0)
    assert moved["startsAt"] == moved_to.isoformat()
    history = (
        await api.data(
            "query($id: ID!) { appointment(id: $id) { ... on Appointment { history { at changes { field before after } } } } }",
            {"id": booked["id"]},
        )
    )["appointment"]["history"]
    changes = {c["field"]: (c["before"], c["after"]) for c in history[1]["changes"]}
    assert changes["startsAt"] == (start.isoformat(), moved_to.isoformat())
    assert changes["endsAt"] == (
        (start + dt.timedelta(minutes=30)).isoformat(),
        (moved_to + dt.timedelta(minutes=30)).isoformat(),
    )
    at = dt.datetime.fromisoformat(history[1]["at"])
    assert at.utcoffset() == at.astimezone(clinic.tz).utcoffset() != dt.timedelta(0)


async def test_double_booking_and_buffers_are_refused(api):
    clinic = await make_clinic(api, duration=30, buffer=15)
    assert (await book(api, clinic, local(clinic.tz, 2, 10)))["__typename"] == "Appointment"
    for h, m in ((10, 0), (10, 15), (10, 30), (9, 45)):  # overlaps, or its buffer / ours collide
        result = await book(api, clinic, local(clinic.tz, 2, h, m))
        assert result["__typename"] == "SlotUnavailable", (h, m, result)
    assert (await book(api, clinic, local(clinic.tz, 2, 10, 45)))["__typename"] == "Appointment"
    assert (await book(api, clinic, local(clinic.tz, 2, 9, 15)))["__typename"] == "Appointment"
    # Staff override does not bypass the double-booking check.
    assert (await book(api, clinic, local(clinic.tz, 2, 10, 0), override=True))["__typename"] == "SlotUnavailable"
    assert await Appointment.filter(calendar_id=int(clinic.calendar)).count() == 3


async def test_available_slots_subtract_exceptions_and_appointments(api):
    weekdays = [
        {"weekday": d, "start": "09:00", "end": "12:00"}
        for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
    ]
    clinic = await make_clinic(api, timezone="America/New_York", roster=weekdays, duration=60, buffer=0, step=30)
    day = local(clinic.tz, 5, 0)
    await api.data(
        'mutation($c: ID!, $d: Date!) { addCalendarException(input: {calendarId: $c, date: $d, kind: TIME_OFF, start: "11:00", end: "12:00"}) { __typename } }',
        {"c": clinic.calendar, "d": day.date().isoformat()},
    )
    await api.data(
        'mutation($c: ID!, $d: Date!) { addCalendarException(input: {calendarId: $c, date: $d, kind: EXTRA_HOURS, start: "14:00", end: "15:00"}) { __typename } }',
        {"c": clinic.calendar, "d": day.date().isoformat()},
    )
    assert (await book(api, clinic, local(clinic.tz, 5, 9)))["__typename"] == "Appointment"
    slots = (
        await api.data(
            SLOTS,
            {
                "c": clinic.calendar,
                "s": clinic.service,
                "f": day.isoformat(),
                "t": (day + dt.timedelta(days=1)).isoformat(),
            },
        )
    )["availableSlots"]["slots"]
    starts = [s["start"] for s in slots]
    # 09:00-12:00 minus time off from 11:00, minus the 09:00-10:00 booking, plus 14:00-15:00.
    assert starts == [local(clinic.tz, 5, 10).isoformat(), local(clinic.tz, 5, 14).isoformat()]
    assert slots[0]["end"] == local(clinic.tz, 5, 11).isoformat()
    assert starts[0][-6:] in ("-05:00", "-04:00")  # the location's offset


@pytest.mark.parametrize("bad", ["to_before_from", "too_long", "not_provided", "unknown_calendar"])
async def test_available_slots_bad_input(api, bad):
    clinic = await make_clinic(api)
    other = (
        await api.data(
            'mutation($l: ID!) { createService(input: {locationId: $l, name: "Other", durationMinutes: 30}) { ... on Service { id } } }',
            {"l": clinic.location},
        )
    )["createService"]["id"]
    start = local(clinic.tz, 1, 0)
    variables = {
        "c": clinic.calendar,
        "s": clinic.service,
        "f": start.isoformat(),
        "t": (start + dt.timedelta(days=1)).isoformat(),
    }
    expected = "ValidationError"
    if bad == "to_before_from":
        variables["t"] = (start - dt.timedelta(hours=1)).isoformat()
    elif bad == "too_long":
        variables["t"] = (start + dt.timedelta(days=63)).isoformat()
    elif bad == "not_provided":
        variables["s"] = other
    else:
        variables["c"], expected = "987654", "NotFound"
    assert (await api.data(SLOTS, variables))["availableSlots"]["__typename"] == expected


async def test_bad_booking_input_changes_nothing(api):
    clinic = await make_clinic(
        api,
        roster=[
            {"weekday": d, "start": "09:00", "end": "17:00"}
            for d in ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
        ],
    )
    off_grid = await book(api, clinic, local(clinic.tz, 3, 10, 5))
    assert (off_grid["__typename"], off_grid["field"]) == ("ValidationError", "start")
    closed = await book(api, clinic, local(clinic.tz, 3, 20))
    assert closed["__typename"] == "SlotUnavailable"
    other = (
        await api.data(
            'mutation($l: ID!) { createService(input: {locationId: $l, name: "Other", durationMinutes: 30}) { ... on Service { id } } }',
            {"l": clinic.location},
        )
    )["createService"]["id"]
    from helpers import BOOK

    not_provided = (
        await api.data(
            BOOK,
            {
                "c": clinic.calendar,
                "s": other,
                "u": clinic.customer,
                "t": local(clinic.tz, 3, 10).isoformat(),
                "o": False,
            },
        )
    )["bookAppointment"]
    assert (not_provided["__typename"], not_provided["field"]) == ("ValidationError", "serviceId")
    naive = await api.gql(
        BOOK, {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": "2030-01-01T10:00:00", "o": False}
    )
    assert naive["data"] is None and naive["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    garbage = await api.gql(
        BOOK, {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": "next tuesday", "o": False}
    )
    assert garbage["data"] is None and garbage["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown_customer = (
        await api.data(
            BOOK,
            {
                "c": clinic.calendar,
                "s": clinic.service,
                "u": "99999",
                "t": local(clinic.tz, 3, 10).isoformat(),
                "o": False,
            },
        )
    )["bookAppointment"]
    assert unknown_customer["__typename"] == "ValidationError"
    assert await Appointment.all().count() == 0
    # Staff may book outside the roster or off the grid with override.
    assert (await book(api, clinic, local(clinic.tz, 3, 20, 5), override=True))["__typename"] == "Appointment"


async def test_transitions_of_completed_no_show_and_cancelled(api):
    clinic = await make_clinic(api)
    future = await book(api, clinic, local(clinic.tz, 2, 10))
    early = await run(api, COMPLETE, id=future["id"])
    assert (early["__typename"], early["status"]) == ("InvalidTransition", "SCHEDULED")
    past = await book(api, clinic, local(clinic.tz, -1, 10), override=True)
    other_past = await book(api, clinic, local(clinic.tz, -1, 11), override=True)
    assert (await run(api, COMPLETE, id=past["id"]))["status"] == "COMPLETED"
    assert (await run(api, NO_SHOW, id=other_past["id"]))["status"] == "NO_SHOW"
    for query, variables in (
        (CONFIRM, {}),
        (CANCEL, {}),
        (RESCHEDULE, {"t": local(clinic.tz, 3, 10).isoformat()}),
        (COMPLETE, {}),
        (NO_SHOW, {}),
    ):
        for done in (past, other_past):
            result = await run(api, query, id=done["id"], **variables)
            assert result["__typename"] == "InvalidTransition", (query, result)
    cancelled = await run(api, CANCEL, id=future["id"])
    for query, variables in ((CONFIRM, {}), (RESCHEDULE, {"t": local(clinic.tz, 3, 10).isoformat()}), (NO_SHOW, {})):
        assert (await run(api, query, id=cancelled["id"], **variables))["__typename"] == "InvalidTransition"
    with pytest.raises(PermissionDenied):
        await booking.mark(api.app.plugins, customer(clinic), int(past["id"]), booking.Status.COMPLETED)


async def test_what_customers_are_told_they_may_do_matches_what_each_change_allows(api):
    """customer_refusals and the changes read one transition table: for every status, a customer
    is told an action is refused for its status exactly when the change itself refuses it."""
    clinic = await make_clinic(api)
    appointments = {"SCHEDULED": await book(api, clinic, local(clinic.tz, 2, 10))}
    appointments["CONFIRMED"] = await run(api, CONFIRM, id=(await book(api, clinic, local(clinic.tz, 2, 11)))["id"])
    appointments["CANCELLED"] = await run(api, CANCEL, id=(await book(api, clinic, local(clinic.tz, 2, 12)))["id"])
    appointments["COMPLETED"] = await run(
        api, COMPLETE, id=(await book(api, clinic, local(clinic.tz, -1, 10), override=True))["id"]
    )
    appointments["NO_SHOW"] = await run(
        api, NO_SHOW, id=(await book(api, clinic, local(clinic.tz, -1, 11), override=True))["id"]
    )
    changes = {
        "CONFIRM": (CONFIRM, {}),
        "RESCHEDULE": (RESCHEDULE, {"t": local(clinic.tz, 4, 10).isoformat()}),
        "CANCEL": (CANCEL, {}),
    }
    for status, shown in appointments.items():
        assert shown["status"] == status, shown
        told = await booking.customer_refusals(await Appointment.get(id=int(shown["id"])))
        for action, (query, variables) in changes.items():
            refusal = told[action]
            result = await run(api, query, id=shown["id"], o=True, **variables)
            if status == "CONFIRMED" and action == "CONFIRM":  # a no-op for the change, news for the customer
                assert result["status"] == "CONFIRMED" and refusal.message == "This appointment is already confirmed."
            elif result["__typename"] == "InvalidTransition":
                assert type(refusal).__name__ == "InvalidTransition" and refusal.message == result["message"], (
                    status,
                    action,
                )
            else:
                assert result["__typename"] == "Appointment", (status, action, result)
                assert refusal is None or type(refusal).__name__ != "InvalidTransition", (status, action, refusal)


# ------------------------------------------------------------------ every rule code


def test_every_rule_code_is_exercised_here_and_documented():
    """RULE_CODES is the one list of core's rule codes: each has its test below and its line in the API guide."""
    here, guide = Path(__file__).read_text(), (Path(__file__).parent.parent / "docs" / "api.md").read_text()
    for code in RULE_CODES:
        assert f'"{code}"' in here and f"`{code}`" in guide, code


async def _expect_rule(api, clinic, code: str, staff_call, customer_call, override_call):
    """Staff without override and the customer are refused with `code`; override succeeds."""
    refused = await staff_call()
    assert (refused["__typename"], refused["rule"]) == ("RuleViolation", code), refused
    assert refused["message"]
    with pytest.raises(RuleViolation) as raised:
        await customer_call()
    assert raised.value.rule == code
    allowed = await override_call()
    assert allowed["__typename"] == "Appointment", allowed
    return refused


async def test_min_notice(api):
    clinic = await make_clinic(api, rules={"minNoticeMinutes": 24 * 60})
    soon = later_today(clinic.tz, hours=2)
    await _expect_rule(
        api,
        clinic,
        "MIN_NOTICE",
        lambda: book(api, clinic, soon),
        lambda: booking.book(
            api.app.plugins,
            customer(clinic),
            calendar_id=int(clinic.calendar),
            service_id=int(clinic.service),
            customer_id=int(clinic.customer),
            start=soon,
        ),
        lambda: book(api, clinic, soon, override=True),
    )
    assert (await book(api, clinic, local(clinic.tz, 2, 10)))["__typename"] == "Appointment"


async def test_max_advance(api):
    clinic = await make_clinic(api, rules={"maxAdvanceDays": 10})
    far = local(clinic.tz, 20, 10)
    await _expect_rule(
        api,
        clinic,
        "MAX_ADVANCE",
        lambda: book(api, clinic, far),
        lambda: booking.book(
            api.app.plugins,
            customer(clinic),
            calendar_id=int(clinic.calendar),
            service_id=int(clinic.service),
            customer_id=int(clinic.customer),
            start=far,
        ),
        lambda: book(api, clinic, far, override=True),
    )


@pytest.mark.parametrize("action", ["confirm", "reschedule", "cancel"])
async def test_same_day_change(api, action):
    clinic = await make_clinic(api, timezone=midday_timezone(), rules={"sameDayChangesAllowed": False})
    today = await book(api, clinic, later_today(clinic.tz, hours=3))
    appointment_id = today["id"]
    new_start = local(clinic.tz, 3, 10)
    staff = {
        "confirm": lambda o=False: run(api, CONFIRM, id=appointment_id, o=o),
        "reschedule": lambda o=False: run(api, RESCHEDULE, id=appointment_id, t=new_start.isoformat(), o=o),
        "cancel": lambda o=False: run(api, CANCEL, id=appointment_id, o=o),
    }[action]
    as_customer = {
        "confirm": lambda: booking.confirm(api.app.plugins, customer(clinic), int(appointment_id)),
        "reschedule": lambda: booking.reschedule(api.app.plugins, customer(clinic), int(appointment_id), new_start),
        "cancel": lambda: booking.cancel(api.app.plugins, customer(clinic), int(appointment_id)),
    }[action]
    refused = await _expect_rule(api, clinic, "SAME_DAY_CHANGE", staff, as_customer, lambda: staff(True))
    assert "+44 20 7946 0000" in refused["message"]


async def test_cancellation_notice_carries_the_policy(api):
    clinic = await make_clinic(
        api, rules={"cancellationNoticeHours": 72, "cancellationPolicy": "Late cancellations are charged in full."}
    )
    booked = await book(api, clinic, local(clinic.tz, 2, 10))
    await _expect_rule(
        api,
        clinic,
        "CANCELLATION_NOTICE",
        lambda: run(api, CANCEL, id=booked["id"]),
        lambda: booking.cancel(api.app.plugins, customer(clinic), int(booked["id"])),
        lambda: run(api, CANCEL, id=booked["id"], o=True),
    )
    booked = await book(api, clinic, local(clinic.tz, 2, 11))
    refused = await run(api, CANCEL, id=booked["id"])
    assert "Late cancellations are charged in full." in refused["message"] and "+44 20 7946 0000" in refused["message"]


async def test_reschedule_notice(api):
    clinic = await make_clinic(api, rules={"rescheduleNoticeHours": 72})
    booked = await book(api, clinic, local(clinic.tz, 2, 10))
    target = local(clinic.tz, 6, 10)
    await _expect_rule(
        api,
        clinic,
        "RESCHEDULE_NOTICE",
        lambda: run(api, RESCHEDULE, id=booked["id"], t=target.isoformat()),
        lambda: booking.reschedule(api.app.plugins, customer(clinic), int(booked["id"]), target),
        lambda: run(api, RESCHEDULE, id=booked["id"], t=target.isoformat(), o=True),
    )


async def test_max_reschedules_counts_only_the_customers_own(api):
    clinic = await make_clinic(api, rules={"maxCustomerReschedules": 1})
    booked = await book(api, clinic, local(clinic.tz, 5, 10))
    moved = await booking.reschedule(api.app.plugins, customer(clinic), int(booked["id"]), local(clinic.tz, 5, 11))
    assert moved.status.value == "CONFIRMED" and moved.customer_reschedules == 1
    with pytest.raises(RuleViolation) as raised:
        await booking.reschedule(api.app.plugins, customer(clinic), int(booked["id"]), local(clinic.tz, 5, 12))
    assert raised.value.rule == "MAX_RESCHEDULES"
    for hour in (13, 14):  # staff moves neither count nor are limited
        assert (await run(api, RESCHEDULE, id=booked["id"], t=local(clinic.tz, 5, hour).isoformat()))[
            "status"
        ] == "SCHEDULED"
    refused = await run(api, RESCHEDULE, id=booked["id"], t=local(clinic.tz, 5, 15).isoformat())
    assert refused["__typename"] == "Appointment"
    events = await AppointmentEvent.filter(appointment_id=int(booked["id"])).order_by("id")
    assert [(e.action, e.actor_kind.value) for e in events] == [
        ("BOOKED", "STAFF"),
        ("RESCHEDULED", "CUSTOMER_LINK"),
        ("RESCHEDULED", "STAFF"),
        ("RESCHEDULED", "STAFF"),
        ("RESCHEDULED", "STAFF"),
    ]
    assert (events[1].ip, events[1].user_agent, events[1].actor_id) == ("203.0.113.9", "phone", "link-1")


async def test_customers_can_never_override(api):
    clinic = await make_clinic(api)
    with pytest.raises(PermissionDenied):
        await booking.book(
            api.app.plugins,
            customer(clinic),
            calendar_id=int(clinic.calendar),
            service_id=int(clinic.service),
            customer_id=int(clinic.customer),
            start=local(clinic.tz, 2, 10),
            override=True,
        )


async def test_service_rules_override_the_location(api):
    clinic = await make_clinic(api, rules={"minNoticeMinutes": 0})
    changed = await api.data(
        "mutation($s: ID!) { updateServiceRules(serviceId: $s, input: {minNoticeMinutes: 4320}) { ... on Service { rules { minNoticeMinutes } overriddenRules } } }",
        {"s": clinic.service},
    )
    assert changed["updateServiceRules"] == {
        "rules": {"minNoticeMinutes": 4320},
        "overriddenRules": ["min_notice_minutes"],
    }
    refused = await book(api, clinic, local(clinic.tz, 2, 10))
    assert (refused["__typename"], refused["rule"]) == ("RuleViolation", "MIN_NOTICE")
    cleared = await api.data(
        "mutation($s: ID!) { updateServiceRules(serviceId: $s, input: {minNoticeMinutes: null}) { ... on Service { overriddenRules } } }",
        {"s": clinic.service},
    )
    assert cleared["updateServiceRules"]["overriddenRules"] == []
    assert (await book(api, clinic, local(clinic.tz, 2, 10)))["__typename"] == "Appointment"


async def test_rules_validation_and_headquarters_sharing(api):
    clinic = await make_clinic(api)
    for bad, field in (
        ({"minNoticeMinutes": -5}, "minNoticeMinutes"),
        ({"maxAdvanceDays": 0}, "maxAdvanceDays"),
        ({"cancellationReasons": ["A", "A"]}, "cancellationReasons[1]"),
        ({"cancellationReasons": [" "]}, "cancellationReasons[0]"),
    ):
        result = (
            await api.data(
                "mutation($l: ID!, $i: SchedulingRulesInput!) { updateLocationRules(locationId: $l, input: $i) { __typename ... on ValidationError { field } } }",
                {"l": clinic.location, "i": bad},
            )
        )["updateLocationRules"]
        assert result == {"__typename": "ValidationError", "field": field}
    branch = (
        await api.data(
            'mutation($hq: ID!) { createLocation(input: {name: "Branch", timezone: "UTC", currency: "EUR", headquartersId: $hq, sharesHeadquartersSettings: true}) { ... on Location { id } } }',
            {"hq": clinic.location},
        )
    )["createLocation"]["id"]
    await api.data(
        'mutation($l: ID!) { updateLocationRules(locationId: $l, input: {minNoticeMinutes: 90, cancellationReasons: ["Ill"]}) { __typename } }',
        {"l": clinic.location},
    )
    shared = (
        await api.data(
            "query($l: ID!) { location(id: $l) { ... on Location { rules { minNoticeMinutes cancellationReasons } } } }",
            {"l": branch},
        )
    )["location"]["rules"]
    assert shared == {"minNoticeMinutes": 90, "cancellationReasons": ["Ill"]}
    refused = (
        await api.data(
            "mutation($l: ID!) { updateLocationRules(locationId: $l, input: {minNoticeMinutes: 5}) { __typename ... on ValidationError { field } } }",
            {"l": branch},
        )
    )["updateLocationRules"]
    assert refused == {"__typename": "ValidationError", "field": "locationId"}


async def test_appointments_listing_filters_and_pages(api):
    clinic = await make_clinic(api)
    ids = [(await book(api, clinic, local(clinic.tz, 2, h)))["id"] for h in (9, 10, 11, 12, 13)]
    await run(api, CANCEL, id=ids[1])
    query = """query($l: ID!, $f: DateTime, $t: DateTime, $st: AppointmentStatus, $first: Int, $after: String) {
      appointments(locationId: $l, from: $f, to: $t, status: $st, first: $first, after: $after) {
        __typename ... on AppointmentConnection { edges { node { id } } pageInfo { hasNextPage endCursor } } ... on ValidationError { field } } }"""
    seen, after = [], None
    while True:
        page = (await api.data(query, {"l": clinic.location, "first": 2, "after": after}))["appointments"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids
    cancelled = (await api.data(query, {"l": clinic.location, "st": "CANCELLED"}))["appointments"]["edges"]
    assert [e["node"]["id"] for e in cancelled] == [ids[1]]
    window = (
        await api.data(
            query,
            {"l": clinic.location, "f": local(clinic.tz, 2, 10).isoformat(), "t": local(clinic.tz, 2, 12).isoformat()},
        )
    )["appointments"]["edges"]
    assert [e["node"]["id"] for e in window] == ids[1:3]
    forged = (await api.data(query, {"l": clinic.location, "after": "eyJ4IjoxfQ"}))["appointments"]
    assert forged == {"__typename": "ValidationError", "field": "after"}


async def test_overlap_checks_hold_whatever_offset_the_times_are_given_in(api):
    clinic = await make_clinic(api, timezone="Asia/Kathmandu")
    start = local(clinic.tz, 4, 10)
    assert (await book(api, clinic, start))["__typename"] == "Appointment"
    for zone in ("UTC", "America/Los_Angeles", "Pacific/Kiritimati"):
        same_instant = start.astimezone(dt.UTC).astimezone(__import__("zoneinfo").ZoneInfo(zone))
        assert (await book(api, clinic, same_instant))["__typename"] == "SlotUnavailable", zone
        shifted = same_instant + dt.timedelta(minutes=15)
        assert (await book(api, clinic, shifted))["__typename"] == "SlotUnavailable", zone
