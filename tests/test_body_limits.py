"""Request bodies over AGENDUM_MAX_BODY_BYTES are refused with 413 before they are read whole,
declared or chunked; JSON too deeply nested for the parser is a 400; never a 500."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
from helpers import make_clinic
from images import png
from portal_helpers import portal_clinic

from core.settings import DEFAULT_MAX_BODY_BYTES, Settings, SettingsError

CHUNK = 64 * 1024
JSON = {"Content-Type": "application/json"}


def padded_query(size: int) -> bytes:
    """A valid GraphQL request of exactly `size` bytes (JSON with trailing spaces)."""
    body = b'{"query": "{ __typename }"}'
    return body + b" " * (size - len(body))


async def chunks(total: int, sent: list[int] | None = None):
    """`total` bytes in 64 KB chunks, without a Content-Length (httpx sends them chunked);
    `sent[0]` counts what the client was given to send so far."""
    sent = sent if sent is not None else [0]
    while sent[0] < total:
        piece = b" " * min(CHUNK, total - sent[0])
        sent[0] += len(piece)
        yield piece


@contextlib.asynccontextmanager
async def connection(url: str):
    """A raw connection to the server (reader, writer), closed afterwards (else the server's
    shutdown would wait for the request), bounded to 60 s against hanging (not a wait)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        async with asyncio.timeout(60):
            yield reader, writer
    finally:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 response with a Content-Length."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if line)
    return int(head[0].split()[1]), headers, await reader.readexactly(int(headers["content-length"]))


async def post_while_reading(url: str, path: str, total: int) -> tuple[int, dict[str, str], bytes, int]:
    """POST `total` bytes chunked on a raw connection, watching for the answer between chunks and
    stopping when it came: (status, headers, body, bytes sent by then)."""
    async with connection(url) as (reader, writer):
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: agendum\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        answer = asyncio.ensure_future(read_response(reader))
        frame, sent = b"%x\r\n" % CHUNK + b" " * CHUNK + b"\r\n", 0
        while sent < total and not answer.done():
            writer.write(frame)
            sent += CHUNK
            await writer.drain()
            await asyncio.sleep(0)  # lets the answer's reader run: a turn of the loop, not a wait
        if not answer.done():
            writer.write(b"0\r\n\r\n")  # all sent: the body ends
        return *await answer, sent


def assert_payload_too_large(response, limit: int) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": f"The request body is larger than the limit of {limit} bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }


async def test_graphql_bodies_up_to_the_limit_are_answered_and_larger_ones_refused_with_413(api):
    limit = api.settings.max_body_bytes
    assert limit == DEFAULT_MAX_BODY_BYTES == 1024 * 1024
    fits = await api.client.post("/graphql", content=padded_query(limit), headers=JSON)
    assert fits.status_code == 200 and fits.json() == {"data": {"__typename": "Query"}}
    declared = await api.client.post("/graphql", content=padded_query(limit + 1), headers=JSON)
    assert_payload_too_large(declared, limit)
    chunked = await api.client.post("/graphql", content=chunks(limit + 1), headers=JSON)
    assert "content-length" not in chunked.request.headers
    assert_payload_too_large(chunked, limit)
    # The server still answers after refusing.
    assert (await api.data("{ __typename }")) == {"__typename": "Query"}


async def test_a_chunked_body_under_the_limit_is_read(api):
    async def body():
        yield b'{"query": '
        yield b'"{ __typename }"}'
        yield b" " * 1000

    response = await api.client.post("/graphql", content=body(), headers=JSON)
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


async def test_the_limit_is_a_setting(api_factory):
    api = await api_factory(max_body_bytes=4096)
    assert (await api.client.post("/graphql", content=padded_query(4096), headers=JSON)).status_code == 200
    assert_payload_too_large(await api.client.post("/graphql", content=padded_query(4097), headers=JSON), 4096)
    assert_payload_too_large(await api.client.post("/graphql", content=chunks(5000), headers=JSON), 4096)


async def test_a_100_mb_chunked_body_is_answered_while_the_client_is_still_sending_it(api):
    """A client that reads while it sends gets the 413 after about the limit, not 100 MB: the
    server answers without reading the body whole."""
    total = 100 * 1024 * 1024
    status, headers, body, sent = await post_while_reading(api.url, "/graphql", total)
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body)["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    # The limit plus what the loopback's socket buffers took in the meantime: a small part of the body.
    assert sent < total // 4, sent


async def test_a_client_that_sends_everything_first_is_cut_off_after_the_linger_allowance(api):
    """Most clients read only once they have sent: the server drops up to LINGER_BYTES after the
    limit, then closes, so such a client stops long before 100 MB (with a 413 or a reset)."""
    sent, total = [0], 100 * 1024 * 1024
    try:
        response = await api.client.post("/graphql", content=chunks(total, sent), headers=JSON)
    except httpx.TransportError:
        pass
    else:
        assert_payload_too_large(response, api.settings.max_body_bytes)
    assert sent[0] < total // 2, sent[0]


async def test_a_declared_body_over_the_limit_is_refused_before_the_client_sends_it(api):
    """With `Expect: 100-continue` the client waits for leave to send the body: it gets the 413
    instead, and the connection closes."""
    async with connection(api.url) as (reader, writer):
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: agendum\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\nExpect: 100-continue\r\n\r\n"
        )
        status, headers, body = await read_response(reader)
        assert status == 413 and headers["connection"] == "close"
        assert json.loads(body)["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
        assert await reader.read() == b""  # closed, without ever asking for the body


async def test_pages_refuse_a_large_form_with_a_413_page(api):
    _, slug = await portal_clinic(api)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for content in (b"email=" + b"x" * (1024 * 1024), chunks(2 * 1024 * 1024)):
        response = await api.client.post(f"/portal/{slug}/login", content=content, headers=form)
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        assert "What you sent is larger than this site accepts" in response.text
        assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_logo_uploads_keep_their_own_limit(api_factory):
    """The logo route bounds its body itself (512 KB, after checking the caller's scope): a lower
    server limit neither refuses a logo nor answers for the route."""
    api = await api_factory(max_body_bytes=4096)
    location = (
        await api.data(
            'mutation { createLocation(input: {name: "L", timezone: "UTC", currency: "EUR"}) { ... on Location { id } } }'
        )
    )["createLocation"]["id"]
    logo = png(96, 96, pixel=lambda x, y: ((x * 7 + y * 13) % 256, (x * y) % 256, (x ^ y) % 256))
    assert len(logo) > 4096
    headers = {"Authorization": f"Bearer {api.owner_token}", "Content-Type": "image/png"}
    uploaded = await api.client.post(f"/locations/{location}/logo", content=logo, headers=headers)
    assert uploaded.status_code == 200 and uploaded.json()["size"] == len(logo)
    refused = await api.client.post(f"/locations/{location}/logo", content=logo + b"0" * 600 * 1024, headers=headers)
    assert refused.status_code == 413 and refused.json() == {"error": "The logo must be at most 512 KB."}


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }", "variables": {"v": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
        b'{"query": "{ __typename }", "variables": {"v": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}}",
        b"[" * 5000 + b"]" * 5000,
    ],
)
async def test_json_nested_too_deeply_is_a_400_with_a_json_error(api, body):
    response = await api.client.post("/graphql", content=body, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "errors": [
            {
                "message": "The JSON body is nested too deeply.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


async def test_http_level_refusals_of_graphql_are_json_errors(api):
    broken = await api.client.post("/graphql", content=b'{"query": ', headers=JSON)
    assert broken.status_code == 400
    assert broken.json() == {
        "errors": [
            {
                "message": "Unable to parse request body as JSON",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }
    plain = await api.client.post(
        "/graphql", content=b'{"query": "{ __typename }"}', headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 400 and plain.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    for method in ("PUT", "DELETE", "PATCH"):
        other = await api.client.request(method, "/graphql", json={"query": "{ __typename }"})
        assert other.status_code == 405 and other.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}


@pytest.mark.parametrize(
    "query",
    [
        "{ a" * 5000 + " }" * 5000,  # selections nested 5,000 deep
        "{ __typename(a: " + "[" * 5000 + "]" * 5000 + ") }",  # a list literal nested 5,000 deep
        "{ __typename(a: " + "{a: " * 5000 + "1" + "}" * 5000 + ") }",  # an object literal nested 5,000 deep
        "{" * 5000,
    ],
)
async def test_graphql_documents_nested_too_deeply_are_errors_not_500(api, query):
    response = await api.client.post("/graphql", json={"query": query}, headers=JSON)
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("data") is None and body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED", body


@pytest.mark.parametrize("depth", [100, 900])
async def test_deeply_nested_variables_are_errors_not_500(api, depth):
    """Nesting the JSON parser accepts (under 1,000) reaches GraphQL: a list argument refuses it
    as bad input; the JSON scalar passes it to the plugin's settings, which refuse it as a value."""
    clinic = await make_clinic(api)
    nested = 1
    for _ in range(depth):
        nested = [nested]
    lists = await api.gql(
        'mutation($ids: [ID!]!) { setPluginEnabled(locationIds: $ids, plugin: "client_portal", enabled: true) { __typename } }',
        {"ids": nested},
    )
    assert lists["data"] is None and lists["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", lists
    settings = await api.gql(
        'mutation($l: ID!, $s: JSON!) { updatePluginSettings(locationId: $l, plugin: "client_portal", settings: $s) { __typename } }',
        {"l": clinic.location, "s": {"bookingInstructions": nested}},
    )
    assert settings["data"]["updatePluginSettings"]["__typename"] == "ValidationError", settings


def test_the_limit_is_read_from_the_environment():
    assert Settings.from_env({}).max_body_bytes == 1024 * 1024
    assert Settings.from_env({"AGENDUM_MAX_BODY_BYTES": "65536"}).max_body_bytes == 65536
    for bad in ("1MB", "-1", "0", "1023", str(2**30 + 1), ""):
        with pytest.raises(SettingsError, match="AGENDUM_MAX_BODY_BYTES"):
            Settings.from_env({"AGENDUM_MAX_BODY_BYTES": bad})
