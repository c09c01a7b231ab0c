"""Signed-cookie sessions (web/sessions.py): flags on the cookie, tampering ignored, expiry."""

from __future__ import annotations

import secrets

import httpx
import pytest
from conftest import TEST_SECRET
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.settings import Settings
from web.sessions import COOKIE_NAME, SESSION_MAX_AGE, clear_session, new_session, read_session, write_session


async def sign_in(request: Request) -> JSONResponse:
    session = new_session({"account": 42, "name": "Zoë <b>"})
    response = JSONResponse({"id": session.id})
    write_session(response, request, session)
    return response


async def whoami(request: Request) -> JSONResponse:
    session = read_session(request)
    return JSONResponse(None if session is None else {"id": session.id, "data": session.data})


async def sign_out(request: Request) -> JSONResponse:
    response = JSONResponse({})
    clear_session(response, request)
    return response


def make_app(base_url: str = "http://testserver", secret: str = TEST_SECRET) -> Starlette:
    app = Starlette(
        routes=[
            Route("/in", sign_in, methods=["POST"]),
            Route("/me", whoami),
            Route("/out", sign_out, methods=["POST"]),
        ]
    )
    app.state.settings = Settings(secret_key=secret, base_url=base_url)
    return app


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def cookie_of(response: httpx.Response) -> tuple[str, list[str]]:
    """The session cookie's value and its attributes (lower-case) from Set-Cookie."""
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE_NAME + "=")]
    first, *attributes = [part.strip() for part in header.split(";")]
    return first.split("=", 1)[1].strip('"'), [a.lower() for a in attributes]


async def me(http: httpx.AsyncClient, cookie: str | None):
    http.cookies.clear()  # only the cookie given here
    headers = {"cookie": f"{COOKIE_NAME}={cookie}"} if cookie is not None else {}
    return (await http.get("/me", headers=headers)).json()


async def test_round_trip_and_cookie_flags_over_http():
    async with client(make_app()) as http:
        signed_in = await http.post("/in")
        value, attributes = cookie_of(signed_in)
        assert "httponly" in attributes and "samesite=lax" in attributes and "path=/" in attributes
        assert f"max-age={SESSION_MAX_AGE}" in attributes
        assert "secure" not in attributes  # http base URL (local demo): a Secure cookie would never come back
        assert await me(http, value) == {"id": signed_in.json()["id"], "data": {"account": 42, "name": "Zoë <b>"}}
        assert await me(http, None) is None


async def test_cookie_is_secure_when_the_base_url_is_https():
    async with client(make_app(base_url="https://book.example.com")) as http:
        _, attributes = cookie_of(await http.post("/in"))
        assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes


async def test_each_sign_in_gets_a_new_random_id():
    async with client(make_app()) as http:
        ids = {(await http.post("/in")).json()["id"] for _ in range(5)}
    assert len(ids) == 5 and all(len(i) >= 40 for i in ids)


async def test_tampered_foreign_or_garbage_cookies_are_ignored():
    async with client(make_app()) as http:
        value, _ = cookie_of(await http.post("/in"))
        payload, _, signature = value.rpartition(".")
        tampered = [
            value[:-2] + ("AA" if not value.endswith("AA") else "BB"),  # signature changed
            value.replace(value[0], "e" if value[0] != "e" else "f", 1),  # payload changed
            f"{payload}.",  # signature removed
            "x" * 5000,
            "",
            "not-a-session",
            "e30.AAAA.AAAA",
        ]
        for bad in tampered:
            assert await me(http, bad) is None, bad
    async with client(make_app(secret="another-secret-0123456789abcdefghijklmnopq")) as other:
        foreign, _ = cookie_of(await other.post("/in"))
    async with client(make_app()) as http:
        assert await me(http, foreign) is None
        assert await me(http, value) is not None


async def test_an_expired_session_is_ignored(advance_clock):
    """By the app's clock (core.clock), like every other expiry."""
    async with client(make_app()) as http:
        old, _ = cookie_of(await http.post("/in"))
        advance_clock(SESSION_MAX_AGE - 5)
        assert await me(http, old) is not None
        fresh, _ = cookie_of(await http.post("/in"))
        advance_clock(10)
        assert await me(http, old) is None
        assert await me(http, fresh) is not None


async def test_sign_out_clears_the_cookie_with_the_same_attributes():
    async with client(make_app(base_url="https://book.example.com")) as http:
        response = await http.post("/out")
        value, attributes = cookie_of(response)
        assert value == "" and "max-age=0" in attributes
        assert "path=/" in attributes and "secure" in attributes and "httponly" in attributes


async def test_session_data_too_large_for_a_cookie_is_refused():
    app = make_app()

    async def huge(request: Request) -> JSONResponse:
        response = JSONResponse({})
        write_session(
            response, request, new_session({"blob": secrets.token_hex(3000)})
        )  # random: repetitive data would compress
        return response

    app.router.routes.append(Route("/huge", huge, methods=["POST"]))
    async with client(app) as http:
        with pytest.raises(ValueError, match="too large"):
            await http.post("/huge")
