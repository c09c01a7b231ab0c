"""Locations through GraphQL: create, read, update, validation, headquarters."""

from __future__ import annotations

CREATE = """
mutation($input: CreateLocationInput!) {
  createLocation(input: $input) {
    __typename
    ... on Location { id name timezone currency locale tier slotStepMinutes sharesHeadquartersSettings headquarters { id } }
    ... on ValidationError { field message }
    ... on PermissionDenied { message }
  }
}"""

UPDATE = """
mutation($id: ID!, $input: UpdateLocationInput!) {
  updateLocation(id: $id, input: $input) {
    __typename
    ... on Location { id name timezone currency tier sharesHeadquartersSettings headquarters { id } }
    ... on ValidationError { field message }
    ... on NotFound { message }
    ... on PermissionDenied { message }
  }
}"""

LOCATION = """query($id: ID!) { location(id: $id) { __typename ... on Location { id name timezone currency } ... on NotFound { message } } }"""


async def create(api, **fields):
    values = {"name": "Clinic", "timezone": "Europe/London", "currency": "GBP", **fields}
    return (await api.data(CREATE, {"input": values}))["createLocation"]


async def test_create_and_read_location(api):
    created = await create(api, name="North Clinic", currency="eur", locale="en-GB")
    assert created["__typename"] == "Location"
    assert (created["name"], created["currency"], created["locale"], created["tier"]) == (
        "North Clinic",
        "EUR",
        "en_GB",
        "FREE",
    )
    assert created["slotStepMinutes"] == 15
    read = (await api.data(LOCATION, {"id": created["id"]}))["location"]
    assert read == {
        "__typename": "Location",
        "id": created["id"],
        "name": "North Clinic",
        "timezone": "Europe/London",
        "currency": "EUR",
    }


async def test_bad_location_input_is_refused_and_changes_nothing(api):
    for fields, bad_field in (
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"currency": "XYZ"}, "currency"),
        ({"locale": "zz_QQ_nope"}, "locale"),
        ({"name": "   "}, "name"),
        ({"contactEmail": "not-an-email"}, "contactEmail"),
        ({"slotStepMinutes": 0}, "slotStepMinutes"),
    ):
        result = await create(api, **fields)
        assert result["__typename"] == "ValidationError", (fields, result)
        assert result["field"] == bad_field
    listing = await api.data("{ locations { ... on LocationConnection { edges { node { id } } } } }")
    assert listing["locations"]["edges"] == []


async def test_update_location_and_unknown_ids(api):
    location = await create(api)
    updated = (
        await api.data(UPDATE, {"id": location["id"], "input": {"name": "Renamed", "timezone": "America/New_York"}})
    )["updateLocation"]
    assert (updated["name"], updated["timezone"], updated["currency"]) == ("Renamed", "America/New_York", "GBP")
    bad = (await api.data(UPDATE, {"id": location["id"], "input": {"currency": "nope"}}))["updateLocation"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "currency"
    assert (await api.data(LOCATION, {"id": location["id"]}))["location"]["currency"] == "GBP"
    for unknown in ("999999", "abc", "-1"):
        assert (await api.data(UPDATE, {"id": unknown, "input": {"name": "x"}}))["updateLocation"][
            "__typename"
        ] == "NotFound"
        assert (await api.data(LOCATION, {"id": unknown}))["location"]["__typename"] == "NotFound"
    nulled = (await api.data(UPDATE, {"id": location["id"], "input": {"name": None}}))["updateLocation"]
    assert nulled["__typename"] == "ValidationError" and nulled["field"] == "name"


async def test_headquarters_rules(api):
    hq = await create(api, name="HQ")
    branch = await create(api, name="Branch", headquartersId=hq["id"], sharesHeadquartersSettings=True)
    assert branch["headquarters"] == {"id": hq["id"]} and branch["sharesHeadquartersSettings"] is True
    # A branch cannot be a headquarters, a headquarters with branches cannot become a branch,
    # nothing is its own headquarters, and sharing needs a headquarters.
    assert (await create(api, headquartersId=branch["id"]))["field"] == "headquartersId"
    other = await create(api, name="Other")
    refused = (await api.data(UPDATE, {"id": hq["id"], "input": {"headquartersId": other["id"]}}))["updateLocation"]
    assert refused["__typename"] == "ValidationError"
    own = (await api.data(UPDATE, {"id": other["id"], "input": {"headquartersId": other["id"]}}))["updateLocation"]
    assert own["__typename"] == "ValidationError"
    assert (await create(api, sharesHeadquartersSettings=True))["field"] == "sharesHeadquartersSettings"
    independent = (
        await api.data(
            UPDATE, {"id": branch["id"], "input": {"headquartersId": None, "sharesHeadquartersSettings": False}}
        )
    )["updateLocation"]
    assert independent["headquarters"] is None
