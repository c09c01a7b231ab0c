"""A request whose Authorization header carries a token that is not valid (unknown, expired,
revoked, not a bearer token) is HTTP 401 with one `UNAUTHENTICATED` error, for any operation, so a
client's error link can send the user to sign in; it runs nothing. Signed-in callers without
scope keep getting `PermissionDenied` as data, and anonymous callers are unchanged."""

from __future__ import annotations

from core.models import Location, StaffUser
from core.security.accounts import issue_token

CREATE = 'mutation { createLocation(input: {name: "Ghost", timezone: "UTC", currency: "EUR"}) { __typename } }'
LOCATIONS = "{ locations { __typename } }"
REVOKE_ALL = "mutation($u: ID!) { revokeStaffToken(userId: $u) { __typename } }"


async def post(api, query: str, authorization: str | None, variables: dict | None = None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await api.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)


def assert_401(response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json() == {
        "errors": [
            {
                "message": "The access token is invalid, expired or revoked: sign in again.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }


async def test_unknown_malformed_and_non_bearer_tokens_are_401_and_run_nothing(api):
    for authorization in ("Bearer not-a-real-token", "Bearer", "Basic " + api.owner_token, "", api.owner_token):
        assert_401(await post(api, CREATE, authorization))
        assert_401(await post(api, "{ __typename }", authorization))
    assert not await Location.filter(name="Ghost").exists()


async def test_expired_and_revoked_tokens_are_401(api, advance_clock):
    owner = await StaffUser.get(email_key="owner@test.example")
    short = (await issue_token(owner, hours=1)).token
    assert (await post(api, LOCATIONS, f"Bearer {short}")).json()["data"]["locations"][
        "__typename"
    ] == "LocationConnection"
    advance_clock(3601)
    assert_401(await post(api, LOCATIONS, f"Bearer {short}"))

    revoked = (await issue_token(owner, hours=1)).token
    done = await post(api, REVOKE_ALL, f"Bearer {revoked}", {"u": str(owner.id)})
    assert done.json()["data"]["revokeStaffToken"]["__typename"] == "RevokedTokens"
    assert_401(await post(api, LOCATIONS, f"Bearer {revoked}"))


async def test_anonymous_and_out_of_scope_callers_keep_their_answers(api):
    anonymous = await post(api, LOCATIONS, None)
    assert anonymous.status_code == 200 and anonymous.json()["data"]["locations"]["__typename"] == "PermissionDenied"
    signed_in = await post(api, LOCATIONS, f"bearer {api.owner_token}")  # the scheme is case-insensitive
    assert signed_in.status_code == 200 and signed_in.json()["data"]["locations"]["__typename"] == "LocationConnection"


async def test_the_graphiql_page_is_not_refused_for_a_stale_header(api):
    page = await api.client.get("/graphql", headers={"Accept": "text/html", "Authorization": "Bearer stale"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
