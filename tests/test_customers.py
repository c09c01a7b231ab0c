"""Customers through GraphQL: create and update, email unique per location ignoring case,
search by name, email or phone, ordering by last then first name, and keyset pages."""

from __future__ import annotations

from core.pagination import encode_cursor

CREATE_LOCATION = """
mutation($input: CreateLocationInput!) { createLocation(input: $input) { ... on Location { id } } }"""

CUSTOMER_FIELDS = """
fragment CustomerFields on Customer { id firstName lastName fullName email mobilePhone location { id } }"""

CREATE = (
    """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    __typename ...CustomerFields
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + CUSTOMER_FIELDS
)

UPDATE = (
    """
mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) {
    __typename ...CustomerFields
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + CUSTOMER_FIELDS
)

CUSTOMERS = (
    """
query($locationId: ID!, $search: String, $first: Int, $after: String) {
  customers(locationId: $locationId, search: $search, first: $first, after: $after) {
    __typename
    ... on CustomerConnection {
      edges { cursor node { ...CustomerFields } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
    ... on ValidationError { field message }
    ... on NotFound { message }
  }
}"""
    + CUSTOMER_FIELDS
)


async def new_location(api, name: str = "Clinic") -> str:
    values = {"name": name, "timezone": "Europe/London", "currency": "GBP"}
    return (await api.data(CREATE_LOCATION, {"input": values}))["createLocation"]["id"]


async def create(
    api, location_id: str, first: str = "Ann", last: str = "Lee", email: str | None = None, **fields
) -> dict:
    email = email or f"{first}.{last}@example.com".lower().replace(" ", "")
    values = {"locationId": location_id, "firstName": first, "lastName": last, "email": email, **fields}
    return (await api.data(CREATE, {"input": values}))["createCustomer"]


async def update(api, customer_id: str, **changes) -> dict:
    return (await api.data(UPDATE, {"id": customer_id, "input": changes}))["updateCustomer"]


async def page(api, location_id: str, **arguments) -> dict:
    return (await api.data(CUSTOMERS, {"locationId": location_id, **arguments}))["customers"]


async def walk(api, location_id: str, **arguments) -> list[dict]:
    """Every page of a listing in turn; a listing whose pages never end fails instead of hanging."""
    pages, after = [], None
    for _ in range(20):
        connection = await page(api, location_id, after=after, **arguments)
        assert connection["__typename"] == "CustomerConnection", connection
        pages.append(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            return pages
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("The pages never end.")


async def names(api, location_id: str, search: str | None = None) -> list[str]:
    connection = await page(api, location_id, search=search, first=100)
    assert connection["__typename"] == "CustomerConnection", connection
    assert connection["pageInfo"]["hasNextPage"] is False
    return [edge["node"]["fullName"] for edge in connection["edges"]]


async def test_create_and_update_customer(api):
    location_id = await new_location(api)
    created = await create(api, location_id, " Ann ", " Lee ", " Ann.Lee@Example.com ", mobilePhone="+44 7700 900123")
    assert created["__typename"] == "Customer"
    expected = {
        "id": created["id"],
        "firstName": "Ann",
        "lastName": "Lee",
        "fullName": "Ann Lee",
        "email": "Ann.Lee@Example.com",
        "mobilePhone": "+44 7700 900123",
        "location": {"id": location_id},
    }
    assert created == {"__typename": "Customer", **expected}
    assert [edge["node"] for edge in (await page(api, location_id))["edges"]] == [expected]

    renamed = await update(api, created["id"], lastName="Lee-Smith")
    assert (renamed["firstName"], renamed["lastName"], renamed["email"], renamed["mobilePhone"]) == (
        "Ann",
        "Lee-Smith",
        "Ann.Lee@Example.com",
        "+44 7700 900123",
    )
    # Changing only the case of one's own email is not a duplicate.
    recased = await update(api, created["id"], email="ann.lee@example.com", mobilePhone="")
    assert (recased["email"], recased["mobilePhone"]) == ("ann.lee@example.com", "")
    assert await names(api, location_id) == ["Ann Lee-Smith"]


async def test_email_is_unique_per_location_ignoring_case(api):
    location_id = await new_location(api)
    other_location = await new_location(api, "Elsewhere")
    ann = await create(api, location_id, "Ann", "Lee", "Ann@X.com")
    assert ann["__typename"] == "Customer"
    for email in ("ann@x.com", "ANN@X.COM", "  ann@X.com "):
        duplicate = await create(api, location_id, "Annie", "Lee", email)
        assert duplicate["__typename"] == "ValidationError", (email, duplicate)
        assert duplicate["field"] == "email"
    elsewhere = await create(api, other_location, "Ann", "Lee", "ann@x.com")
    assert elsewhere["__typename"] == "Customer" and elsewhere["location"] == {"id": other_location}

    bob = await create(api, location_id, "Bob", "Marsh", "bob@x.com")
    taken = await update(api, bob["id"], email="ANN@x.com")
    assert taken["__typename"] == "ValidationError" and taken["field"] == "email"
    assert [edge["node"]["email"] for edge in (await page(api, location_id))["edges"]] == ["Ann@X.com", "bob@x.com"]
    assert await names(api, other_location) == ["Ann Lee"]


async def test_bad_customer_input_is_refused_and_changes_nothing(api):
    location_id = await new_location(api)
    for fields, bad_field in (
        ({"email": "not-an-email"}, "email"),
        ({"email": "ann@example"}, "email"),
        ({"email": "ann lee@example.com"}, "email"),
        ({"email": "   "}, "email"),
        ({"firstName": "   "}, "firstName"),
        ({"firstName": ""}, "firstName"),
        ({"lastName": " "}, "lastName"),
        ({"lastName": "x" * 101}, "lastName"),
        ({"mobilePhone": "call me"}, "mobilePhone"),
    ):
        values = {
            "locationId": location_id,
            "firstName": "Ann",
            "lastName": "Lee",
            "email": "ann@example.com",
            **fields,
        }
        refused = (await api.data(CREATE, {"input": values}))["createCustomer"]
        assert refused["__typename"] == "ValidationError", (fields, refused)
        assert refused["field"] == bad_field, (fields, refused)
    assert await names(api, location_id) == []

    ann = await create(api, location_id, "Ann", "Lee", "ann@example.com")
    for changes, bad_field in (
        ({"email": "nope"}, "email"),
        ({"email": ""}, "email"),
        ({"firstName": "  "}, "firstName"),
        ({"firstName": None}, "firstName"),
        ({"lastName": "Changed", "mobilePhone": "phone"}, "mobilePhone"),
    ):
        refused = await update(api, ann["id"], **changes)
        assert refused["__typename"] == "ValidationError", (changes, refused)
        assert refused["field"] == bad_field, (changes, refused)
    [unchanged] = [edge["node"] for edge in (await page(api, location_id))["edges"]]
    assert unchanged == {k: v for k, v in ann.items() if k != "__typename"}


async def test_unknown_ids_are_not_found(api):
    for unknown in ("999999", "abc", "-1"):
        assert (await update(api, unknown, firstName="x"))["__typename"] == "NotFound"
        assert (await create(api, unknown))["__typename"] == "NotFound"
        assert (await page(api, unknown))["__typename"] == "NotFound"


async def test_search_matches_name_email_and_phone_ignoring_case(api):
    location_id = await new_location(api)
    other_location = await new_location(api, "Elsewhere")
    await create(api, location_id, "Ann", "Lee", "ann.lee@example.com", mobilePhone="+44 7700 900123")
    await create(api, location_id, "Bob", "Marsh", "Bob@Work.org", mobilePhone="020 7946 0001")
    await create(api, location_id, "Cara", "Leeds", "cara@example.com")
    await create(api, location_id, "Dan", "Annand", "dan@mail.net")
    await create(api, other_location, "Ann", "Other", "ann@other.example")

    assert await names(api, location_id, "ANN") == ["Dan Annand", "Ann Lee"]  # first name, last name, email
    assert await names(api, location_id, "lee") == ["Ann Lee", "Cara Leeds"]
    assert await names(api, location_id, "mArSh") == ["Bob Marsh"]
    assert await names(api, location_id, "work.ORG") == ["Bob Marsh"]  # email, stored with capitals
    assert await names(api, location_id, "example.com") == ["Ann Lee", "Cara Leeds"]
    assert await names(api, location_id, "900123") == ["Ann Lee"]  # phone
    assert await names(api, location_id, "7946") == ["Bob Marsh"]
    assert await names(api, location_id, "+44") == ["Ann Lee"]
    assert await names(api, location_id, "ann lee") == ["Ann Lee"]  # every word must match
    assert await names(api, location_id, "zzz") == []
    assert await names(api, location_id, "%") == []  # LIKE wildcards are literal
    assert await names(api, location_id, "_") == []
    assert await names(api, location_id, "   ") == ["Dan Annand", "Ann Lee", "Cara Leeds", "Bob Marsh"]
    assert await names(api, other_location, "ann") == ["Ann Other"]


async def test_customers_are_ordered_by_last_then_first_name(api):
    location_id = await new_location(api)
    twins = []
    for first, last in (
        ("Zoe", "Smith"),
        ("Jo", "Brown"),
        ("Adam", "Smith"),
        ("Jo", "Brown"),
        ("Carl", "Adams"),
        ("Amy", "Smith"),
    ):
        created = await create(api, location_id, first, last, f"{first}.{last}.{len(twins)}@example.com")
        twins.append(created["id"])
    connection = await page(api, location_id)
    assert [edge["node"]["fullName"] for edge in connection["edges"]] == [
        "Carl Adams",
        "Jo Brown",
        "Jo Brown",
        "Adam Smith",
        "Amy Smith",
        "Zoe Smith",
    ]
    # Equal names keep a stable order: the one created first comes first.
    assert [edge["node"]["id"] for edge in connection["edges"][1:3]] == [twins[1], twins[3]]


async def test_pages_of_two_walk_every_customer_exactly_once(api):
    location_id = await new_location(api)
    people = [
        ("Zoe", "Smith"),
        ("Jo", "Brown"),
        ("Adam", "Smith"),
        ("Jo", "Brown"),
        ("Carl", "Adams"),
        ("Amy", "Smith"),
        ("Eve", "Brown"),
    ]
    ids = [
        (await create(api, location_id, first, last, f"c{i}@example.com"))["id"]
        for i, (first, last) in enumerate(people)
    ]
    everyone = [edge["node"]["id"] for edge in (await page(api, location_id))["edges"]]
    assert sorted(everyone) == sorted(ids)

    pages = await walk(api, location_id, first=2)
    walked = [edge["node"]["id"] for connection in pages for edge in connection["edges"]]
    assert walked == everyone  # each exactly once, in the listing's order
    assert [len(connection["edges"]) for connection in pages] == [2, 2, 2, 1]
    assert [connection["pageInfo"]["hasPreviousPage"] for connection in pages] == [False, True, True, True]
    for connection in pages:
        edges, info = connection["edges"], connection["pageInfo"]
        assert (info["startCursor"], info["endCursor"]) == (edges[0]["cursor"], edges[-1]["cursor"])

    # Paging combines with a search; the page after the last one is empty.
    pages = await walk(api, location_id, search="smith", first=2)
    assert [edge["node"]["fullName"] for connection in pages for edge in connection["edges"]] == [
        "Adam Smith",
        "Amy Smith",
        "Zoe Smith",
    ]
    beyond = await page(api, location_id, search="smith", first=2, after=pages[-1]["pageInfo"]["endCursor"])
    assert beyond["edges"] == [] and beyond["pageInfo"]["hasNextPage"] is False


async def test_bad_page_arguments_are_refused(api):
    location_id = await new_location(api)
    await create(api, location_id, "Ann", "Lee")
    for arguments, bad_field in (
        ({"after": "garbage"}, "after"),
        ({"after": "!!!"}, "after"),
        ({"after": encode_cursor(["Lee", "Ann"])}, "after"),  # too few values
        ({"after": encode_cursor(["Lee", "Ann", "not-an-id"])}, "after"),  # forged: wrong type
        ({"after": encode_cursor(["Lee", "Ann", 2**40])}, "after"),  # forged: id out of range
        ({"after": encode_cursor([1, 2, 3])}, "after"),
        ({"first": 0}, "first"),
        ({"first": -1}, "first"),
        ({"first": 101}, "first"),
        ({"first": 1000}, "first"),
    ):
        refused = await page(api, location_id, **arguments)
        assert refused["__typename"] == "ValidationError", (arguments, refused)
        assert refused["field"] == bad_field, (arguments, refused)
    assert len((await page(api, location_id, first=100))["edges"]) == 1
