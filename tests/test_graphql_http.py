"""The GraphQL endpoint's hardening: JSON only, limits, caches, masking, DataLoaders."""

from __future__ import annotations

import pytest
from helpers import statements
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions.validation_cache import _get_validate_cache
from tortoise import Tortoise

from schema.scalars import _parse_datetime

LOCATIONS = "{ locations { __typename ... on LocationConnection { edges { node { id name } } } } }"


async def test_only_json_posts_execute(api):
    form = await api.client.post(
        "/graphql",
        data={
            "query": 'mutation { createLocation(input: {name: "x", timezone: "UTC", currency: "EUR"}) { __typename } }'
        },
        headers={"Authorization": f"Bearer {api.owner_token}"},
    )
    assert form.status_code in (400, 415)
    plain = await api.client.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code in (400, 415)
    get = await api.client.get("/graphql", params={"query": "{ __typename }"}, headers={"Accept": "application/json"})
    assert get.status_code in (400, 405) or "data" not in get.text
    ide = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert ide.status_code == 200 and "graphiql" in ide.text.lower()
    listing = await api.data(LOCATIONS)
    assert listing["locations"]["edges"] == []


async def test_depth_alias_and_token_limits(api):
    deep = (
        "{ locations { ... on LocationConnection { edges { node { "
        + "calendars { location { " * 6
        + "name"
        + " } }" * 6
        + " } } } } }"
    )
    body = await api.gql(deep)
    assert body.get("data") is None and "depth" in body["errors"][0]["message"].lower()
    aliases = "{ " + " ".join(f"a{i}: locations {{ __typename }}" for i in range(20)) + " }"
    body = await api.gql(aliases)
    assert body.get("data") is None and "alias" in body["errors"][0]["message"].lower()
    tokens = "{ " + " ".join("__typename" for _ in range(3000)) + " }"
    body = await api.gql(tokens)
    assert body.get("data") is None and "token" in body["errors"][0]["message"].lower()


async def test_parser_and_validation_caches_hit(api):
    cache = _get_validate_cache(512)
    await api.data(LOCATIONS)
    before = cache.cache_info()
    for _ in range(5):
        await api.data(LOCATIONS)
    after = cache.cache_info()
    assert after.hits - before.hits == 5 and after.misses == before.misses


async def test_unexpected_errors_are_masked_outside_debug_and_typed_errors_are_not(api_factory):
    api = await api_factory(debug=False)
    refused = await api.data(
        'mutation { createLocation(input: {name: "x", timezone: "Nowhere/Land", currency: "EUR"}) { __typename ... on ValidationError { field message } } }'
    )
    assert refused["createLocation"]["field"] == "timezone"
    await Tortoise.get_connection("default").execute_script('ALTER TABLE "customer" RENAME TO "customer_gone"')
    created = await api.data(
        'mutation { createLocation(input: {name: "x", timezone: "UTC", currency: "EUR"}) { ... on Location { id } } }'
    )
    body = await api.gql(
        "query($id: ID!) { customers(locationId: $id) { __typename } }", {"id": created["createLocation"]["id"]}
    )
    assert body["errors"][0]["message"] == "Unexpected error."
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "customer" not in str(body).lower().replace("customers", "")


async def test_every_error_has_a_code(api):
    cases = {
        "{ locations { __typename }": ({}, "GRAPHQL_PARSE_FAILED"),
        "{ nope }": ({}, "GRAPHQL_VALIDATION_FAILED"),
        'query($t: DateTime!) { availableSlots(calendarId: "1", serviceId: "1", from: $t, to: $t) { __typename } }': (
            {"t": "2026-01-01T10:00"},
            "BAD_USER_INPUT",
        ),
    }
    for query, (variables, code) in cases.items():
        body = await api.gql(query, variables)
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == code, body


def test_datetimes_without_offset_are_refused():
    assert _parse_datetime("2026-03-01T09:00:00+01:00").utcoffset().total_seconds() == 3600
    assert _parse_datetime("2026-03-01T09:00:00Z").utcoffset().total_seconds() == 0
    for naive in ("2026-03-01T09:00:00", "2026-03-01", "tomorrow", ""):
        with pytest.raises(StrawberryInputCoercionError):
            _parse_datetime(naive)


NESTED = """query($l: ID!, $n: Int!) {
  customers(locationId: $l, first: $n) { ... on CustomerConnection { edges { node {
    firstName location { name headquarters { name } calendars { name roster { start } exceptions(from: "2030-01-01") { note }
      services { name calendars { name } } } services { name calendars { location { name } } } }
  } } } }
  staffUsers { ... on StaffUserConnection { edges { node { name locations { name } } } } }
}"""


async def test_nested_pages_cost_a_fixed_number_of_queries(api_factory):
    api = await api_factory(run_worker=False)  # an idle delivery worker's polls would be counted too
    loc = (
        await api.data(
            'mutation { createLocation(input: {name: "L", timezone: "UTC", currency: "EUR"}) { ... on Location { id } } }'
        )
    )["createLocation"]["id"]
    for c in range(3):
        cal = (
            await api.data(
                "mutation($l: ID!, $n: String!) { createCalendar(input: {locationId: $l, name: $n}) { ... on Calendar { id } } }",
                {"l": loc, "n": f"C{c}"},
            )
        )["createCalendar"]["id"]
        await api.data(
            'mutation($l: ID!, $c: ID!) { createService(input: {locationId: $l, name: "S", durationMinutes: 30, calendarIds: [$c]}) { __typename } }',
            {"l": loc, "c": cal},
        )
    for i in range(100):
        await api.data(
            'mutation($l: ID!, $e: String!) { createCustomer(input: {locationId: $l, firstName: "F", lastName: "L", email: $e}) { __typename } }',
            {"l": loc, "e": f"c{i}@x.example"},
        )
    counts = []
    for size in (5, 100):
        with statements() as sent:
            data = await api.data(NESTED, {"l": loc, "n": size})
        assert len(data["customers"]["edges"]) == size
        counts.append(len(sent))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 18, counts


async def test_http_level_refusals_are_json_errors_with_a_code(api):
    cases = [
        (b'[{"query": "{ __typename }"}]', "Batching is not enabled"),
        (b'{"query": ', "Unable to parse request body as JSON"),
        (b'"just a string"', "The JSON body must be an object"),
        (b"42", "The JSON body must be an object"),
        (b"null", "The JSON body must be an object"),
        (b"{}", "No GraphQL query found in the request"),
    ]
    for body, message in cases:
        response = await api.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.headers["content-type"] == "application/json", response.text
        [error] = response.json()["errors"]
        assert error["message"].startswith(message) and error["extensions"] == {"code": "BAD_REQUEST"}, body
    over_get = await api.client.get(
        "/graphql", params={"query": "mutation { __typename }"}, headers={"Accept": "application/json"}
    )
    assert over_get.status_code == 400 and over_get.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    put = await api.client.put("/graphql", json={"query": "{ __typename }"})
    assert put.status_code == 405 and put.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
