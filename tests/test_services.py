"""Services through GraphQL: duration, price, buffer, the calendars that provide them, validation."""

from __future__ import annotations

CREATE_LOCATION = """
mutation($input: CreateLocationInput!) { createLocation(input: $input) { ... on Location { id } } }"""

CREATE_CALENDAR = """
mutation($input: CreateCalendarInput!) { createCalendar(input: $input) { ... on Calendar { id } } }"""

SERVICE_FIELDS = """
fragment ServiceFields on Service {
  id name durationMinutes price bufferAfterMinutes bookableOnline location { id } calendars { id name }
}"""

CREATE = (
    """
mutation($input: CreateServiceInput!) {
  createService(input: $input) {
    __typename ...ServiceFields
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + SERVICE_FIELDS
)

UPDATE = (
    """
mutation($id: ID!, $input: UpdateServiceInput!) {
  updateService(id: $id, input: $input) {
    __typename ...ServiceFields
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + SERVICE_FIELDS
)

SERVICES = (
    """
query($locationId: ID!, $first: Int, $after: String) {
  services(locationId: $locationId, first: $first, after: $after) {
    __typename
    ... on ServiceConnection { edges { node { ...ServiceFields } } pageInfo { hasNextPage endCursor } }
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + SERVICE_FIELDS
)

CALENDAR_SERVICES = """
query($id: ID!) { calendar(id: $id) { ... on Calendar { services { id name } } } }"""


async def new_location(api, name: str = "Clinic") -> str:
    values = {"name": name, "timezone": "Europe/London", "currency": "GBP"}
    return (await api.data(CREATE_LOCATION, {"input": values}))["createLocation"]["id"]


async def new_calendar(api, location_id: str, name: str) -> str:
    return (await api.data(CREATE_CALENDAR, {"input": {"locationId": location_id, "name": name}}))["createCalendar"][
        "id"
    ]


async def create(api, location_id: str, **fields) -> dict:
    values = {"locationId": location_id, "name": "Check-up", "durationMinutes": 30, **fields}
    return (await api.data(CREATE, {"input": values}))["createService"]


async def update(api, service_id: str, **changes) -> dict:
    return (await api.data(UPDATE, {"id": service_id, "input": changes}))["updateService"]


async def listed(api, location_id: str) -> list[dict]:
    connection = (await api.data(SERVICES, {"locationId": location_id}))["services"]
    return [edge["node"] for edge in connection["edges"]]


async def services_of(api, calendar_id: str) -> list[str]:
    return [s["name"] for s in (await api.data(CALENDAR_SERVICES, {"id": calendar_id}))["calendar"]["services"]]


async def test_create_service_with_calendars_and_read_back(api):
    location_id = await new_location(api)
    beta, alpha, gamma = [await new_calendar(api, location_id, name) for name in ("Dr Beta", "Dr Alpha", "Dr Gamma")]
    created = await create(
        api,
        location_id,
        name=" Check-up ",
        durationMinutes=45,
        price="49.50",
        bufferAfterMinutes=10,
        bookableOnline=False,
        calendarIds=[beta, alpha],
    )
    assert created["__typename"] == "Service"
    expected = {
        "id": created["id"],
        "name": "Check-up",
        "durationMinutes": 45,
        "price": "49.50",
        "bufferAfterMinutes": 10,
        "bookableOnline": False,
        "location": {"id": location_id},
        "calendars": [{"id": alpha, "name": "Dr Alpha"}, {"id": beta, "name": "Dr Beta"}],  # by name
    }
    assert {k: created[k] for k in expected} == expected
    other = await create(api, location_id, name="Advice", price=19.99)  # a JSON number works too
    assert (other["price"], other["bufferAfterMinutes"], other["bookableOnline"], other["calendars"]) == (
        "19.99",
        0,
        True,
        [],
    )
    free = await create(api, location_id, name="Follow-up")
    assert free["price"] == "0.00"

    services = await listed(api, location_id)
    assert [s["name"] for s in services] == ["Advice", "Check-up", "Follow-up"]
    assert services[1] == expected
    assert [s["price"] for s in services] == ["19.99", "49.50", "0.00"]
    assert await services_of(api, alpha) == ["Check-up"]
    assert await services_of(api, beta) == ["Check-up"]
    assert await services_of(api, gamma) == []

    first_page = (await api.data(SERVICES, {"locationId": location_id, "first": 2}))["services"]
    assert [e["node"]["name"] for e in first_page["edges"]] == ["Advice", "Check-up"]
    assert first_page["pageInfo"]["hasNextPage"] is True
    rest = (
        await api.data(SERVICES, {"locationId": location_id, "first": 2, "after": first_page["pageInfo"]["endCursor"]})
    )["services"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["Follow-up"] and rest["pageInfo"]["hasNextPage"] is False


async def test_bad_service_input_is_refused_and_creates_nothing(api):
    location_id = await new_location(api)
    calendar = await new_calendar(api, location_id, "Dr Alpha")
    foreign = await new_calendar(api, await new_location(api, "Elsewhere"), "Dr Foreign")
    for fields, bad_field in (
        ({"durationMinutes": -30}, "durationMinutes"),
        ({"durationMinutes": 0}, "durationMinutes"),
        ({"durationMinutes": 24 * 60 + 1}, "durationMinutes"),
        ({"price": "-0.01"}, "price"),
        ({"price": "49.505"}, "price"),
        ({"price": "NaN"}, "price"),
        ({"price": "1e30"}, "price"),
        ({"price": "10000000000"}, "price"),
        ({"bufferAfterMinutes": -5}, "bufferAfterMinutes"),
        ({"name": "   "}, "name"),
        ({"calendarIds": [calendar, foreign]}, "calendarIds[1]"),  # a calendar of another location
        ({"calendarIds": ["999999"]}, "calendarIds[0]"),
    ):
        result = await create(api, location_id, **{"calendarIds": [calendar], **fields})
        assert result["__typename"] == "ValidationError", (fields, result)
        assert result["field"] == bad_field, (fields, result)
    assert await listed(api, location_id) == []
    assert await services_of(api, calendar) == []
    assert await services_of(api, foreign) == []


async def test_update_service_fields_and_replace_calendars(api):
    location_id = await new_location(api)
    a, b, c = [await new_calendar(api, location_id, name) for name in ("A", "B", "C")]
    foreign = await new_calendar(api, await new_location(api, "Elsewhere"), "Foreign")
    service = await create(api, location_id, price="20.00", calendarIds=[a, b])

    renamed = await update(api, service["id"], name="Long check-up", durationMinutes=60, price="35.5")
    assert (renamed["name"], renamed["durationMinutes"], renamed["price"]) == ("Long check-up", 60, "35.50")
    assert [cal["name"] for cal in renamed["calendars"]] == ["A", "B"]  # calendarIds not given: unchanged

    replaced = await update(api, service["id"], calendarIds=[c])
    assert [cal["id"] for cal in replaced["calendars"]] == [c]
    assert (await services_of(api, a), await services_of(api, b), await services_of(api, c)) == (
        [],
        [],
        ["Long check-up"],
    )

    for changes, bad_field in (
        ({"calendarIds": [a, foreign]}, "calendarIds[1]"),
        ({"price": "12.345"}, "price"),
        ({"durationMinutes": 0}, "durationMinutes"),
        ({"bufferAfterMinutes": -1}, "bufferAfterMinutes"),
        ({"durationMinutes": None}, "durationMinutes"),
        ({"calendarIds": None}, "calendarIds"),
        ({"name": "Ignored", "price": "-1"}, "price"),
    ):
        refused = await update(api, service["id"], **changes)
        assert refused["__typename"] == "ValidationError", (changes, refused)
        assert refused["field"] == bad_field, (changes, refused)
    [unchanged] = await listed(api, location_id)
    assert (unchanged["name"], unchanged["durationMinutes"], unchanged["price"], unchanged["bufferAfterMinutes"]) == (
        "Long check-up",
        60,
        "35.50",
        0,
    )
    assert [cal["id"] for cal in unchanged["calendars"]] == [c]
    assert await services_of(api, a) == [] and await services_of(api, foreign) == []

    cleared = await update(api, service["id"], calendarIds=[])
    assert cleared["calendars"] == [] and await services_of(api, c) == []


async def test_unknown_ids_are_not_found(api):
    location_id = await new_location(api)
    for unknown in ("999999", "abc", "-1"):
        assert (await update(api, unknown, name="x"))["__typename"] == "NotFound"
        assert (await create(api, unknown))["__typename"] == "NotFound"
        assert (await api.data(SERVICES, {"locationId": unknown}))["services"]["__typename"] == "NotFound"
    assert await listed(api, location_id) == []
