"""Safe retries: a mutation sent with an `Idempotency-Key` and sent again with the same key and
body returns the first answer and changes nothing, for 24 hours; the key is recorded in the
transaction of the mutation's effect, belongs to its principal, and is refused for another body
or without a principal. Concurrent requests with one key make one change."""

from __future__ import annotations

import asyncio
import json
import uuid

from helpers import BOOK, local, make_clinic

from core.email.delivery import DeliveryConfig
from core.models import Appointment, Customer, IdempotentRequest, OutboxMessage

CREATE_CUSTOMER = 'mutation($l: ID!, $n: String!) { createCustomer(input: {locationId: $l, firstName: $n, lastName: "Retry", email: "retry@example.com"}) { __typename ... on Customer { id } } }'


async def post(api, query: str, variables: dict, key: str | None, token: str | None = "owner", client=None):
    headers = {}
    if key is not None:
        headers["Idempotency-Key"] = key
    if token:
        headers["Authorization"] = f"Bearer {api.owner_token if token == 'owner' else token}"
    return await (client or api.client).post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def booking(clinic, start) -> dict:
    return {"c": clinic.calendar, "s": clinic.service, "u": clinic.customer, "t": start.isoformat(), "o": False}


async def test_a_retried_booking_returns_the_first_answer_and_books_once(api):
    clinic = await make_clinic(api)
    key, variables = str(uuid.uuid4()), booking(clinic, local(clinic.tz, 2, 10))
    first = await post(api, BOOK, variables, key)
    assert first.status_code == 200 and first.json()["data"]["bookAppointment"]["__typename"] == "Appointment"
    assert "idempotent-replayed" not in first.headers
    again = await post(api, BOOK, variables, key)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await Appointment.filter(location_id=int(clinic.location)).count() == 1
    assert await OutboxMessage.filter(appointment_id=int(first.json()["data"]["bookAppointment"]["id"])).count() == 1
    without_key = await post(api, BOOK, variables, None)  # no key: an ordinary second request
    assert without_key.json()["data"]["bookAppointment"]["__typename"] == "SlotUnavailable"


async def test_the_same_key_for_another_body_is_refused_and_changes_nothing(api):
    clinic = await make_clinic(api)
    key = "same-key"
    created = await post(api, CREATE_CUSTOMER, {"l": clinic.location, "n": "Ann"}, key)
    assert created.json()["data"]["createCustomer"]["__typename"] == "Customer"
    other = await post(api, CREATE_CUSTOMER, {"l": clinic.location, "n": "Bob"}, key)
    assert other.status_code == 422 and other.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert not await Customer.filter(first_name="Bob").exists()


async def test_keys_belong_to_their_principal_and_need_one(api):
    clinic = await make_clinic(api)
    login = await api.client.post(
        "/graphql",
        json={
            "query": 'mutation { staffLogin(email: "owner@test.example", password: "owner-password-1") { ... on StaffSession { token } } }'
        },
    )
    second_token = login.json()["data"]["staffLogin"]["token"]
    # Two tokens of one user are one principal: the key replays across them.
    first = await post(api, CREATE_CUSTOMER, {"l": clinic.location, "n": "Cy"}, "shared", token="owner")
    assert first.json()["data"]["createCustomer"]["__typename"] == "Customer"
    replay = await post(api, CREATE_CUSTOMER, {"l": clinic.location, "n": "Cy"}, "shared", token=second_token)
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json() == first.json()
    anonymous = await post(api, CREATE_CUSTOMER, {"l": clinic.location, "n": "Di"}, "k", token=None)
    assert (
        anonymous.status_code == 400
        and anonymous.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_NEEDS_SIGN_IN"
    )
    for bad in ("", "x" * 256, "tab\tkey"):
        refused = await post(api, CREATE_CUSTOMER, {"l": clinic.location, "n": "Ed"}, bad)
        assert refused.status_code == 400 and refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", bad
    assert not await Customer.filter(first_name__in=["Di", "Ed"]).exists()
    # A query ignores the header: nothing is recorded.
    query = await post(api, "{ __typename }", {}, "query-key")
    assert query.status_code == 200 and not await IdempotentRequest.filter(key="query-key").exists()


async def test_many_simultaneous_retries_make_one_booking(api):
    clinic = await make_clinic(api)
    key, variables = str(uuid.uuid4()), booking(clinic, local(clinic.tz, 3, 11))
    answers = await asyncio.gather(*(post(api, BOOK, variables, key) for _ in range(8)))
    assert await Appointment.filter(location_id=int(clinic.location)).count() == 1
    booked = [a for a in answers if a.status_code == 200]
    assert booked and all(a.json()["data"]["bookAppointment"]["__typename"] == "Appointment" for a in booked)
    assert len({json.dumps(a.json(), sort_keys=True) for a in booked}) == 1  # one answer, replayed
    busy = [a for a in answers if a.status_code != 200]
    assert all(
        a.status_code == 409 and a.json()["errors"][0]["extensions"]["code"] == "REQUEST_IN_PROGRESS" for a in busy
    )


async def test_the_record_is_in_the_database_so_another_server_replays_it(api_factory):
    first_server = await api_factory()
    second_server = await api_factory()  # another process would see the same: the record is in the database
    clinic = await make_clinic(first_server)
    variables = {"l": clinic.location, "n": "Flo"}
    first = await post(first_server, CREATE_CUSTOMER, variables, "k1")
    assert first.json()["data"]["createCustomer"]["__typename"] == "Customer"
    replay = await post(first_server, CREATE_CUSTOMER, variables, "k1", client=second_server.client)
    assert replay.headers.get("idempotent-replayed") == "true" and replay.json() == first.json()
    assert await Customer.filter(first_name="Flo").count() == 1


async def test_a_key_is_kept_24_hours(api, advance_clock):
    clinic = await make_clinic(api)
    variables = {"l": clinic.location, "n": "Gus"}
    await post(api, CREATE_CUSTOMER, variables, "day-key")
    advance_clock(24 * 3600 - 1)
    assert (await post(api, CREATE_CUSTOMER, variables, "day-key")).headers.get("idempotent-replayed") == "true"
    advance_clock(2)
    fresh = await post(api, CREATE_CUSTOMER, variables, "day-key")  # runs again: the address is taken by then
    assert "idempotent-replayed" not in fresh.headers
    assert fresh.json()["data"]["createCustomer"]["__typename"] == "ValidationError"
    # Expired answers are deleted as keys are used: only the fresh one is left.
    assert await IdempotentRequest.filter(key="day-key").count() == 1
    await post(api, CREATE_CUSTOMER, {"l": clinic.location, "n": "Hal"}, "other-key")
    advance_clock(24 * 3600 + 1)
    await post(api, 'mutation { revokeStaffToken(token: "none") { __typename } }', {}, "last-key")
    assert await IdempotentRequest.filter(key__in=["day-key", "other-key"]).count() == 0


async def test_a_retried_bookings_email_is_sent_once_and_at_once(api_factory, smtp):
    quiet = DeliveryConfig(poll_interval=3600.0, lanes=1)  # the worker looks only when woken, after commit
    api = await api_factory(smtp_url=smtp.url(), delivery=quiet)
    clinic = await make_clinic(api)
    variables = booking(clinic, local(clinic.tz, 2, 9))
    for _ in range(2):
        assert (await post(api, BOOK, variables, "mail-key")).json()["data"]["bookAppointment"][
            "__typename"
        ] == "Appointment"
    await smtp.wait_for(1)
    await smtp.settle()
    assert len(smtp.received) == 1
