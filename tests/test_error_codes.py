"""Errors a UI can map, through HTTP: every problem carries a `code` (ErrorCode); a mutation with
several invalid fields reports all of them at once (`ValidationError.problems`), each at its full
path with list indices; no validator prefix ("Value error, ") in any message; nothing changes."""

from __future__ import annotations

from helpers import book, later_today, make_clinic

from core.models import Customer, Location

PROBLEMS = "__typename ... on Problem { code message } ... on ValidationError { field problems { field code message } }"

CREATE_CUSTOMER = "mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { %s } }" % PROBLEMS
UPDATE_CUSTOMER = (
    "mutation($id: ID!, $i: UpdateCustomerInput!) { updateCustomer(id: $id, input: $i) { %s } }" % PROBLEMS
)
CREATE_LOCATION = "mutation($i: CreateLocationInput!) { createLocation(input: $i) { %s } }" % PROBLEMS
ROSTER = "mutation($c: ID!, $r: [RosterIntervalInput!]!) { setRoster(calendarId: $c, rules: $r) { %s } }" % PROBLEMS
RULES = (
    "mutation($l: ID!, $i: SchedulingRulesInput!) { updateLocationRules(locationId: $l, input: $i) { %s } }" % PROBLEMS
)
EMAIL = (
    "mutation($l: ID!, $i: EmailSettingsInput!) { updateEmailSettings(locationId: $l, input: $i) { %s } }" % PROBLEMS
)
SETTINGS = (
    'mutation($l: ID!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: "client_portal", settings: $s) { %s } }'
    % PROBLEMS
)
LOCATION = "query($id: ID!) { location(id: $id) { %s } }" % PROBLEMS


def found(result: dict) -> list[tuple[str, str]]:
    """The (field, code) of every problem of a ValidationError, checking its first repeats them."""
    assert result["__typename"] == "ValidationError", result
    problems = result["problems"]
    assert (result["field"], result["code"], result["message"]) == (
        problems[0]["field"],
        problems[0]["code"],
        problems[0]["message"],
    )
    return [(p["field"], p["code"]) for p in problems]


async def test_create_and_update_customer_report_every_bad_field(api):
    clinic = await make_clinic(api)
    bad = {
        "locationId": clinic.location,
        "firstName": " ",
        "lastName": "x" * 101,
        "email": "not-an-email",
        "mobilePhone": "call me",
    }
    result = (await api.data(CREATE_CUSTOMER, {"i": bad}))["createCustomer"]
    assert sorted(found(result)) == [
        ("email", "INVALID_FORMAT"),
        ("firstName", "REQUIRED"),
        ("lastName", "TOO_LONG"),
        ("mobilePhone", "INVALID_FORMAT"),
    ]
    missing = (
        await api.data(
            CREATE_CUSTOMER, {"i": {"locationId": clinic.location, "firstName": "", "lastName": "", "email": "a@b"}}
        )
    )["createCustomer"]
    assert found(missing) == [("firstName", "REQUIRED"), ("lastName", "REQUIRED"), ("email", "INVALID_FORMAT")]
    assert await Customer.all().count() == 1
    update = (
        await api.data(
            UPDATE_CUSTOMER,
            {"id": clinic.customer, "i": {"firstName": None, "lastName": None, "email": "ada@example.com"}},
        )
    )["updateCustomer"]
    assert found(update) == [("firstName", "REQUIRED"), ("lastName", "REQUIRED")]
    update = (
        await api.data(
            UPDATE_CUSTOMER,
            {"id": clinic.customer, "i": {"lastName": "y\n" * 101, "email": "@", "firstName": "Ada\x00"}},
        )
    )["updateCustomer"]
    assert found(update) == [
        ("input.firstName", "INVALID_CHARACTERS"),
        ("input.lastName", "INVALID_CHARACTERS"),
    ]  # checked before the resolver
    update = (await api.data(UPDATE_CUSTOMER, {"id": clinic.customer, "i": {"lastName": "y" * 101, "email": "@"}}))[
        "updateCustomer"
    ]
    assert found(update) == [("lastName", "TOO_LONG"), ("email", "INVALID_FORMAT")]
    assert (await Customer.get(id=int(clinic.customer))).last_name == "Lovelace"
    taken = {"locationId": clinic.location, "firstName": "Ann", "lastName": "Other", "email": "ADA@example.com"}
    assert found((await api.data(CREATE_CUSTOMER, {"i": taken}))["createCustomer"]) == [("email", "TAKEN")]


async def test_create_location_reports_every_bad_field(api):
    bad = {"name": "", "timezone": "Mars/Olympus", "currency": "XXXX", "slotStepMinutes": 1, "contactEmail": "no"}
    result = (await api.data(CREATE_LOCATION, {"i": bad}))["createLocation"]
    assert found(result) == [
        ("name", "REQUIRED"),
        ("timezone", "INVALID_FORMAT"),
        ("currency", "INVALID_FORMAT"),
        ("contactEmail", "INVALID_FORMAT"),
        ("slotStepMinutes", "OUT_OF_RANGE"),
    ]
    assert await Location.all().count() == 0


async def test_list_problems_name_their_index(api):
    clinic = await make_clinic(api)
    roster = [
        {"weekday": "MONDAY", "start": "09:00", "end": "12:00"},
        {"weekday": "MONDAY", "start": "25:00", "end": "x"},
        {"weekday": "TUESDAY", "start": "24:00", "end": "24:00"},
    ]
    assert found((await api.data(ROSTER, {"c": clinic.calendar, "r": roster}))["setRoster"]) == [
        ("rules[1].start", "OUT_OF_RANGE"),
        ("rules[1].end", "INVALID_FORMAT"),
        ("rules[2].start", "OUT_OF_RANGE"),
    ]
    rules = {"minNoticeMinutes": -1, "cancellationReasons": ["Ill", "", "Ill"], "maxAdvanceDays": 0}
    assert found((await api.data(RULES, {"l": clinic.location, "i": rules}))["updateLocationRules"]) == [
        ("minNoticeMinutes", "OUT_OF_RANGE"),
        ("maxAdvanceDays", "OUT_OF_RANGE"),
        ("cancellationReasons[1]", "REQUIRED"),
        ("cancellationReasons[2]", "DUPLICATE"),
    ]
    email = {
        "reminderOffsetsMinutes": [60, 1],
        "staffNotices": [
            {"event": "APPOINTMENT_BOOKED"},
            {"event": "NOPE"},
            {"event": "APPOINTMENT_BOOKED"},
            {"event": "APPOINTMENT_CANCELLED", "templateId": "999"},
        ],
    }
    assert found((await api.data(EMAIL, {"l": clinic.location, "i": email}))["updateEmailSettings"]) == [
        ("reminderOffsetsMinutes[1]", "OUT_OF_RANGE"),
        ("staffNotices[1].event", "INVALID_CHOICE"),
        ("staffNotices[2].event", "DUPLICATE"),
        ("staffNotices[3].templateId", "INVALID_CHOICE"),
    ]
    location = await Location.get(id=int(clinic.location))
    assert location.reminder_offsets_minutes != [60, 1] and location.min_notice_minutes == 0


async def test_plugin_settings_report_every_problem_without_validator_prefix(api):
    clinic = await make_clinic(api)
    settings = {
        "slug": "No Spaces!",
        "newAppointmentAddresses": ["desk@clinic.example", "desk", "also bad"],
        "showPrices": "maybe",
    }
    result = (await api.data(SETTINGS, {"l": clinic.location, "s": settings}))["updatePluginSettings"]
    assert sorted(found(result)) == [
        ("settings.newAppointmentAddresses[1]", "INVALID_FORMAT"),
        ("settings.newAppointmentAddresses[2]", "INVALID_FORMAT"),
        ("settings.showPrices", "INVALID_FORMAT"),
        ("settings.slug", "INVALID_FORMAT"),
    ]
    messages = {p["field"]: p["message"] for p in result["problems"]}
    assert messages["settings.newAppointmentAddresses[1]"] == "'desk' is not a valid email address."
    assert messages["settings.slug"].startswith("Use 3 to 60 lower-case letters")
    too_many = {"newAppointmentAddresses": [f"a{i}@clinic.example" for i in range(11)]}
    result = (await api.data(SETTINGS, {"l": clinic.location, "s": too_many}))["updatePluginSettings"]
    assert found(result) == [("settings.newAppointmentAddresses", "OUT_OF_RANGE")]
    assert result["message"] == "At most 10 addresses."


async def test_every_problem_type_has_its_code(api):
    clinic = await make_clinic(api, rules={"minNoticeMinutes": 24 * 60})
    too_soon = await api.data(
        "mutation($c: ID!, $s: ID!, $u: ID!, $t: DateTime!) { bookAppointment(input: {calendarId: $c, serviceId: $s, customerId: $u, start: $t}) { %s ... on RuleViolation { rule } } }"
        % PROBLEMS,
        {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": later_today(clinic.tz).isoformat()},
    )
    assert {k: too_soon["bookAppointment"][k] for k in ("__typename", "code", "rule")} == {
        "__typename": "RuleViolation",
        "code": "MIN_NOTICE",
        "rule": "MIN_NOTICE",
    }
    booked = await book(api, clinic, later_today(clinic.tz), override=True)
    again = await book(api, clinic, later_today(clinic.tz), override=True)
    assert (again["__typename"], booked["__typename"]) == ("SlotUnavailable", "Appointment")
    codes = await api.data(
        "mutation($a: ID!) { cancelAppointment(id: $a, override: true) { __typename } again: cancelAppointment(id: $a, override: true) { %s } }"
        % PROBLEMS,
        {"a": booked["id"]},
    )
    assert (codes["again"]["__typename"], codes["again"]["code"]) == ("InvalidTransition", "INVALID_TRANSITION")
    missing = (await api.data(LOCATION, {"id": "999999"}))["location"]
    assert (missing["__typename"], missing["code"]) == ("NotFound", "NOT_FOUND")
    anonymous = (await api.data(LOCATION, {"id": clinic.location}, token=None))["location"]
    assert (anonymous["__typename"], anonymous["code"]) == ("PermissionDenied", "PERMISSION_DENIED")


async def test_no_message_carries_a_validator_prefix(api):
    """A range of refusals, every message read: none starts with pydantic's prefixes."""
    clinic = await make_clinic(api)
    answers = [
        (
            await api.data(
                SETTINGS,
                {
                    "l": clinic.location,
                    "s": {"slug": "-", "newAppointmentAddresses": ["x"], "bookingInstructions": "y" * 3000},
                },
            )
        )["updatePluginSettings"],
        (
            await api.data(
                SETTINGS, {"l": clinic.location, "s": {"notifyOnCancelTemplate": "nope", "acceptNewClients": []}}
            )
        )["updatePluginSettings"],
        (
            await api.data(
                CREATE_CUSTOMER, {"i": {"locationId": clinic.location, "firstName": "", "lastName": "", "email": ""}}
            )
        )["createCustomer"],
        (await api.data(RULES, {"l": clinic.location, "i": {"maxAdvanceDays": 99999}}))["updateLocationRules"],
    ]
    messages = [p["message"] for answer in answers for p in answer["problems"]] + [a["message"] for a in answers]
    assert len(messages) >= 10
    assert not [m for m in messages if m.startswith(("Value error", "Assertion failed")) or "Value error, " in m]
