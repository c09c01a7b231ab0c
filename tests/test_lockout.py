"""A stranger cannot lock the owner out: attempts at an account or a link count per client network
(/24, /64), so the right password or the real link still works from another network, and under a
higher ceiling from every network together; the answers say which limit engaged, the same whether
or not the account exists. Clients stand behind a trusted proxy (X-Forwarded-For)."""

from __future__ import annotations

import re

from helpers import book, local
from portal_helpers import (
    LOGIN as PORTAL_LOGIN,
    PASSWORD as PORTAL_PASSWORD,
    Customer,
    portal_clinic,
    registered,
    signed_up,
)
from test_one_time_links import VIEW, setup
from test_staff import OWNER_EMAIL, OWNER_PASSWORD, login

from core.errors import RateLimited
from core.settings import RateLimit, parse_networks

BEHIND_PROXY = parse_networks("127.0.0.1/32")
NETWORK_A, SAME_24, OTHER_NETWORK = "203.0.113.7", "203.0.113.200", "198.51.100.7"
LINK_LIMITS = dict(
    trusted_proxies=BEHIND_PROXY, link_limit_per_token=RateLimit(3, 60), link_ceiling_per_token=RateLimit(7, 60)
)
ACTION_LINK = re.compile(r"/action/([A-Za-z0-9_-]{43})")
PORTAL_LOGIN_WITH_LIMIT = PORTAL_LOGIN.replace("RateLimited { retryAfterSeconds }", "RateLimited { message }")
VIEW_WITH_LIMIT = VIEW.replace(
    "... on NotFound { message }", "... on NotFound { message } ... on RateLimited { message }"
)


def from_(ip: str) -> dict:
    return {"X-Forwarded-For": ip}


def refusal(answer: dict) -> str:
    """Which limit a RateLimited answer names: network, account or link."""
    assert answer["__typename"] == "RateLimited", answer
    for name, reason in (
        ("network", RateLimited.FROM_YOUR_NETWORK),
        ("account", RateLimited.AT_THIS_ACCOUNT),
        ("link", RateLimited.AT_THIS_LINK),
    ):
        if answer["message"].startswith(reason):
            return name
    raise AssertionError(answer)


async def staff_attempts(api, email: str, password: str) -> list[str]:
    """The outcomes of a run of staffLogin attempts at one email (the test settings allow 5 per
    account and network; the ceiling here is 12): 5 wrong and the right password from one network,
    the right password from its /24 and from elsewhere, then the same over IPv6 /64s, then one more
    network past the ceiling."""
    outcomes = []

    async def attempt(ip: str, guess: str) -> None:
        answer = await login(api, email, guess, **from_(ip))
        outcomes.append(refusal(answer) if answer["__typename"] == "RateLimited" else answer["__typename"])

    for _ in range(5):
        await attempt(NETWORK_A, "wrong-password-1")
    await attempt(SAME_24, password)  # refused by the network's limit: not counted toward the ceiling
    await attempt(OTHER_NETWORK, password)
    for _ in range(5):
        await attempt("2001:db8:1:2::1", "wrong-password-1")
    await attempt("2001:db8:1:2:ffff::9", password)  # the same /64
    await attempt("2001:db8:1:3::1", password)  # 12 attempts counted from every network: the ceiling
    await attempt("192.0.2.1", password)
    return outcomes


async def test_wrong_staff_passwords_lock_one_network_and_the_ceiling_all_of_them(api_factory):
    api = await api_factory(trusted_proxies=BEHIND_PROXY, login_ceiling_per_account=RateLimit(12, 60))
    owner = await staff_attempts(api, OWNER_EMAIL, OWNER_PASSWORD)
    wrong, ok = ["InvalidCredentials"] * 5, "StaffSession"
    assert owner == [*wrong, "network", ok, *wrong, "network", ok, "account"]
    # Nobody learns whether an email is an account: an unknown one gets the same answers.
    unknown = await staff_attempts(api, "nobody@test.example", OWNER_PASSWORD)
    assert unknown == [*wrong, "network", "InvalidCredentials", *wrong, "network", "InvalidCredentials", "account"]
    # Other accounts are not touched, and the owner's own network was never locked.
    assert (await login(api, OWNER_EMAIL, "wrong-password-1", **from_("192.0.2.2")))["__typename"] == "RateLimited"
    assert (await login(api, "other@test.example", "wrong-password-1", **from_("192.0.2.3")))[
        "__typename"
    ] == "InvalidCredentials"


async def test_a_stranger_guessing_a_portal_password_does_not_lock_its_owner_out(api_factory, smtp):
    api = await api_factory(
        smtp_url=smtp.url(), trusted_proxies=BEHIND_PROXY, login_ceiling_per_account=RateLimit(7, 60)
    )
    _, slug = await portal_clinic(api)
    grace = await signed_up(api, smtp, slug, "grace@example.com")  # her own sign-in counts once
    stranger = Customer(api)

    async def sign_in(who: Customer, ip: str, password: str) -> dict:
        who.client.headers["X-Forwarded-For"] = ip
        return (await who.gql(PORTAL_LOGIN_WITH_LIMIT, {"s": slug, "e": "grace@example.com", "p": password}))[
            "portalLogin"
        ]

    for n in range(5):
        assert (await sign_in(stranger, NETWORK_A, f"guess-{n}-xxxxxxxx"))["__typename"] == "InvalidCredentials"
    assert refusal(await sign_in(stranger, SAME_24, PORTAL_PASSWORD)) == "network"
    assert (await sign_in(grace, OTHER_NETWORK, PORTAL_PASSWORD))["__typename"] == "PortalSignedIn"
    # 7 attempts counted from every network: the ceiling holds the account for everyone, page included.
    assert refusal(await sign_in(grace, "192.0.2.1", PORTAL_PASSWORD)) == "account"
    grace.client.headers["X-Forwarded-For"] = "192.0.2.2"
    page = await grace.post_form(
        f"/portal/{slug}/login",
        {"email": "grace@example.com", "password": PORTAL_PASSWORD},
        from_page=f"/portal/{slug}",
    )
    assert page.status_code == 429 and "Signing in with this email address is paused for a while" in page.text
    assert "from your network" not in page.text
    await grace.close()
    await stranger.close()


async def assert_link_limits(api, path: str, ok: int = 200) -> None:
    """A link page's limits (3 per network, 7 from every network): one network's tries lock that
    network only, and the page says so; the ceiling locks the link for all, with its own words."""

    async def get(ip: str):
        return await api.client.get(path, headers=from_(ip))

    assert [(await get(NETWORK_A)).status_code for _ in range(3)] == [ok] * 3
    refused = await get(SAME_24)
    assert refused.status_code == 429 and "too many attempts from your network" in refused.text
    assert "This link has had too many attempts" not in refused.text
    assert (await get(OTHER_NETWORK)).status_code == ok  # the link's holder, elsewhere
    assert [(await get("192.0.2.1")).status_code for _ in range(3)] == [ok] * 3  # 7 counted from every network
    held = await get("2001:db8::1")
    assert held.status_code == 429 and 1 <= int(held.headers["retry-after"]) <= 60
    assert "This link has had too many attempts from several networks" in held.text
    assert "contact whoever sent you the link" in held.text and "from your network" not in held.text


async def test_one_time_link_limits_count_per_network_with_a_ceiling(api_factory):
    api = await api_factory(**LINK_LIMITS)
    _, _, token = await setup(api)
    await assert_link_limits(api, f"/book/{token}")
    # GraphQL counts on the same counters and words its refusal the same way.
    held = (await api.data(VIEW_WITH_LIMIT, {"t": token}, token=None))["oneTimeLink"]
    assert refusal(held) == "link"


async def test_action_link_limits_count_per_network_with_a_ceiling(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url(), **LINK_LIMITS)
    clinic, _ = await portal_clinic(api)
    await api.data(
        "mutation($l: ID!) { updateLocation(id: $l, input: {tier: SILVER}) { __typename } }", {"l": clinic.location}
    )
    await api.data(
        'mutation($l: ID!) { setPluginEnabled(locationIds: [$l], plugin: "action_links", enabled: true) { __typename } }',
        {"l": clinic.location},
    )
    await book(api, clinic, local(clinic.tz, 4, 10))
    await smtp.wait_for(1)
    token = ACTION_LINK.search(smtp.received[0].message.get_body(("plain",)).get_content()).group(1)
    await assert_link_limits(api, f"/action/{token}")


async def test_portal_email_link_limits_count_per_network_with_a_ceiling(api_factory, smtp):
    api = await api_factory(smtp_url=smtp.url(), **LINK_LIMITS)
    _, slug = await portal_clinic(api)
    visitor, link = await registered(api, smtp, slug, "alan@example.com", "Alan", "Turing")
    await assert_link_limits(api, f"/portal/{slug}/verify/{link.rsplit('/', 1)[1]}")
    await visitor.close()
