"""agendum-hello's own tests, written with Agendum's test kit alone (the `agendum_*` fixtures of
the pytest plugin Agendum installs): no conftest. pytest-asyncio runs in its default strict mode
here, so each test is marked."""

import pytest

from agendum_testing.clinic import book, local

pytestmark = pytest.mark.asyncio

HELLO = "query($l: ID!) { helloWorld(locationId: $l) { __typename ... on HelloWorld { text } } }"
SAVE = "mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { __typename } }"


async def test_greets_only_where_enabled(agendum_api, agendum_clinic, agendum_enable_plugin):
    ask = {"l": agendum_clinic.location}
    assert (await agendum_api.data(HELLO, ask))["helloWorld"]["__typename"] == "PluginDisabled"
    await agendum_enable_plugin(agendum_clinic.location, "hello")
    assert (await agendum_api.data(HELLO, ask))["helloWorld"] == {"__typename": "HelloWorld", "text": "Hello, Clinic!"}


async def test_the_booking_email_greets_the_customer(agendum_api, agendum_clinic, agendum_enable_plugin, agendum_send_due_emails):
    await agendum_enable_plugin(agendum_clinic.location, "hello")
    template = {"locationId": agendum_clinic.location, "name": "Booked", "event": "APPOINTMENT_BOOKED", "role": "CUSTOMER",
                "subject": "Booked", "body": "{HelloGreeting}!"}
    assert (await agendum_api.data(SAVE, {"i": template}))["saveEmailTemplate"]["__typename"] == "EmailTemplate"
    assert (await book(agendum_api, agendum_clinic, local(agendum_clinic.tz, 3, 10)))["__typename"] == "Appointment"
    (mail,) = [m for m in await agendum_send_due_emails() if m.recipients == ["ada@example.com"]]
    assert mail.message.get_body(("plain",)).get_content().strip() == "Hello Ada!"
