"""Control characters never get past the input layer. Every text input of the API (string and ID
arguments, input-object fields, lists of them, strings and keys inside `JSON`) is checked before
its resolver runs (schema/text_inputs.py): a control character is a `ValidationError` naming the
field by its path and changes nothing; fields marked `@multiline` keep line breaks and tabs, every
other one is one line. The sweeps are generated from the printed schema, so a new field or
argument cannot escape them. Forms of customer pages read text through web/params.py, which uses
the same check and answers a 400 page naming the field."""

from __future__ import annotations

import asyncio
import json

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    build_schema,
    get_nullable_type,
)
from helpers import book, local, make_clinic
from portal_helpers import CSRF_RE, PASSWORD, portal_clinic
from tortoise import Tortoise

from app import printed_schema
from core.errors import ValidationFailed
from core.models import Appointment, CalendarException, EmailTemplate
from core.validation import plain_text
from web.csrf import csrf_token

# A NUL is what PostgreSQL refused (INTERNAL before); the others are other kinds of control:
# an escape sequence, DEL, a C1 "next line", a lone surrogate (no UTF-8 can carry it).
CONTROLS = ["\x00", "\x1b[2J", "\x7f", "\u0085", "\ud800"]
SCHEMA = build_schema(printed_schema())
SCALARS = {
    "ID": "1",
    "String": "x",
    "Int": 1,
    "Boolean": False,
    "DateTime": "2030-01-07T10:00:00+00:00",
    "Date": "2030-01-07",
    "Decimal": "1",
    "JSON": {},
}


async def post(api, query: str, variables: dict, token: str | None = None) -> dict:
    """A GraphQL request whose JSON is written in ASCII (\\u escapes), so lone surrogates travel too."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    response = await api.client.post(
        "/graphql", content=json.dumps({"query": query, "variables": variables}), headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def posts(api, requests: list[tuple[str, dict]], token: str | None = None) -> list[dict]:
    """Many requests (anonymous by default), a few at a time (each waits mostly on the loopback, not the CPU)."""
    slots = asyncio.Semaphore(8)

    async def one(query: str, variables: dict) -> dict:
        async with slots:
            return await post(api, query, variables, token)

    return await asyncio.gather(*(one(query, variables) for query, variables in requests))


def refused_field(body: dict, field: str) -> str | None:
    """The path a refusal names: the ValidationError in the field's result, or the coded error."""
    if body.get("errors"):
        error = body["errors"][0]["extensions"]
        assert error["code"] == "BAD_USER_INPUT", body
        return error["field"]
    result = body["data"][field]
    return result["field"] if result["__typename"] == "ValidationError" else None


# ------------------------------------------------------------------ the check itself


@pytest.mark.parametrize("value", [*CONTROLS, "\r", "\x08", "\x9f", "\ufffe", "\U0010ffff", "\ufdd0"])
def test_plain_text_refuses_what_is_never_text(value):
    for multiline in (False, True):
        with pytest.raises(ValidationFailed) as refused:
            plain_text("input.name", f"Ada{value}", multiline=multiline)
        assert refused.value.field == "input.name" and "U+" in refused.value.message


def test_plain_text_keeps_line_breaks_and_tabs_only_when_multiline():
    assert (
        plain_text("body", "Dear Ada,\r\n\tsee you\n\u2028soon", multiline=True) == "Dear Ada,\n\tsee you\n\u2028soon"
    )
    for value in ("a\nb", "a\tb", "a\r\nb", "a\u2028b"):
        with pytest.raises(ValidationFailed, match="one line"):
            plain_text("name", value)
    assert plain_text("name", "Zoë O’Brien 日本 🙂 \u200d") == "Zoë O’Brien 日本 🙂 \u200d"


# ------------------------------------------------------------------ every text input, from the schema


def _value(type_):
    """A value of a GraphQL input type, filling only what is required."""
    type_ = get_nullable_type(type_)
    if isinstance(type_, GraphQLList):
        return [_value(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _value(f.type)
            for name, f in type_.fields.items()
            if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined
        }
    return SCALARS[type_.name]


def _multiline(argument_or_field) -> bool:
    node = argument_or_field.ast_node
    return any(d.name.value == "multiline" for d in node.directives or ())


def _positions(type_, value, path: str, multiline: bool):
    """(path, multiline, setter) of each text position in a value of this type: the setter returns
    the value with that position's text replaced."""
    nullable = get_nullable_type(type_)
    if isinstance(nullable, GraphQLList):
        for inner in _positions(nullable.of_type, _value(nullable.of_type), f"{path}[0]", multiline):
            yield inner[0], inner[1], lambda text, set_=inner[2]: [set_(text)]
    elif isinstance(nullable, GraphQLInputObjectType):
        for name, field in nullable.fields.items():
            inner_value = value.get(name) if name in value else _value(field.type)
            for inner in _positions(field.type, inner_value, f"{path}.{name}", _multiline(field)):
                yield inner[0], inner[1], lambda text, name=name, set_=inner[2]: {**value, name: set_(text)}
    elif isinstance(nullable, GraphQLScalarType) and nullable.name in ("String", "ID"):
        yield path, multiline, lambda text: f"a{text}b"
    elif isinstance(nullable, GraphQLScalarType) and nullable.name == "JSON":
        yield f"{path}.note", True, lambda text: {"note": f"a{text}b"}


def _type_name(type_) -> str:
    if isinstance(type_, GraphQLNonNull):
        return f"{_type_name(type_.of_type)}!"
    if isinstance(type_, GraphQLList):
        return f"[{_type_name(type_.of_type)}]"
    return type_.name


def every_text_input():
    """(root field, its query, its variables with the text at one position replaced, the path, multiline)."""
    for root in (SCHEMA.query_type, SCHEMA.mutation_type):
        keyword = "query" if root is SCHEMA.query_type else "mutation"
        for name, field in root.fields.items():
            if not field.args:
                continue
            result = get_nullable_type(field.type)
            spread = (
                " ... on ValidationError { field message }"
                if (isinstance(result, GraphQLUnionType) and any(t.name == "ValidationError" for t in result.types))
                else ""
            )
            declared = ", ".join(f"${arg}: {_type_name(a.type)}" for arg, a in field.args.items())
            passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
            query = f"{keyword}({declared}) {{ {name}({passed}) {{ __typename{spread} }} }}"
            base = {arg: _value(a.type) for arg, a in field.args.items()}
            for arg, a in field.args.items():
                for path, multiline, replaced in _positions(a.type, base[arg], arg, _multiline(a)):
                    yield (
                        name,
                        query,
                        lambda text, base=base, arg=arg, replaced=replaced: {**base, arg: replaced(text)},
                        path,
                        multiline,
                    )


TEXT_INPUTS = list(every_text_input())


def test_the_sweep_reaches_the_inputs_the_issue_names():
    swept = {(name, path) for name, _, _, path, _ in TEXT_INPUTS}
    named = {
        ("staffLogin", "password"),
        ("portalLogin", "email"),
        ("portalRegister", "input.firstName"),
        ("portalRequestPasswordReset", "email"),
        ("customers", "search"),
        ("createCustomer", "input.lastName"),
        ("saveEmailTemplate", "input.body"),
        ("createOneTimeLink", "input.note"),
        ("createStaffUser", "input.name"),
        ("updatePluginSettings", "settings.note"),
        ("updateLocationRules", "input.cancellationReasons[0]"),
        ("updateEmailSettings", "input.staffNotices[0].event"),
        ("actionLink", "token"),
    }
    assert named <= swept, named - swept
    multiline = {(name, path) for name, _, _, path, is_multiline in TEXT_INPUTS if is_multiline}
    assert {
        ("saveEmailTemplate", "input.body"),
        ("cancelAppointment", "note"),
        ("portalCancel", "note"),
        ("updateLocationRules", "input.cancellationPolicy"),
        ("addCalendarException", "input.note"),
    } <= multiline


async def test_every_text_input_refuses_control_characters_before_anything_runs(api):
    # Anonymous: refused before the caller is even asked for.
    sent = [
        (name, path, control, query, variables(control))
        for name, query, variables, path, _ in TEXT_INPUTS
        for control in (CONTROLS if name == "staffLogin" else CONTROLS[:2])
    ]
    answers = await posts(api, [(query, variables) for *_, query, variables in sent])
    wrong = [
        (name, path, repr(control), body)
        for (name, path, control, *_), body in zip(sent, answers)
        if refused_field(body, name) != path
    ]
    assert not wrong, wrong[:5]


async def test_only_multiline_inputs_keep_line_breaks_and_tabs(api):
    sent = [
        (name, path, text, multiline, query, variables(text))
        for name, query, variables, path, multiline in TEXT_INPUTS
        for text in ("\n", "\t", "\r\n")
    ]
    answers = await posts(api, [(query, variables) for *_, query, variables in sent])
    wrong = [
        (name, path, repr(text), "kept" if multiline else "refused")
        for (name, path, text, multiline, *_), body in zip(sent, answers)
        if (refused_field(body, name) == path) == multiline
    ]
    assert not wrong, wrong


async def test_a_string_written_in_the_query_is_checked_too(api_factory):
    api = await api_factory(debug=False)  # production: errors masked, but not this one
    body = await post(
        api,
        'mutation { staffLogin(email: "a\\u0000@example.com", password: "x") { __typename ... on ValidationError { field message } } }',
        {},
    )
    assert body["data"]["staffLogin"] == {
        "__typename": "ValidationError",
        "field": "email",
        "message": "Control characters are not allowed (U+0000 at character 2).",
    }
    body = await post(api, 'query { actionLink(token: "a\\u001b") { __typename } }', {})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "token"}
    assert body["errors"][0]["message"].startswith("token: Control characters are not allowed")


# ------------------------------------------------------------------ the issue's list, for real, on both databases


async def _rows() -> dict[str, list]:
    """Every row of every table, to show that a refused request changed nothing."""
    rows = {}
    for app_models in Tortoise.apps.values():
        for name, model in app_models.items():
            rows[name] = sorted(map(repr, await model.all().values()))
    return rows


def _spoiled(valid: dict, variable: str, key: str | None, control: str) -> dict:
    """The variables with a control character inside one text (`variable`, or its `key`)."""
    variables = json.loads(json.dumps(valid))
    holder, name = (variables, variable) if key is None else (variables[variable], key)
    holder[name] = holder[name][:2] + control + holder[name][2:]
    return variables


async def test_the_named_fields_refuse_control_characters_and_change_nothing(api_factory):
    api = await api_factory(run_worker=False)
    clinic, slug = await portal_clinic(api)
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "one_time_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    problem = "__typename ... on ValidationError { field message }"
    register = {
        "firstName": "Ann",
        "lastName": "Other",
        "email": "ann@example.com",
        "password": PASSWORD,
        "mobilePhone": "+44 7700 900555",
    }
    template = {
        "locationId": clinic.location,
        "name": "Booked",
        "event": "APPOINTMENT_BOOKED",
        "role": "CUSTOMER",
        "subject": "Booked",
        "body": "Hello {ClientFirstName}",
    }
    cases = [  # (field, query, valid variables, the texts to spoil (variable, key in it or None), the path named)
        (
            "staffLogin",
            f"mutation($e: String!, $p: String!) {{ staffLogin(email: $e, password: $p) {{ {problem} }} }}",
            {"e": "owner@test.example", "p": "owner-password-1"},
            [("e", None, "email"), ("p", None, "password")],
        ),
        (
            "portalLogin",
            f"mutation($s: String!, $e: String!, $p: String!) {{ portalLogin(slug: $s, email: $e, password: $p) {{ {problem} }} }}",
            {"s": slug, "e": "ann@example.com", "p": PASSWORD},
            [("s", None, "slug"), ("e", None, "email"), ("p", None, "password")],
        ),
        (
            "portalRegister",
            f"mutation($s: String!, $i: PortalRegisterInput!) {{ portalRegister(slug: $s, input: $i) {{ {problem} }} }}",
            {"s": slug, "i": register},
            [("i", key, f"input.{key}") for key in register],
        ),
        (
            "portalRequestPasswordReset",
            f"mutation($s: String!, $e: String!) {{ portalRequestPasswordReset(slug: $s, email: $e) {{ {problem} }} }}",
            {"s": slug, "e": "ada@example.com"},
            [("e", None, "email")],
        ),
        (
            "customers",
            f"query($l: ID!, $q: String) {{ customers(locationId: $l, search: $q) {{ {problem} }} }}",
            {"l": clinic.location, "q": "Ada"},
            [("q", None, "search")],
        ),
        (
            "createCustomer",
            f"mutation($i: CreateCustomerInput!) {{ createCustomer(input: $i) {{ {problem} }} }}",
            {
                "i": {
                    "locationId": clinic.location,
                    "firstName": "Bob",
                    "lastName": "Byte",
                    "email": "bob@example.com",
                    "mobilePhone": "+44 7700 900999",
                }
            },
            [("i", key, f"input.{key}") for key in ("firstName", "lastName", "email", "mobilePhone")],
        ),
        (
            "saveEmailTemplate",
            f"mutation($i: SaveEmailTemplateInput!) {{ saveEmailTemplate(input: $i) {{ {problem} }} }}",
            {"i": template},
            [("i", key, f"input.{key}") for key in ("name", "event", "subject", "body")],
        ),
        (
            "createOneTimeLink",
            f"mutation($i: CreateOneTimeLinkInput!) {{ createOneTimeLink(input: $i) {{ {problem} }} }}",
            {"i": {"calendarId": clinic.calendar, "note": "For Ann"}},
            [("i", "note", "input.note")],
        ),
        (
            "createStaffUser",
            f"mutation($i: CreateStaffUserInput!) {{ createStaffUser(input: $i) {{ {problem} }} }}",
            {"i": {"email": "new@test.example", "password": "new-password-12", "role": "OWNER", "name": "New"}},
            [("i", key, f"input.{key}") for key in ("email", "password", "name")],
        ),
        (
            "updatePluginSettings",
            f'mutation($l: ID!, $s: JSON!) {{ updatePluginSettings(locationId: $l, plugin: "client_portal", settings: $s) {{ {problem} }} }}',
            {"l": clinic.location, "s": {"bookingInstructions": "Come early", "slug": "my-clinic"}},
            [("s", "bookingInstructions", "settings.bookingInstructions"), ("s", "slug", "settings.slug")],
        ),
    ]
    for field, query, valid, spoiled in cases:
        before = await _rows()
        sent = [
            (path, control, _spoiled(valid, variable, key, control))
            for variable, key, path in spoiled
            for control in CONTROLS
        ]
        for (path, control, _), body in zip(sent, await posts(api, [(query, v) for *_, v in sent], api.owner_token)):
            assert not body.get("errors"), body
            answer = body["data"][field]
            assert answer["__typename"] == "ValidationError" and answer["field"] == path, (
                field,
                path,
                repr(control),
                answer,
            )
        assert await _rows() == before, field
        # The same request without the control character goes through (so the refusal above is the one that counted).
        body = await post(api, query, valid, token=api.owner_token)
        assert not body.get("errors") and body["data"][field]["__typename"] != "ValidationError", (field, body)


# ------------------------------------------------------------------ multi-line fields keep their lines


async def test_multiline_fields_keep_line_breaks_and_tabs(api):
    clinic, _ = await portal_clinic(api)
    text, kept = "First line,\r\n\tthen an indented one.\nLast.", "First line,\n\tthen an indented one.\nLast."
    saved = await api.data(
        "mutation($i: SaveEmailTemplateInput!) { saveEmailTemplate(input: $i) { __typename } }",
        {
            "i": {
                "locationId": clinic.location,
                "name": "Booked",
                "event": "APPOINTMENT_BOOKED",
                "role": "CUSTOMER",
                "subject": "Booked",
                "body": text,
            }
        },
    )
    assert saved["saveEmailTemplate"]["__typename"] == "EmailTemplate"
    assert (await EmailTemplate.get(name="Booked")).body == kept
    rules = await api.data(
        "mutation($l: ID!, $p: String!) { updateLocationRules(locationId: $l, input: {cancellationPolicy: $p}) { ... on Location { rules { cancellationPolicy } } } }",
        {"l": clinic.location, "p": text},
    )
    assert rules["updateLocationRules"]["rules"]["cancellationPolicy"] == kept
    await api.data(
        'mutation($c: ID!, $n: String!) { addCalendarException(input: {calendarId: $c, date: "2030-01-07", kind: TIME_OFF, note: $n}) { __typename } }',
        {"c": clinic.calendar, "n": text},
    )
    assert (await CalendarException.get(calendar_id=int(clinic.calendar))).note == kept
    booked = await book(api, clinic, local(clinic.tz, 3, 10))
    cancelled = await api.data(
        "mutation($a: ID!, $n: String) { cancelAppointment(id: $a, note: $n) { ... on Appointment { cancellationNote } } }",
        {"a": booked["id"], "n": text},
    )
    assert cancelled["cancelAppointment"]["cancellationNote"] == kept
    settings = "mutation($l: ID!, $p: String!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: $p, settings: $s) { __typename ... on PluginState { settings } ... on ValidationError { field message } } }"
    changed = (
        await api.data(
            settings,
            {
                "l": clinic.location,
                "p": "client_portal",
                "s": {"bookingInstructions": text, "termsAndConditions": text},
            },
        )
    )["updatePluginSettings"]
    assert (changed["settings"]["bookingInstructions"], changed["settings"]["termsAndConditions"]) == (kept, kept)
    # One-line settings (every one not declared MultilineText) refuse them, naming the key.
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    refused = (await api.data(settings, {"l": clinic.location, "p": "action_links", "s": {"linkText": "Manage\nit"}}))[
        "updatePluginSettings"
    ]
    assert (
        refused["__typename"] == "ValidationError"
        and refused["field"] == "settings.linkText"
        and "one line" in refused["message"]
    )


async def test_control_characters_nested_in_json_are_refused_by_path(api):
    clinic, _ = await portal_clinic(api)
    settings = 'mutation($l: ID!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: "client_portal", settings: $s) { __typename ... on ValidationError { field message } } }'
    for value, path in [
        ({"newAppointmentAddresses": ["a@example.com", "b\x00@example.com"]}, "settings.newAppointmentAddresses[1]"),
        ({"deep": [{"deeper": {"x": "\x1b"}}]}, "settings.deep[0].deeper.x"),
        ({"key\x00": "value"}, "settings"),
        ({"termsAndConditions": "lone \r carriage return"}, "settings.termsAndConditions"),
    ]:
        answer = (await post(api, settings, {"l": clinic.location, "s": value}, token=api.owner_token))["data"][
            "updatePluginSettings"
        ]
        assert answer["__typename"] == "ValidationError" and answer["field"] == path, (value, answer)
    deep: object = "\x00"
    for _ in range(500):
        deep = [deep]
    answer = (await post(api, settings, {"l": clinic.location, "s": {"x": deep}}, token=api.owner_token))["data"][
        "updatePluginSettings"
    ]
    assert answer["__typename"] == "ValidationError" and answer["field"] == "settings.x" + "[0]" * 500


# ------------------------------------------------------------------ forms of customer pages


async def test_a_form_with_a_control_character_gets_a_page_naming_the_field(api):
    clinic, slug = await portal_clinic(api)
    before = await _rows()
    form = await api.client.get(f"/portal/{slug}/register")
    token = CSRF_RE.search(form.text).group(1)
    answer = await api.client.post(
        f"/portal/{slug}/register",
        data={
            "first_name": "Ann\x00",
            "last_name": "Other",
            "email": "ann@example.com",
            "password": PASSWORD,
            "csrf_token": token,
        },
    )
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html")
    assert "We could not read this form" in answer.text and "first name" in answer.text and "U+0000" in answer.text
    assert await _rows() == before


async def test_a_multiline_form_field_keeps_its_lines(api):
    clinic = await make_clinic(api)
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    booked = await book(api, clinic, local(clinic.tz, 3, 10))
    from plugins.action_links.links import token_for

    token = await token_for(api.settings, await Appointment.get(id=int(booked["id"])))
    answer = await api.client.post(
        f"/action/{token}/cancel",
        data={"note": "Sorry,\r\n\tsee you next time.", "csrf_token": csrf_token(api.settings.secret_key, token)},
    )
    assert answer.status_code < 400, answer.text
    assert (await Appointment.get(id=int(booked["id"]))).cancellation_note == "Sorry,\n\tsee you next time."
