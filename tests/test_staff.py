"""Staff accounts through GraphQL over HTTP: sign-in, bearer tokens (expiry, revocation,
deactivation), creating and listing staff users, and the login rate limits per account and
per IP, including aliased attempts and the client IP behind trusted proxies."""

from __future__ import annotations

import datetime as dt
import json

from core.models import StaffToken, StaffUser
from core.security.accounts import issue_token
from core.security.tokens import token_hash
from core.settings import parse_networks

OWNER_EMAIL = "owner@test.example"
OWNER_PASSWORD = "owner-password-1"
PASSWORD = "correct-horse-battery-9"

OUTCOME = """
  __typename
  ... on StaffSession { token expiresAt user { id email role } }
  ... on InvalidCredentials { message }
  ... on RateLimited { message retryAfterSeconds }
  ... on ValidationError { field message }
"""

LOGIN = f"""
mutation($email: String!, $password: String!) {{
  staffLogin(email: $email, password: $password) {{ {OUTCOME} }}
}}"""

CREATE_STAFF = """
mutation($input: CreateStaffUserInput!) {
  createStaffUser(input: $input) {
    __typename
    ... on StaffUser { id email name role active locations { id } }
    ... on ValidationError { field message }
    ... on PermissionDenied { message }
    ... on NotFound { message }
  }
}"""

STAFF_USERS = """
{ staffUsers {
    __typename
    ... on StaffUserConnection { edges { node { email role locations { id } } } }
    ... on PermissionDenied { message }
} }"""

REVOKE = """
mutation($token: String, $userId: ID) {
  revokeStaffToken(token: $token, userId: $userId) {
    __typename
    ... on RevokedTokens { count }
    ... on NotFound { message }
    ... on PermissionDenied { message }
  }
}"""

LOCATIONS = "{ locations { __typename ... on LocationConnection { edges { node { id name } } } } }"

CREATE_LOCATION = """
mutation($name: String!) {
  createLocation(input: {name: $name, timezone: "Europe/London", currency: "GBP"}) { ... on Location { id } }
}"""


async def login(api, email: str, password: str, **headers) -> dict:
    """The staffLogin result for one attempt (anonymous, with optional extra headers)."""
    body = await api.gql(LOGIN, {"email": email, "password": password}, token=None, **headers)
    assert not body.get("errors"), body["errors"]
    return body["data"]["staffLogin"]


async def logins_in_one_request(api, attempts: list[tuple[str, str]]) -> list[dict]:
    """Several staffLogin attempts as aliased fields of ONE request, results in order."""
    fields = " ".join(
        f"a{i}: staffLogin(email: {json.dumps(email)}, password: {json.dumps(password)}) {{ {OUTCOME} }}"
        for i, (email, password) in enumerate(attempts)
    )
    data = await api.data(f"mutation {{ {fields} }}", token=None)
    return [data[f"a{i}"] for i in range(len(attempts))]


async def new_location(api, name: str) -> str:
    return (await api.data(CREATE_LOCATION, {"name": name}))["createLocation"]["id"]


async def create_staff(
    api, email: str, *, role: str = "MANAGER", location_ids=(), password: str = PASSWORD, token: str | None = "owner"
) -> dict:
    """The createStaffUser result (as the owner unless `token` says otherwise)."""
    values = {"email": email, "password": password, "role": role, "name": "Staff", "locationIds": list(location_ids)}
    return (await api.data(CREATE_STAFF, {"input": values}, token=token))["createStaffUser"]


async def token_for(email: str, hours: int = 1) -> str:
    """A bearer token issued directly in the database (no login, so no rate-limit budget spent)."""
    user = await StaffUser.get(email_key=email.lower())
    return (await issue_token(user, hours=hours)).token


async def can_list_locations(api, token: str) -> bool:
    """True when the token is accepted; a token that is not (unknown, expired, revoked) gets HTTP 401."""
    response = await api.client.post(
        "/graphql", json={"query": LOCATIONS}, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code == 401:
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", response.text
        return False
    assert response.status_code == 200 and response.json()["data"]["locations"]["__typename"] == "LocationConnection"
    return True


async def revoke(api, caller: str, **variables) -> dict:
    """The revokeStaffToken result when `caller` (a bearer token) asks with these arguments."""
    return (await api.data(REVOKE, variables, token=caller))["revokeStaffToken"]


# ------------------------------------------------------------------ sign-in and tokens


async def test_login_returns_a_working_bearer_token(api):
    session = await login(api, "  Owner@Test.Example ", OWNER_PASSWORD)
    assert session["__typename"] == "StaffSession"
    assert session["user"]["email"] == OWNER_EMAIL and session["user"]["role"] == "OWNER"
    expires = dt.datetime.fromisoformat(session["expiresAt"])
    assert dt.timedelta(days=29) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30)
    assert await can_list_locations(api, session["token"])
    assert not await can_list_locations(api, "not-a-real-token")
    response = await api.client.post(
        "/graphql", json={"query": LOCATIONS}, headers={"Authorization": f"Basic {session['token']}"}
    )
    assert response.status_code == 401 and response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_wrong_password_and_unknown_email_get_the_same_answer(api):
    wrong_password = await login(api, OWNER_EMAIL, "wrong-password-1")
    unknown_email = await login(api, "nobody@test.example", OWNER_PASSWORD)
    assert wrong_password["__typename"] == "InvalidCredentials"
    assert wrong_password == unknown_email


async def test_expired_token_does_not_work(api):
    assert not await can_list_locations(api, await token_for(OWNER_EMAIL, hours=0))
    session = await login(api, OWNER_EMAIL, OWNER_PASSWORD)
    assert await can_list_locations(api, session["token"])
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert await StaffToken.filter(token_hash=token_hash(session["token"])).update(expires_at=past) == 1
    assert not await can_list_locations(api, session["token"])


async def test_deactivated_users_token_and_password_stop_working(api):
    location = await new_location(api, "North")
    await create_staff(api, "manager@test.example", location_ids=[location])
    token = (await login(api, "manager@test.example", PASSWORD))["token"]
    assert await can_list_locations(api, token)
    await StaffUser.filter(email_key="manager@test.example").update(active=False)
    assert not await can_list_locations(api, token)
    refused = await login(api, "manager@test.example", PASSWORD)
    assert refused == await login(api, "nobody@test.example", PASSWORD)
    assert refused["__typename"] == "InvalidCredentials"


# ------------------------------------------------------------------ staff users


async def test_owner_creates_a_manager_who_can_sign_in_and_sees_only_their_location(api):
    north, south = await new_location(api, "North"), await new_location(api, "South")
    created = await create_staff(api, "New.Manager@Test.Example", location_ids=[north])
    assert created["__typename"] == "StaffUser", created
    assert (created["email"], created["role"], created["active"]) == ("New.Manager@Test.Example", "MANAGER", True)
    assert created["locations"] == [{"id": north}]
    session = await login(api, "new.manager@test.example", PASSWORD)
    assert session["__typename"] == "StaffSession" and session["user"]["id"] == created["id"]
    listing = (await api.data(LOCATIONS, token=session["token"]))["locations"]
    assert [edge["node"]["id"] for edge in listing["edges"]] == [north]
    owners_listing = (await api.data(LOCATIONS))["locations"]
    assert {edge["node"]["id"] for edge in owners_listing["edges"]} == {north, south}


async def test_create_staff_user_refusals_change_nothing(api):
    north = await new_location(api, "North")
    assert (await create_staff(api, "taken@test.example", location_ids=[north]))["__typename"] == "StaffUser"
    for kwargs, field in (
        ({"email": "nolocations@test.example"}, "locationIds"),
        ({"email": "weak@test.example", "location_ids": [north], "password": "short"}, "password"),
        ({"email": "weak2@test.example", "location_ids": [north], "password": "aaaaaaaaaaaaaaa"}, "password"),
        ({"email": "TAKEN@Test.Example", "location_ids": [north]}, "email"),
        ({"email": "owner2@test.example", "role": "OWNER", "location_ids": [north]}, "locationIds"),
        ({"email": "unknown-location@test.example", "location_ids": ["999999"]}, "locationIds[0]"),
        ({"email": "not-an-email", "location_ids": [north]}, "email"),
    ):
        result = await create_staff(api, **kwargs)
        assert result["__typename"] == "ValidationError", (kwargs, result)
        assert result["field"] == field, (kwargs, result)
    emails = [edge["node"]["email"] for edge in (await api.data(STAFF_USERS))["staffUsers"]["edges"]]
    assert sorted(emails) == [OWNER_EMAIL, "taken@test.example"]


async def test_a_manager_may_not_create_staff_users(api):
    north = await new_location(api, "North")
    await create_staff(api, "manager@test.example", location_ids=[north])
    manager = await token_for("manager@test.example")
    for role, locations in (("MANAGER", [north]), ("OWNER", [])):
        result = await create_staff(
            api, f"{role.lower()}-by-manager@test.example", role=role, location_ids=locations, token=manager
        )
        assert result["__typename"] == "PermissionDenied", result
    anonymous = await create_staff(api, "anon@test.example", location_ids=[north], token=None)
    assert anonymous["__typename"] == "PermissionDenied"
    assert not await StaffUser.filter(
        email_key__in=[
            "manager-by-manager@test.example",
            "owner-by-manager@test.example",
            "anon@test.example",
        ]
    ).exists()


async def test_staff_users_visibility(api):
    north, south = await new_location(api, "North"), await new_location(api, "South")
    await create_staff(api, "north@test.example", location_ids=[north])
    await create_staff(api, "both@test.example", location_ids=[north, south])
    await create_staff(api, "south@test.example", location_ids=[south])

    async def visible(token: str) -> dict[str, list[str]]:
        result = (await api.data(STAFF_USERS, token=token))["staffUsers"]
        assert result["__typename"] == "StaffUserConnection", result
        return {edge["node"]["email"]: [loc["id"] for loc in edge["node"]["locations"]] for edge in result["edges"]}

    assert await visible(api.owner_token) == {
        OWNER_EMAIL: [],
        "north@test.example": [north],
        "both@test.example": sorted([north, south], key=int),
        "south@test.example": [south],
    }
    # A manager sees the managers of their own locations (not owners, not other locations'
    # managers), and only the locations of those managers that they may see.
    assert await visible(await token_for("north@test.example")) == {
        "north@test.example": [north],
        "both@test.example": [north],
    }
    assert set(await visible(await token_for("south@test.example"))) == {"south@test.example", "both@test.example"}
    anonymous = (await api.data(STAFF_USERS, token=None))["staffUsers"]
    assert anonymous["__typename"] == "PermissionDenied"


# ------------------------------------------------------------------ revocation


async def test_revoke_without_arguments_revokes_the_current_token_only(api):
    first, second = await token_for(OWNER_EMAIL), await token_for(OWNER_EMAIL)
    assert await revoke(api, first) == {"__typename": "RevokedTokens", "count": 1}
    assert not await can_list_locations(api, first)
    assert (
        await api.client.post("/graphql", json={"query": REVOKE}, headers={"Authorization": f"Bearer {first}"})
    ).status_code == 401
    assert await can_list_locations(api, second)
    assert await can_list_locations(api, api.owner_token)


async def test_revoke_a_given_token(api):
    north = await new_location(api, "North")
    await create_staff(api, "manager@test.example", location_ids=[north])
    manager, manager_spare = await token_for("manager@test.example"), await token_for("manager@test.example")
    spare = await token_for(OWNER_EMAIL)
    # A manager cannot revoke (or learn of) someone else's token; an unknown token is NotFound too.
    assert (await revoke(api, manager, token=spare))["__typename"] == "NotFound"
    assert (await revoke(api, manager, token="no-such-token"))["__typename"] == "NotFound"
    assert await can_list_locations(api, spare)
    # A manager may revoke another of their own tokens, and an owner anyone's.
    assert await revoke(api, manager, token=manager_spare) == {"__typename": "RevokedTokens", "count": 1}
    assert not await can_list_locations(api, manager_spare)
    assert await can_list_locations(api, manager)
    assert await revoke(api, api.owner_token, token=manager) == {"__typename": "RevokedTokens", "count": 1}
    assert not await can_list_locations(api, manager)
    assert await can_list_locations(api, api.owner_token)


async def test_revoke_every_token_of_a_user(api):
    north = await new_location(api, "North")
    manager = await create_staff(api, "manager@test.example", location_ids=[north])
    await create_staff(api, "colleague@test.example", location_ids=[north])
    tokens = [await token_for("manager@test.example") for _ in range(3)]
    colleague = await token_for("colleague@test.example")
    # Only an owner may revoke another user's tokens; unknown users are NotFound.
    refused = await revoke(api, colleague, userId=manager["id"])
    assert refused["__typename"] == "PermissionDenied"
    assert all([await can_list_locations(api, token) for token in tokens])
    assert (await revoke(api, api.owner_token, userId="999999"))["__typename"] == "NotFound"
    assert await revoke(api, api.owner_token, userId=manager["id"]) == {"__typename": "RevokedTokens", "count": 3}
    assert not any([await can_list_locations(api, token) for token in tokens])
    assert await can_list_locations(api, colleague)
    # Anyone may revoke all of their own tokens, including the one in use.
    colleague_id = str((await StaffUser.get(email_key="colleague@test.example")).id)
    assert await revoke(api, colleague, userId=colleague_id) == {"__typename": "RevokedTokens", "count": 1}
    assert not await can_list_locations(api, colleague)


# ------------------------------------------------------------------ rate limits


async def test_sixth_attempt_for_an_account_is_rate_limited_even_with_the_right_password(api):
    for _ in range(5):
        assert (await login(api, OWNER_EMAIL, "wrong-password-1"))["__typename"] == "InvalidCredentials"
    limited = await login(api, "OWNER@test.example", OWNER_PASSWORD)
    assert limited["__typename"] == "RateLimited"
    assert 1 <= limited["retryAfterSeconds"] <= 60
    assert "token" not in limited
    # Other accounts are not locked out by this one.
    await create_staff(api, "manager@test.example", location_ids=[await new_location(api, "North")])
    assert (await login(api, "manager@test.example", PASSWORD))["__typename"] == "StaffSession"


async def test_aliased_login_fields_count_one_attempt_each(api):
    results = await logins_in_one_request(
        api, [(OWNER_EMAIL, "wrong-password-1")] * 7 + [(OWNER_EMAIL, OWNER_PASSWORD)]
    )
    assert [r["__typename"] for r in results] == ["InvalidCredentials"] * 5 + ["RateLimited"] * 3
    # The per-IP budget of 20 was charged 8 by that one request: 12 more attempts pass it, then none.
    others = [(f"user{i}@test.example", "wrong-password-1") for i in range(12)]
    assert {r["__typename"] for r in await logins_in_one_request(api, others)} == {"InvalidCredentials"}
    assert (await login(api, "fresh@test.example", "wrong-password-1"))["__typename"] == "RateLimited"


async def test_per_ip_limit_spans_accounts(api):
    await create_staff(api, "manager@test.example", location_ids=[await new_location(api, "North")])
    for i in range(20):
        assert (await login(api, f"user{i}@test.example", "wrong-password-1"))["__typename"] == "InvalidCredentials"
    # Both accounts below are untouched, but this IP has used its 20 attempts.
    assert (await login(api, "manager@test.example", PASSWORD))["__typename"] == "RateLimited"
    assert (await login(api, OWNER_EMAIL, OWNER_PASSWORD))["__typename"] == "RateLimited"


async def test_trusted_proxy_forwarded_for_decides_the_client_ip(api_factory):
    api = await api_factory(trusted_proxies=parse_networks("127.0.0.1/32"))
    for i in range(20):
        result = await login(api, f"user{i}@test.example", "wrong-password-1", **{"X-Forwarded-For": "203.0.113.7"})
        assert result["__typename"] == "InvalidCredentials"
    assert (await login(api, "u@test.example", "x", **{"X-Forwarded-For": "203.0.113.7"}))[
        "__typename"
    ] == "RateLimited"
    # Entries left of the right-most untrusted one are the client's own claims: no escape there.
    spoofed = await login(api, "u@test.example", "x", **{"X-Forwarded-For": "198.51.100.9, 203.0.113.7"})
    assert spoofed["__typename"] == "RateLimited"
    # Another client behind the proxy, and the proxy itself, have their own budgets.
    other = await login(api, OWNER_EMAIL, OWNER_PASSWORD, **{"X-Forwarded-For": "203.0.113.8"})
    assert other["__typename"] == "StaffSession"
    assert (await login(api, "v@test.example", "wrong-password-1"))["__typename"] == "InvalidCredentials"


async def test_forwarded_for_is_ignored_without_trusted_proxies(api):
    for i in range(20):
        result = await login(
            api, f"user{i}@test.example", "wrong-password-1", **{"X-Forwarded-For": f"203.0.113.{i + 1}"}
        )
        assert result["__typename"] == "InvalidCredentials"
    # All twenty came from this one peer, whatever they claimed: its budget is spent.
    for claimed in ("198.51.100.1", None):
        headers = {"X-Forwarded-For": claimed} if claimed else {}
        assert (await login(api, OWNER_EMAIL, OWNER_PASSWORD, **headers))["__typename"] == "RateLimited", claimed
