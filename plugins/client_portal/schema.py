"""GraphQL of the client portal. Customers: register, confirm, reset, sign in and out (a session
cookie, as on the pages), their own appointments, services and free times, book and cancel.
Staff: the portal's address. Slug and token fields answer NotFound where the portal is off."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Union
from zoneinfo import ZoneInfo

import strawberry

from core.models import Appointment as AppointmentRow
from core.security.passwords import RULES as PASSWORD_RULES
from plugins.client_portal import accounts, appointments, errors
from plugins.client_portal.addresses import open_portal, portal_url, staff_portal_slug
from plugins.client_portal.sessions import SignedIn, end_session, require_signed_in, start_session
from plugins.client_portal.settings import NAME
from plugins.client_portal.visitor import Visitor
from schema.appointments import AppointmentStatus, InvalidTransition, RuleViolation, SlotUnavailable
from schema.context import Info
from schema.errors import (
    CODE,
    CONVERTERS,
    InvalidCredentials,
    NotFound,
    PermissionDenied,
    Problem,
    QueryTooCostly,
    RateLimited,
    ValidationError,
    as_result,
)
from schema.inputs import parse_id
from schema.limits import slot_field
from schema.plugins import Link, LinkUnavailable, PluginDisabled, gated
from schema.problem_codes import ErrorCode
from schema.text_inputs import MULTILINE_ARGUMENT
from web.sessions import clear_session, write_session

From = Annotated[dt.datetime, strawberry.argument(name="from")]


@strawberry.type(description="Sign in to the client portal first.")
class NotSignedIn(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.NOT_SIGNED_IN, description=CODE)


@strawberry.type(description="The email address is not confirmed yet; a link to confirm it has been sent.")
class EmailNotVerified(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.EMAIL_NOT_VERIFIED, description=CODE)


@strawberry.type(
    description="Signed in from an action link (`PortalCustomer.fromLink`): changing the password or the profile needs a sign-in with the email and password (`portalLogin`)."
)
class PasswordSignInRequired(Problem):
    code: ErrorCode = strawberry.field(default=ErrorCode.PASSWORD_SIGN_IN_REQUIRED, description=CODE)


CONVERTERS[errors.NotSignedIn] = lambda e: NotSignedIn(message=e.message)
CONVERTERS[errors.EmailNotVerified] = lambda e: EmailNotVerified(message=e.message)
CONVERTERS[errors.PasswordSignInRequired] = lambda e: PasswordSignInRequired(message=e.message)


@strawberry.type(description="The signed-in customer, as they see themselves.")
class PortalCustomer:
    first_name: str
    last_name: str
    email: str
    mobile_phone: str
    has_password: bool = strawberry.field(
        description="False when signed in from an action link without a password yet."
    )
    from_link: bool = strawberry.field(
        description='Signed in from an action link ("See all my appointments"): this session may view, book and cancel appointments, but changing the password or the profile answers PasswordSignInRequired.'
    )
    location_name: str
    portal_url: str

    @classmethod
    def of(cls, signed: SignedIn) -> PortalCustomer:
        c = signed.customer
        return cls(
            first_name=c.first_name,
            last_name=c.last_name,
            email=c.email,
            mobile_phone=c.mobile_phone,
            has_password=bool(signed.account and signed.account.password_hash),
            from_link=signed.from_link,
            location_name=signed.portal.location.name,
            portal_url=signed.portal.url,
        )


@strawberry.type(description="One of the customer's own appointments.")
class PortalAppointment:
    id: strawberry.ID
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: AppointmentStatus
    service_name: str
    calendar_name: str
    price: Decimal | None = strawberry.field(description="Null when the portal does not show prices.")
    can_cancel: bool
    cancel_refusal: str | None = strawberry.field(description="Why it cannot be cancelled here now.")
    links: list[Link] = strawberry.field(description="Links other plugins offer the customer (e.g. the action link).")


@strawberry.type
class PortalAppointmentList:
    appointments: list[PortalAppointment]


@strawberry.type(description="A calendar (a staff member or resource) customers may choose.")
class PortalCalendar:
    id: strawberry.ID
    name: str


@strawberry.type(description="A service bookable in the portal.")
class PortalService:
    id: strawberry.ID
    name: str
    duration_minutes: int
    price: Decimal | None = strawberry.field(description="Null when the portal does not show prices.")
    calendars: list[PortalCalendar]


@strawberry.type(description="What the portal offers and its policy.")
class PortalServices:
    location_name: str
    timezone: str
    services: list[PortalService]
    allow_booking: bool
    allow_cancelling: bool
    accept_new_clients: bool
    booking_instructions: str
    terms_and_conditions: str
    cancellation_policy: str
    cancellation_reasons: list[str]
    cancellation_reason_required: bool


@strawberry.type(description="A free start, and the calendars free then.")
class PortalSlot:
    start: dt.datetime
    end: dt.datetime
    calendar_ids: list[strawberry.ID]


@strawberry.type
class PortalSlotList:
    slots: list[PortalSlot]


@strawberry.type(description="Done; `message` says what happens next.")
class PortalMessage:
    message: str


@strawberry.type(description="Signed in: the session cookie is set.")
class PortalSignedIn:
    customer: PortalCustomer


@strawberry.type(description="The portal's address, to put on the location's website.")
class PortalUrl:
    url: str
    slug: str


@strawberry.input
class PortalRegisterInput:
    first_name: str
    last_name: str
    email: str
    password: str = strawberry.field(description=PASSWORD_RULES)
    mobile_phone: str = ""


@strawberry.input
class PortalBookInput:
    service_id: strawberry.ID
    calendar_id: strawberry.ID | None = strawberry.field(
        default=None, description="Null: any calendar (the least busy that day)."
    )
    start: dt.datetime
    accept_terms: bool = False


@strawberry.input
class PortalProfileInput:
    current_password: str
    first_name: str | None = None
    last_name: str | None = None
    mobile_phone: str | None = None


def _union(name: str, *types):
    return Annotated[Union[types], strawberry.union(name)]  # noqa: UP007 - a union of a tuple built at run time


SignedInResult = _union(
    "PortalSignedInResult", PortalSignedIn, InvalidCredentials, EmailNotVerified, NotFound, RateLimited, ValidationError
)
EmailSentResult = _union("PortalEmailSentResult", PortalMessage, NotFound, RateLimited, ValidationError, RuleViolation)
TokenResult = _union(
    "PortalTokenResult", PortalMessage, NotFound, LinkUnavailable, RateLimited, ValidationError, RuleViolation
)
SessionResult = _union(
    "PortalSessionResult", PortalMessage, NotSignedIn, ValidationError, RateLimited, PasswordSignInRequired
)
MeResult = _union("PortalMeResult", PortalCustomer, NotSignedIn, ValidationError, RateLimited, PasswordSignInRequired)
AppointmentsResult = _union("PortalAppointmentsResult", PortalAppointmentList, NotSignedIn)
ServicesResult = _union("PortalServicesResult", PortalServices, NotFound)
SlotsResult = _union("PortalSlotsResult", PortalSlotList, NotFound, ValidationError, RateLimited, QueryTooCostly)
AppointmentResult = _union(
    "PortalAppointmentResult",
    PortalAppointment,
    NotSignedIn,
    NotFound,
    ValidationError,
    SlotUnavailable,
    RuleViolation,
    InvalidTransition,
)
UrlResult = _union("PortalUrlResult", PortalUrl, PluginDisabled, NotFound, PermissionDenied)


def _visitor(info: Info) -> Visitor:
    return Visitor(info.context.app, info.context.client_ip, info.context.user_agent, info.context.limiter)


async def _signed(info: Info) -> SignedIn:
    return await require_signed_in(info.context.request)


async def portal_appointments(signed: SignedIn, rows: list[AppointmentRow]) -> list[PortalAppointment]:
    """Appointments as their customer sees them in the portal."""
    tz = ZoneInfo(signed.portal.location.timezone)
    return [
        PortalAppointment(
            id=strawberry.ID(str(own.row.id)),
            starts_at=own.row.starts_at.astimezone(tz),
            ends_at=own.row.ends_at.astimezone(tz),
            status=own.row.status,
            service_name=own.service.name,
            calendar_name=own.calendar.name,
            price=own.service.price if signed.portal.settings.show_prices else None,
            can_cancel=own.cancel_refusal is None,
            cancel_refusal=own.cancel_refusal,
            links=[Link(kind=link.kind, label=link.label, url=link.url) for link in own.links],
        )
        for own in await appointments.describe(signed, rows)
    ]


@strawberry.type
class PortalQuery:
    @strawberry.field(description="The signed-in customer.")
    @as_result
    async def portal_me(self, info: Info) -> MeResult:
        return PortalCustomer.of(await _signed(info))

    @strawberry.field(
        description="The signed-in customer's own appointments: upcoming (soonest first) or past (latest first)."
    )
    @as_result
    async def portal_appointments(self, info: Info, upcoming: bool = True) -> AppointmentsResult:
        signed = await _signed(info)
        return PortalAppointmentList(
            appointments=await portal_appointments(signed, await appointments.own_appointments(signed, upcoming))
        )

    @strawberry.field(description="The services a portal offers, with its booking and cancellation policy.")
    @as_result
    async def portal_services(self, info: Info, slug: str) -> ServicesResult:
        portal = await open_portal(info.context.app, slug)
        rules = await appointments.policy(portal)
        show = portal.settings.show_prices
        return PortalServices(
            location_name=portal.location.name,
            timezone=portal.location.timezone,
            services=[
                PortalService(
                    id=strawberry.ID(str(o.service.id)),
                    name=o.service.name,
                    duration_minutes=o.service.duration_minutes,
                    price=o.service.price if show else None,
                    calendars=[PortalCalendar(id=strawberry.ID(str(c.id)), name=c.name) for c in o.calendars],
                )
                for o in await appointments.offers(portal)
            ],
            allow_booking=portal.settings.allow_booking,
            allow_cancelling=portal.settings.allow_cancelling,
            accept_new_clients=portal.settings.accept_new_clients,
            booking_instructions=portal.settings.booking_instructions,
            terms_and_conditions=portal.settings.terms_and_conditions,
            cancellation_policy=rules.cancellation_policy,
            cancellation_reasons=list(rules.cancellation_reasons),
            cancellation_reason_required=rules.cancellation_reason_required,
        )

    @strawberry.field(
        description="Free starts of a service in [from, to) on one calendar, or on any (calendarId null). Priced before any work (QueryTooCostly over the request's budget) and counted toward the client's per-IP slot limit."
    )
    @as_result
    async def portal_available_slots(
        self,
        info: Info,
        slug: str,
        service_id: strawberry.ID,
        from_: From,
        to: dt.datetime,
        calendar_id: strawberry.ID | None = None,
    ) -> SlotsResult:
        async with slot_field(info) as charge:
            portal = await open_portal(info.context.app, slug)
            calendar = parse_id("Calendar", calendar_id) if calendar_id is not None else None
            slots = await appointments.free_slots(portal, parse_id("Service", service_id), calendar, from_, to, charge)
        tz = ZoneInfo(portal.location.timezone)
        return PortalSlotList(
            slots=[
                PortalSlot(
                    start=s.start.astimezone(tz),
                    end=s.end.astimezone(tz),
                    calendar_ids=[strawberry.ID(str(c)) for c in s.calendar_ids],
                )
                for s in slots
            ]
        )

    @strawberry.field(description="Staff: the portal's address to copy onto the location's website.")
    @as_result
    @gated(NAME, lambda location_id: parse_id("Location", location_id))
    async def portal_url(self, info: Info, location_id: strawberry.ID) -> UrlResult:
        slug = await staff_portal_slug(await info.context.staff(), parse_id("Location", location_id))
        return PortalUrl(url=portal_url(info.context.settings, slug), slug=slug)


@strawberry.type
class PortalMutation:
    @strawberry.mutation(
        description="Register: a new client gets a link to confirm their email; a known email gets a link to set its password."
    )
    @as_result
    async def portal_register(self, info: Info, slug: str, input: PortalRegisterInput) -> EmailSentResult:
        portal = await open_portal(info.context.app, slug)
        details = {
            "first_name": input.first_name,
            "last_name": input.last_name,
            "email": input.email,
            "mobile_phone": input.mobile_phone,
        }
        await accounts.register(portal, details, input.password, _visitor(info))
        return PortalMessage(message="Thank you. Please check your email for a link to finish setting up your account.")

    @strawberry.mutation(description="Confirm an email address with the emailed single-use link's token.")
    @as_result
    async def portal_verify_email(self, info: Info, token: str) -> TokenResult:
        confirmed = await accounts.verify_email(await accounts.open_token(token, accounts.VERIFY, _visitor(info)))
        return PortalMessage(
            message="Your email address is confirmed. You can sign in now." if confirmed else accounts.ALREADY_A_CLIENT
        )

    @strawberry.mutation(
        description="Email a link to set a new password (the same answer whether or not the email is a client's)."
    )
    @as_result
    async def portal_request_password_reset(self, info: Info, slug: str, email: str) -> EmailSentResult:
        await accounts.request_password_link(await open_portal(info.context.app, slug), email, _visitor(info))
        return PortalMessage(message="If this email belongs to a client, a link to set a new password is on its way.")

    @strawberry.mutation(
        description=f"Set a new password with the emailed single-use link's token; every session ends. New password: {PASSWORD_RULES}"
    )
    @as_result
    async def portal_reset_password(self, info: Info, token: str, password: str) -> TokenResult:
        await accounts.reset_password(await accounts.open_token(token, accounts.PASSWORD, _visitor(info)), password)
        return PortalMessage(message="Your password is set. You can sign in now.")

    @strawberry.mutation(description="Sign in with email and password; sets the session cookie.")
    @as_result
    async def portal_login(self, info: Info, slug: str, email: str, password: str) -> SignedInResult:
        portal = await open_portal(info.context.app, slug)
        account = await accounts.login(portal, email, password, _visitor(info))
        signed = await start_session(info.context.request, portal, account.customer_id, account)
        write_session(info.context.response, info.context.request, signed.session, max_age=signed.max_age)
        return PortalSignedIn(customer=PortalCustomer.of(signed))

    @strawberry.mutation(description="Sign out: the session ends everywhere and the cookie is cleared.")
    @as_result
    async def portal_logout(self, info: Info) -> SessionResult:
        await end_session(await _signed(info))
        clear_session(info.context.response, info.context.request)
        return PortalMessage(message="You are signed out.")

    @strawberry.mutation(description="Book for the signed-in customer (accept the terms when the location has them).")
    @as_result
    async def portal_book(self, info: Info, input: PortalBookInput) -> AppointmentResult:
        signed = await _signed(info)
        calendar = parse_id("Calendar", input.calendar_id) if input.calendar_id is not None else None
        row = await appointments.book(
            signed, parse_id("Service", input.service_id), calendar, input.start, input.accept_terms, _visitor(info)
        )
        return (await portal_appointments(signed, [row]))[0]

    @strawberry.mutation(description="Cancel one of the signed-in customer's appointments under the location's policy.")
    @as_result
    async def portal_cancel(
        self,
        info: Info,
        appointment_id: strawberry.ID,
        reason: str | None = None,
        note: Annotated[str, MULTILINE_ARGUMENT] = "",
    ) -> AppointmentResult:
        signed = await _signed(info)
        row = await appointments.cancel(signed, parse_id("Appointment", appointment_id), reason, note, _visitor(info))
        return (await portal_appointments(signed, [row]))[0]

    @strawberry.mutation(
        description=f"Change the password (the current one is required); other sessions end. PasswordSignInRequired for a session from an action link. New password: {PASSWORD_RULES}"
    )
    @as_result
    async def portal_change_password(self, info: Info, current_password: str, new_password: str) -> SessionResult:
        await accounts.change_password(await _signed(info), current_password, new_password, _visitor(info))
        return PortalMessage(message="Your password is changed.")

    @strawberry.mutation(
        description="Change name and mobile phone (the current password is required). PasswordSignInRequired for a session from an action link."
    )
    @as_result
    async def portal_update_profile(self, info: Info, input: PortalProfileInput) -> MeResult:
        signed = await _signed(info)
        changes = {"first_name": input.first_name, "last_name": input.last_name, "mobile_phone": input.mobile_phone}
        await accounts.update_profile(signed, input.current_password, changes, _visitor(info))
        return PortalCustomer.of(signed)
