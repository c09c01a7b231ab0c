"""A single-page app on an allowed origin (AGENDUM_CORS_ORIGINS) may send the headers Apollo,
Sentry and tracing add, or those AGENDUM_CORS_HEADERS names, and its scripts may read
`Retry-After` and `X-Request-Id`; other origins and other headers are refused by the browser's
preflight."""

from __future__ import annotations

import pytest

from core.settings import DEFAULT_CORS_HEADERS, Settings, SettingsError

APP = "https://app.example.com"


async def preflight(api, origin: str, headers: str):
    return await api.client.options(
        "/graphql",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": headers},
    )


async def test_the_default_headers_of_apollo_sentry_and_tracing_are_allowed(api_factory):
    api = await api_factory(cors_origins=(APP,))
    sent = "authorization, content-type, apollographql-client-name, apollographql-client-version, traceparent, baggage, sentry-trace, idempotency-key, x-request-id"
    allowed = await preflight(api, APP, sent)
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == APP
    assert set(sent.split(", ")) <= {
        h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")
    }
    assert (await preflight(api, APP, "x-custom")).status_code == 400
    assert (await preflight(api, "https://evil.example", "authorization")).status_code == 400
    answer = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP})
    assert answer.headers["access-control-allow-origin"] == APP
    assert {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")} == {
        "retry-after",
        "x-request-id",
    }


async def test_configured_headers_replace_the_default(api_factory):
    api = await api_factory(cors_origins=(APP,), cors_headers=("authorization", "content-type", "x-custom"))
    assert (await preflight(api, APP, "x-custom, authorization")).status_code == 200
    assert (await preflight(api, APP, "sentry-trace")).status_code == 400


def test_the_variable_is_read_lowercased_and_refused_when_not_a_header_name():
    assert Settings.from_env({"AGENDUM_CORS_HEADERS": "Authorization, X-Custom"}).cors_headers == (
        "authorization",
        "x-custom",
    )
    assert Settings.from_env({}).cors_headers == DEFAULT_CORS_HEADERS
    with pytest.raises(SettingsError, match="AGENDUM_CORS_HEADERS.*'x custom' is not an HTTP header name"):
        Settings.from_env({"AGENDUM_CORS_HEADERS": "authorization, x custom"})
