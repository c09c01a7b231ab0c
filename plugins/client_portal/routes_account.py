"""Account pages of the portal: sign in and out, register, confirm the email, forgotten and new
passwords, signing in from an action-link page, and the profile. GETs only show; each action is
a POST with a CSRF token from its page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import (
    DomainError,
    InvalidCredentials,
    LinkUnavailable,
    NotFound,
    RateLimited,
    RuleViolation,
    ValidationCode,
    ValidationFailed,
)
from plugins.client_portal import accounts
from plugins.client_portal.addresses import Portal
from plugins.client_portal.errors import EmailNotVerified, PasswordSignInRequired
from plugins.client_portal.pages import (
    EXPIRED_FORM,
    customer_of,
    customer_page,
    go,
    page,
    portal_page,
    posting,
    sign_in_page,
    valid_post,
    visitor,
)
from plugins.client_portal.sessions import SignedIn, end_session, start_session
from plugins.client_portal.signin_links import open_sign_in
from web.pages import too_many_page
from web.params import Choice, Text, read, reads
from web.sessions import clear_session, write_session
from web.token_pages import refused_link_page, token_page

REGISTER_FIELDS = ("first_name", "last_name", "email", "mobile_phone")
PROFILE_FIELDS = ("first_name", "last_name", "mobile_phone")
EMAIL = Text("email", 254)


def _password(name: str = "password") -> Text:
    return Text(name, 1024)


@reads(form=[EMAIL, _password()])
@portal_page
async def login(request: Request, portal: Portal) -> Response:
    """POST: sign in with email and password."""
    form = await read(request, location=portal.location)
    email = form["email"]
    if not await valid_post(request):
        return await sign_in_page(request, portal, status=403, error=EXPIRED_FORM, email=email)
    try:
        account = await accounts.login(portal, email, form["password"], visitor(request))
    except RateLimited as refused:
        return await too_many_page(request, refused, location=portal.location)
    except (InvalidCredentials, EmailNotVerified) as refused:
        return await sign_in_page(request, portal, status=401, error=refused.message, email=email)
    return await _signed_in_at(request, portal, account.customer_id, account)


async def _signed_in_at(
    request: Request, portal: Portal, customer_id: int, account, until=None, *, from_link: bool = False
) -> Response:
    """Start the customer's session and go to their appointments."""
    signed = await start_session(request, portal, customer_id, account, until, from_link=from_link)
    response = go(portal)
    write_session(response, request, signed.session, max_age=signed.max_age)
    return response


@reads()
@portal_page
async def logout(request: Request, portal: Portal) -> Response:
    """POST: sign out."""
    signed = await customer_of(request, portal)
    response = go(portal)
    if signed is not None and not await valid_post(request, signed.session.id):
        return response  # a forged sign-out changes nothing
    if signed is not None:
        await end_session(signed)
    clear_session(response, request)
    return response


@reads(form=[*(Text(name, 254) for name in REGISTER_FIELDS), _password()])
@portal_page
async def register(request: Request, portal: Portal) -> Response:
    """GET: the registration form; POST: register (an email with a link follows)."""
    if not posting(request):
        return await page(request, portal, "register.html", title="Create your account", values={})
    form = await read(request, location=portal.location)
    values = {key: form[key] for key in REGISTER_FIELDS}
    if not await valid_post(request):
        return await page(
            request, portal, "register.html", status=403, title="Create your account", values=values, error=EXPIRED_FORM
        )
    try:
        await accounts.register(portal, values, form["password"], visitor(request))
    except RateLimited as refused:
        return await too_many_page(request, refused, location=portal.location)
    except DomainError as refused:
        return await page(
            request,
            portal,
            "register.html",
            status=422,
            title="Create your account",
            values=values,
            error=refused.message,
        )
    return await page(
        request,
        portal,
        "message.html",
        title="Check your email",
        message=f"We have sent a link to {values['email']}. Open it to finish setting up your account.",
    )


@reads(form=[EMAIL])
@portal_page
async def forgot(request: Request, portal: Portal) -> Response:
    """GET: ask for a password link; POST: send it (the same answer for any email)."""
    if not posting(request):
        return await page(request, portal, "forgot.html", title="Forgotten password", email="")
    email = (await read(request, location=portal.location))["email"]
    if not await valid_post(request):
        return await page(
            request, portal, "forgot.html", status=403, title="Forgotten password", email=email, error=EXPIRED_FORM
        )
    try:
        await accounts.request_password_link(portal, email, visitor(request))
    except RateLimited as refused:
        return await too_many_page(request, refused, location=portal.location)
    except ValidationFailed as refused:
        return await page(
            request, portal, "forgot.html", status=422, title="Forgotten password", email=email, error=refused.message
        )
    return await page(
        request,
        portal,
        "message.html",
        title="Check your email",
        message="If this email belongs to one of our clients, a link to set a new password is on its way.",
    )


def _portal_link(open_token):
    """The gate of a page opened by a link of this portal (see web.token_pages): `open_token(token,
    visitor)` opens it, and it must belong to the portal of the address."""

    async def resolve(request: Request, token: str, portal: Portal):
        opened = await open_token(token, visitor(request))
        if opened.portal.location.id != portal.location.id:
            raise NotFound("Link")
        return opened

    return token_page(resolve)


def _emailed(purpose: str):
    """Opens the portal's emailed verify or password link."""
    return lambda token, visitor: accounts.open_token(token, purpose, visitor)


@reads()
@portal_page
@_portal_link(_emailed(accounts.VERIFY))
async def verify(request: Request, portal: Portal, opened) -> Response:
    """GET: a button to confirm the email (mail scanners open links); POST: confirm it."""
    token = request.path_params["token"]
    if not posting(request) or not await valid_post(request, token):
        error = EXPIRED_FORM if posting(request) else None
        return await page(
            request,
            portal,
            "verify.html",
            status=403 if error else 200,
            binding=token,
            title="Confirm your email",
            email=opened.account.email,
            token=token,
            error=error,
        )
    try:
        confirmed = await accounts.verify_email(opened)
    except LinkUnavailable as problem:
        return await refused_link_page(request, problem)
    except RuleViolation as refused:
        return await page(
            request, portal, "message.html", status=409, title="Please try again", message=refused.message
        )
    if not confirmed:
        return await page(request, portal, "message.html", title="Check your email", message=accounts.ALREADY_A_CLIENT)
    return await sign_in_page(
        request, portal, notice="Your email address is confirmed. Please sign in.", email=opened.account.email
    )


@reads(form=[_password(), _password("password_again")])
@portal_page
@_portal_link(_emailed(accounts.PASSWORD))
async def new_password(request: Request, portal: Portal, opened) -> Response:
    """GET: the new-password form; POST: set it."""
    token = request.path_params["token"]

    async def form_page(status: int = 200, error: str | None = None) -> Response:
        return await page(
            request,
            portal,
            "password.html",
            status=status,
            binding=token,
            title="Choose your password",
            email=opened.account.email,
            token=token,
            error=error,
        )

    if not posting(request):
        return await form_page()
    form = await read(request, location=portal.location)
    if not await valid_post(request, token):
        return await form_page(403, EXPIRED_FORM)
    if form["password"] != form["password_again"]:
        return await form_page(422, "The two passwords are not the same.")
    try:
        await accounts.reset_password(opened, form["password"])
    except LinkUnavailable as problem:
        return await refused_link_page(request, problem)
    except DomainError as refused:  # a weak password, or "try again" when the account was being set up meanwhile
        return await form_page(422 if isinstance(refused, ValidationFailed) else 409, refused.message)
    return await sign_in_page(
        request, portal, notice="Your password is set. Please sign in.", email=opened.account.email
    )


@reads()
@portal_page
@_portal_link(open_sign_in)
async def from_link(request: Request, portal: Portal, offer) -> Response:
    """GET: a button to see all your appointments; POST: sign in as the link's customer."""
    token = request.path_params["token"]
    # The form is bound to this browser's session, not only to the link: nobody else's page can
    # sign this browser in as the link's customer.
    if not posting(request) or not await valid_post(request):
        error = EXPIRED_FORM if posting(request) else None
        return await page(
            request,
            portal,
            "from_link.html",
            status=403 if error else 200,
            title="Your appointments",
            customer=offer.customer,
            token=token,
            error=error,
        )
    return await _signed_in_at(request, portal, offer.customer.id, offer.account, offer.expires_at, from_link=True)


@reads(
    form=[
        Choice("change", frozenset({"details", "password"})),
        *(Text(name, 254, absent=None) for name in PROFILE_FIELDS),
        _password("current_password"),
        _password("new_password"),
        _password("new_password_again"),
    ]
)
@customer_page
async def profile(request: Request, portal: Portal, signed: SignedIn) -> Response:
    """GET: your details and password; POST: change the details (current password required).
    A session from an action link sees the details only, and is told to sign in with the password."""

    async def profile_page(
        status: int = 200, error: str | None = None, notice: str | None = None, values: dict | None = None
    ):
        return await page(
            request,
            portal,
            "profile.html",
            status=status,
            title="Your details",
            signed=signed,
            error=error,
            notice=notice,
            values=values or {},
            link_limits=PasswordSignInRequired().message,
        )

    if not posting(request):
        return await profile_page()
    form = await read(request, location=portal.location)
    if not await valid_post(request, signed.session.id):
        return await profile_page(403, EXPIRED_FORM)
    try:
        if form["change"] == "password":
            if form["new_password"] != form["new_password_again"]:
                raise ValidationFailed(
                    "newPassword", "The two new passwords are not the same.", ValidationCode.INCORRECT
                )
            await accounts.change_password(signed, form["current_password"], form["new_password"], visitor(request))
            return await profile_page(notice="Your password is changed.")
        changes = {key: form[key] for key in PROFILE_FIELDS}  # None: not in the form, unchanged
        await accounts.update_profile(signed, form["current_password"], changes, visitor(request))
    except RateLimited as refused:
        return await too_many_page(request, refused, location=portal.location)
    except DomainError as refused:
        return await profile_page(
            422, refused.message, values={key: form[key] for key in PROFILE_FIELDS if form[key] is not None}
        )
    return await profile_page(notice="Your details are saved.")


ROUTES = [
    Route("/{slug}/login", login, methods=["POST"]),
    Route("/{slug}/logout", logout, methods=["POST"]),
    Route("/{slug}/register", register, methods=["GET", "POST"]),
    Route("/{slug}/forgot", forgot, methods=["GET", "POST"]),
    Route("/{slug}/verify/{token}", verify, methods=["GET", "POST"]),
    Route("/{slug}/password/{token}", new_password, methods=["GET", "POST"]),
    Route("/{slug}/from-link/{token}", from_link, methods=["GET", "POST"]),
    Route("/{slug}/profile", profile, methods=["GET", "POST"]),
]
