"""Lists as Relay clients page them: backward paging (`last`/`before`) gives the same items and
cursors as forward paging, with `pageInfo` right at both ends; `totalCount` counts the filtered
list whatever the page, and only when asked; filters take lists (`statuses`)."""

from __future__ import annotations

from helpers import book, local, make_clinic, statements

CANCEL = "mutation($id: ID!) { cancelAppointment(id: $id) { __typename } }"

PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
APPOINTMENTS = (
    """query($l: ID!, $first: Int, $after: String, $last: Int, $before: String, $st: AppointmentStatus,
  $sts: [AppointmentStatus!], $c: ID) {
  appointments(locationId: $l, first: $first, after: $after, last: $last, before: $before, status: $st, statuses: $sts, calendarId: $c) {
    __typename ... on AppointmentConnection { totalCount edges { cursor node { id } } %s } ... on ValidationError { field } } }"""
    % PAGE_INFO
)
CUSTOMERS = (
    """query($l: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  customers(locationId: $l, first: $first, after: $after, last: $last, before: $before) {
    __typename ... on CustomerConnection { edges { cursor node { id } } %s } } }"""
    % PAGE_INFO
)
LINKS = (
    """query($c: ID!, $first: Int, $after: String, $last: Int, $before: String, $st: OneTimeLinkStatus, $sts: [OneTimeLinkStatus!]) {
  oneTimeLinks(calendarId: $c, first: $first, after: $after, last: $last, before: $before, status: $st, statuses: $sts) {
    __typename ... on OneTimeLinkConnection { totalCount edges { cursor node { id } } %s } ... on ValidationError { field } } }"""
    % PAGE_INFO
)
DELIVERIES = """query($l: ID!, $st: DeliveryStatus, $sts: [DeliveryStatus!], $first: Int) {
  emailDeliveries(locationId: $l, status: $st, statuses: $sts, first: $first) {
    __typename ... on EmailDeliveryConnection { totalCount edges { node { id } } } ... on ValidationError { field } } }"""


async def _page(api, query: str, field: str, variables: dict) -> dict:
    page = (await api.data(query, variables))[field]
    assert "edges" in page, page
    return page


async def walk(api, query: str, field: str, variables: dict, size: int) -> tuple[list, list]:
    """Every (id, cursor) of a list paged forward with `first`, then backward with `last`, and
    the pageInfo of each page, checked at both ends and in between."""
    forward, after, infos = [], None, []
    while True:
        page = await _page(api, query, field, {**variables, "first": size, "after": after})
        forward += [(e["node"]["id"], e["cursor"]) for e in page["edges"]]
        infos.append(page["pageInfo"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [i["hasPreviousPage"] for i in infos] == [False] + [True] * (len(infos) - 1), infos
    assert [i["hasNextPage"] for i in infos] == [True] * (len(infos) - 1) + [False], infos
    backward, before, infos = [], None, []
    while True:
        page = await _page(api, query, field, {**variables, "last": size, "before": before})
        backward = [(e["node"]["id"], e["cursor"]) for e in page["edges"]] + backward
        infos.append(page["pageInfo"])
        assert len(page["edges"]) == size or not page["pageInfo"]["hasPreviousPage"], page
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert [i["hasNextPage"] for i in infos] == [False] + [True] * (len(infos) - 1), infos
    assert [i["hasPreviousPage"] for i in infos] == [True] * (len(infos) - 1) + [False], infos
    return forward, backward


async def test_paging_backward_gives_the_items_and_cursors_of_paging_forward(api):
    clinic = await make_clinic(api)
    hours = (15, 9, 13, 10, 16, 11, 12)
    booked = {hour: (await book(api, clinic, local(clinic.tz, 2, hour)))["id"] for hour in hours}
    forward, backward = await walk(api, APPOINTMENTS, "appointments", {"l": clinic.location}, 3)
    assert [i for i, _ in forward] == [booked[hour] for hour in sorted(hours)]
    assert backward == forward and len(forward) == 7
    # One cursor serves both directions: the items on either side of the fourth one.
    middle = forward[3][1]
    before = await _page(api, APPOINTMENTS, "appointments", {"l": clinic.location, "last": 2, "before": middle})
    assert [(e["node"]["id"], e["cursor"]) for e in before["edges"]] == forward[1:3]
    assert (before["pageInfo"]["hasPreviousPage"], before["pageInfo"]["hasNextPage"]) == (True, True)
    after = await _page(api, APPOINTMENTS, "appointments", {"l": clinic.location, "first": 2, "after": middle})
    assert [(e["node"]["id"], e["cursor"]) for e in after["edges"]] == forward[4:6]
    between = await _page(
        api, APPOINTMENTS, "appointments", {"l": clinic.location, "after": forward[0][1], "before": forward[4][1]}
    )
    assert [(e["node"]["id"], e["cursor"]) for e in between["edges"]] == forward[1:4]


async def test_backward_paging_on_lists_ordered_by_several_columns_and_newest_first(api):
    clinic = await make_clinic(api)
    names = (("Bo", "Lee"), ("Al", "Lee"), ("Cy", "Ng"), ("Al", "Ng"), ("Di", "Abe"), ("Al", "Lee"), ("Ed", "Zu"))
    for n, (first, last) in enumerate(names):
        made = await api.data(
            "mutation($l: ID!, $f: String!, $n: String!, $e: String!) { createCustomer(input: {locationId: $l, firstName: $f, lastName: $n, email: $e}) { __typename } }",
            {"l": clinic.location, "f": first, "n": last, "e": f"c{n}@example.com"},
        )
        assert made["createCustomer"]["__typename"] == "Customer", made
    forward, backward = await walk(api, CUSTOMERS, "customers", {"l": clinic.location}, 3)
    assert backward == forward and len(forward) == 8  # the clinic's own customer too

    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    made = [
        (
            await api.data(
                "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { id } } }",
                {"c": clinic.calendar},
            )
        )["createOneTimeLink"]["id"]
        for _ in range(7)
    ]
    forward, backward = await walk(api, LINKS, "oneTimeLinks", {"c": clinic.calendar}, 3)
    assert backward == forward and [i for i, _ in forward] == made[::-1]  # newest first


async def test_total_count_counts_the_filtered_list_whatever_the_page(api):
    clinic = await make_clinic(api)
    other = (
        await api.data(
            'mutation($l: ID!) { createCalendar(input: {locationId: $l, name: "Room 2"}) { ... on Calendar { id } } }',
            {"l": clinic.location},
        )
    )["createCalendar"]["id"]
    ids = [(await book(api, clinic, local(clinic.tz, 2, hour)))["id"] for hour in range(9, 15)]
    for i in ids[:2]:
        assert (await api.data(CANCEL, {"id": i}))["cancelAppointment"]["__typename"] == "Appointment"
    await api.data("mutation($id: ID!) { confirmAppointment(id: $id) { __typename } }", {"id": ids[2]})

    async def count(**variables) -> int:
        return (await _page(api, APPOINTMENTS, "appointments", {"l": clinic.location, **variables}))["totalCount"]

    assert await count() == 6
    assert (
        await count(first=2)
        == await count(
            first=2,
            after=(await _page(api, APPOINTMENTS, "appointments", {"l": clinic.location, "first": 2}))["pageInfo"][
                "endCursor"
            ],
        )
        == 6
    )
    assert await count(last=1) == 6
    assert await count(st="CANCELLED") == await count(sts=["CANCELLED"]) == 2
    assert await count(sts=["SCHEDULED", "CONFIRMED"]) == 4
    assert await count(sts=["SCHEDULED", "CONFIRMED"], first=1) == 4
    assert await count(sts=[]) == 0
    listed = await _page(api, APPOINTMENTS, "appointments", {"l": clinic.location, "sts": ["CONFIRMED", "CANCELLED"]})
    assert [e["node"]["id"] for e in listed["edges"]] == ids[:3]
    assert await count(c=clinic.calendar) == 6 and await count(c=other) == 0


async def test_total_count_runs_a_count_only_when_asked(api_factory):
    api = await api_factory(run_worker=False)  # an idle delivery worker's polls would be counted too
    clinic = await make_clinic(api)
    for hour in (9, 10, 11):
        await book(api, clinic, local(clinic.tz, 2, hour))
    plain = APPOINTMENTS.replace("totalCount ", "")
    with statements() as unasked:
        await _page(api, plain, "appointments", {"l": clinic.location, "first": 2})
    with statements() as asked:
        page = await _page(api, APPOINTMENTS, "appointments", {"l": clinic.location, "first": 2})
    assert page["totalCount"] == 3
    assert not [s for s in unasked if "count(" in s.lower()], unasked
    counts = [s for s in asked if "count(" in s.lower()]
    assert len(counts) == 1 and len(asked) == len(unasked) + 1, asked


async def test_filters_take_lists_of_statuses(api_factory):
    api = await api_factory(run_worker=False)  # emails stay queued
    clinic = await make_clinic(api)
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    links = [
        (
            await api.data(
                "mutation($c: ID!) { createOneTimeLink(input: {calendarId: $c}) { ... on OneTimeLink { id } } }",
                {"c": clinic.calendar},
            )
        )["createOneTimeLink"]["id"]
        for _ in range(3)
    ]
    await api.data("mutation($id: ID!) { revokeOneTimeLink(id: $id) { __typename } }", {"id": links[0]})

    async def linked(**variables) -> dict:
        return (await api.data(LINKS, {"c": clinic.calendar, **variables}))["oneTimeLinks"]

    assert (await linked(sts=["REVOKED"]))["totalCount"] == (await linked(st="REVOKED"))["totalCount"] == 1
    assert (await linked(sts=["ACTIVE", "REVOKED"]))["totalCount"] == 3
    assert (await linked(sts=[]))["totalCount"] == 0 and (await linked(sts=[]))["edges"] == []
    assert [e["node"]["id"] for e in (await linked(sts=["ACTIVE", "USED"]))["edges"]] == links[:0:-1]
    assert await linked(st="ACTIVE", sts=["ACTIVE"]) == {"__typename": "ValidationError", "field": "statuses"}

    await book(api, clinic, local(clinic.tz, 2, 10))
    queued = (await api.data(DELIVERIES, {"l": clinic.location}))["emailDeliveries"]["totalCount"]
    assert queued > 0
    assert (await api.data(DELIVERIES, {"l": clinic.location, "sts": ["QUEUED", "SENT"]}))["emailDeliveries"][
        "totalCount"
    ] == queued
    assert (await api.data(DELIVERIES, {"l": clinic.location, "sts": ["SENT", "FAILED"]}))["emailDeliveries"][
        "totalCount"
    ] == 0
    assert (await api.data(DELIVERIES, {"l": clinic.location, "sts": []}))["emailDeliveries"]["totalCount"] == 0
    assert (await api.data(DELIVERIES, {"l": clinic.location, "st": "QUEUED", "sts": ["QUEUED"]}))[
        "emailDeliveries"
    ] == {"__typename": "ValidationError", "field": "statuses"}


async def test_bad_paging_and_filter_arguments_are_refused(api):
    clinic = await make_clinic(api)
    await book(api, clinic, local(clinic.tz, 2, 10))
    refused = {
        "first and last": ({"first": 2, "last": 2}, "last"),
        "last too small": ({"last": 0}, "last"),
        "last too large": ({"last": 101}, "last"),
        "before not a cursor": ({"before": "not-a-cursor"}, "before"),
        "before forged": ({"before": "eyJ4IjoxfQ"}, "before"),
        "status and statuses": ({"st": "SCHEDULED", "sts": ["SCHEDULED"]}, "statuses"),
    }
    for name, (variables, field) in refused.items():
        answer = (await api.data(APPOINTMENTS, {"l": clinic.location, **variables}))["appointments"]
        assert answer == {"__typename": "ValidationError", "field": field}, name
    refused_customers = await api.data(
        CUSTOMERS.replace("__typename", "__typename ... on ValidationError { field }"),
        {"l": clinic.location, "before": "WyJMZWUiLCAiQW5uIiwgIm5vdC1hbi1pZCJd"},
    )
    assert refused_customers["customers"] == {"__typename": "ValidationError", "field": "before"}
