"""Tortoise models of the core: locations, calendars, services, customers, staff."""

from __future__ import annotations

import uuid
from enum import Enum
from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.instants import DatetimeField


class Tier(str, Enum):
    """Subscription tier of a location; plugins allow some tiers."""

    FREE = "FREE"
    SILVER = "SILVER"
    GOLD = "GOLD"
    PLATINUM = "PLATINUM"


class StaffRole(str, Enum):
    """OWNER sees every location; MANAGER only the locations named for them."""

    OWNER = "OWNER"
    MANAGER = "MANAGER"


class ExceptionKind(str, Enum):
    """A dated change to a roster: time off removes time, extra hours add it."""

    TIME_OFF = "TIME_OFF"
    EXTRA_HOURS = "EXTRA_HOURS"


class AppointmentStatus(str, Enum):
    """Where an appointment is in its life; every status but CANCELLED occupies its time."""

    SCHEDULED = "SCHEDULED"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    NO_SHOW = "NO_SHOW"


class ActorKind(str, Enum):
    """Who made a change: staff, or a customer through one of the channels, or the system."""

    STAFF = "STAFF"
    CUSTOMER_LINK = "CUSTOMER_LINK"
    PORTAL = "PORTAL"
    ONE_TIME_LINK = "ONE_TIME_LINK"
    SYSTEM = "SYSTEM"


class Location(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64)
    currency = fields.CharField(max_length=3)
    locale = fields.CharField(max_length=35, default="en")
    contact_email = fields.CharField(max_length=254, default="")
    contact_phone = fields.CharField(max_length=40, default="")
    tier = fields.CharEnumField(Tier, max_length=16, default=Tier.FREE)
    headquarters: fields.ForeignKeyNullableRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="branches", null=True, on_delete=fields.RESTRICT
    )
    headquarters_id: int | None
    shares_headquarters_settings = fields.BooleanField(default=False)
    slot_step_minutes = fields.IntField(default=15)
    # Scheduling rules (core/availability/rules.py); a branch sharing its headquarters' settings uses the HQ's.
    min_notice_minutes = fields.IntField(default=0)
    max_advance_days = fields.IntField(default=365)
    same_day_changes_allowed = fields.BooleanField(default=True)
    cancellation_notice_hours = fields.IntField(default=0)
    cancellation_policy = fields.TextField(default="")
    reschedule_notice_hours = fields.IntField(default=0)
    max_customer_reschedules = fields.IntField(null=True)
    cancellation_reasons: fields.JSONField[list[str]] = fields.JSONField(default=list)
    cancellation_reason_required = fields.BooleanField(default=False)
    # Minutes before an appointment when reminders go out (e.g. [1440, 120]).
    reminder_offsets_minutes: fields.JSONField[list[int]] = fields.JSONField(default=list)
    # Branding of customer pages: a CSS hex colour (the logo is a LocationLogo).
    background_color = fields.CharField(max_length=7, default="#ffffff")
    # When the logo last changed (None: no logo), kept by core.branding: pages version the logo's
    # address with it, so they need no logo query.
    logo_version = DatetimeField(null=True)
    created_at = DatetimeField(auto_now_add=True)

    class Meta:
        table = "location"


class Calendar(Model):
    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="calendars", on_delete=fields.CASCADE
    )
    location_id: int
    name = fields.CharField(max_length=200)
    owner_name = fields.CharField(max_length=200, default="")
    owner_email = fields.CharField(max_length=254, default="")
    owner_phone = fields.CharField(max_length=40, default="")
    # Bumped by the first statement of every booking transaction: it serialises writers per calendar.
    version = fields.BigIntField(default=0)
    created_at = DatetimeField(auto_now_add=True)

    class Meta:
        table = "calendar"


class RosterRule(Model):
    """One working interval on a weekday, in local wall-clock minutes since midnight."""

    id = fields.IntField(primary_key=True)
    calendar: fields.ForeignKeyRelation[Calendar] = fields.ForeignKeyField(
        "core.Calendar", related_name="roster", on_delete=fields.CASCADE
    )
    calendar_id: int
    weekday = fields.SmallIntField()  # 0 = Monday
    start_minute = fields.SmallIntField()
    end_minute = fields.SmallIntField()

    class Meta:
        table = "roster_rule"
        ordering = ["weekday", "start_minute"]


class CalendarException(Model):
    """Time off or extra hours on one local date (no times: the whole day)."""

    id = fields.IntField(primary_key=True)
    calendar: fields.ForeignKeyRelation[Calendar] = fields.ForeignKeyField(
        "core.Calendar", related_name="exceptions", on_delete=fields.CASCADE
    )
    calendar_id: int
    date = fields.DateField()
    start_minute = fields.SmallIntField()
    end_minute = fields.SmallIntField()
    kind = fields.CharEnumField(ExceptionKind, max_length=16)
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "calendar_exception"
        ordering = ["date", "start_minute"]
        indexes = (("calendar_id", "date"),)


class Service(Model):
    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="services", on_delete=fields.CASCADE
    )
    location_id: int
    name = fields.CharField(max_length=200)
    duration_minutes = fields.IntField()
    price = fields.DecimalField(max_digits=12, decimal_places=2, default=0)
    buffer_after_minutes = fields.IntField(default=0)
    bookable_online = fields.BooleanField(default=True)
    # Rule fields this service sets differently from its location (same names as the rules).
    rule_overrides: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    calendars: fields.ManyToManyRelation[Calendar] = fields.ManyToManyField(
        "core.Calendar", related_name="services", through="service_calendar"
    )
    created_at = DatetimeField(auto_now_add=True)

    class Meta:
        table = "service"


class Customer(Model):
    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="customers", on_delete=fields.CASCADE
    )
    location_id: int
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    email = fields.CharField(max_length=254)
    # Lower-cased email: the unique key per location (case-insensitive uniqueness on every database).
    email_key = fields.CharField(max_length=254)
    mobile_phone = fields.CharField(max_length=40, default="")
    created_at = DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer"
        unique_together = (("location", "email_key"),)
        indexes = (("location_id", "last_name", "first_name", "id"),)


class StaffUser(Model):
    id = fields.IntField(primary_key=True)
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=200, default="")
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(StaffRole, max_length=16)
    locations: fields.ManyToManyRelation[Location] = fields.ManyToManyField(
        "core.Location", related_name="managers", through="staff_user_location"
    )
    active = fields.BooleanField(default=True)
    created_at = DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_user"


class StaffToken(Model):
    """A bearer token for the API (only its SHA-256 is stored)."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[StaffUser] = fields.ForeignKeyField(
        "core.StaffUser", related_name="tokens", on_delete=fields.CASCADE
    )
    user_id: int
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = DatetimeField(auto_now_add=True)
    expires_at = DatetimeField()
    revoked_at = DatetimeField(null=True)

    class Meta:
        table = "staff_token"


class Appointment(Model):
    """A booking of a service on a calendar for a customer. Instants are UTC."""

    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="appointments", on_delete=fields.CASCADE
    )
    location_id: int
    calendar: fields.ForeignKeyRelation[Calendar] = fields.ForeignKeyField(
        "core.Calendar", related_name="appointments", on_delete=fields.CASCADE
    )
    calendar_id: int
    service: fields.ForeignKeyRelation[Service] = fields.ForeignKeyField(
        "core.Service", related_name="appointments", on_delete=fields.RESTRICT
    )
    service_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "core.Customer", related_name="appointments", on_delete=fields.RESTRICT
    )
    customer_id: int
    starts_at = DatetimeField()
    ends_at = DatetimeField()
    # End of the service's buffer: the calendar is busy from starts_at until here.
    blocked_until = DatetimeField()
    status = fields.CharEnumField(AppointmentStatus, max_length=16, default=AppointmentStatus.SCHEDULED)
    cancellation_reason = fields.CharField(max_length=200, default="")
    cancellation_note = fields.TextField(default="")
    sequence = fields.IntField(default=0)  # reschedules: backs expectedSequence, keys reminders
    customer_reschedules = fields.IntField(default=0)
    # The calendar file's UID and SEQUENCE (core/email/ics.py): a random UID, unique whatever the
    # installation (null for appointments booked before migration 0007, which keep the UID their
    # invites went out with); SEQUENCE rises with every change an attendee's calendar must see.
    ics_uid = fields.UUIDField(null=True, default=uuid.uuid4)
    ics_sequence = fields.IntField(default=0, db_default=0)
    created_at = DatetimeField(auto_now_add=True)
    updated_at = DatetimeField(auto_now=True)

    class Meta:
        table = "appointment"
        indexes = (("calendar_id", "starts_at"), ("location_id", "starts_at"), ("customer_id", "starts_at"))


class AppointmentEvent(Model):
    """One change of an appointment: who, from where, what before and after."""

    id = fields.IntField(primary_key=True)
    appointment: fields.ForeignKeyRelation[Appointment] = fields.ForeignKeyField(
        "core.Appointment", related_name="events", on_delete=fields.CASCADE
    )
    appointment_id: int
    at = DatetimeField(auto_now_add=True)
    action = fields.CharField(max_length=32)
    actor_kind = fields.CharEnumField(ActorKind, max_length=16)
    actor_id = fields.CharField(max_length=64, default="")
    ip = fields.CharField(max_length=64, default="")
    user_agent = fields.CharField(max_length=500, default="")
    before: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    after: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)

    class Meta:
        table = "appointment_event"
        indexes = (("appointment_id", "at"),)


class RecipientRole(str, Enum):
    """Whom an email template is written for."""

    CUSTOMER = "CUSTOMER"
    STAFF = "STAFF"


class DeliveryStatus(str, Enum):
    """Where an outbox message is: waiting, being sent, sent, given up, or voided (a stale reminder)."""

    QUEUED = "QUEUED"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    VOID = "VOID"


class EmailTemplate(Model):
    """A named plain-text template of a location, for one recipient role and one event."""

    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="email_templates", on_delete=fields.CASCADE
    )
    location_id: int
    name = fields.CharField(max_length=200)
    event = fields.CharField(max_length=64)
    role = fields.CharEnumField(RecipientRole, max_length=16)
    subject = fields.CharField(max_length=500)
    body = fields.TextField()
    created_at = DatetimeField(auto_now_add=True)
    updated_at = DatetimeField(auto_now=True)

    class Meta:
        table = "email_template"
        unique_together = (("location", "name"),)


class StaffNotice(Model):
    """At a location, an event that notifies the calendar's owner when a customer made the change."""

    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="staff_notices", on_delete=fields.CASCADE
    )
    location_id: int
    event = fields.CharField(max_length=64)
    template: fields.ForeignKeyNullableRelation[EmailTemplate] = fields.ForeignKeyField(
        "core.EmailTemplate", related_name="staff_notices", null=True, on_delete=fields.CASCADE
    )
    template_id: int | None

    class Meta:
        table = "staff_notice"
        unique_together = (("location", "event"),)


class OutboxMessage(Model):
    """An email rendered when queued, delivered by a worker that leases it (nothing is lost)."""

    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="outbox", on_delete=fields.CASCADE
    )
    location_id: int
    appointment: fields.ForeignKeyNullableRelation[Appointment] = fields.ForeignKeyField(
        "core.Appointment", related_name="emails", null=True, on_delete=fields.SET_NULL
    )
    appointment_id: int | None
    event = fields.CharField(max_length=64)
    role = fields.CharEnumField(RecipientRole, max_length=16)
    template_name = fields.CharField(max_length=200, default="")
    to_address = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=500)
    body = fields.TextField()
    ics = fields.TextField(null=True)
    message_id = fields.CharField(max_length=200, unique=True)
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.QUEUED)
    # A reminder belongs to one version of its appointment: a reschedule or cancel voids it.
    is_reminder = fields.BooleanField(default=False)
    appointment_sequence = fields.IntField(null=True)
    attempts = fields.IntField(default=0)  # tries: the server's answers to it, the accepting one included
    send_after = DatetimeField()
    lease_until = DatetimeField(null=True)
    leased_by = fields.CharField(max_length=100, default="")
    last_error = fields.TextField(default="")
    sent_at = DatetimeField(null=True)
    resent_from: fields.ForeignKeyNullableRelation[OutboxMessage] = fields.ForeignKeyField(
        "core.OutboxMessage", related_name="resends", null=True, on_delete=fields.SET_NULL
    )
    resent_from_id: int | None
    created_at = DatetimeField(auto_now_add=True)

    class Meta:
        table = "outbox_message"
        indexes = (("status", "send_after"), ("location_id", "created_at"), ("appointment_id", "status"))


class LocationLogo(Model):
    """A location's logo image (PNG, JPEG or WebP), shown on customer pages."""

    id = fields.IntField(primary_key=True)
    location: fields.OneToOneRelation[Location] = fields.OneToOneField(
        "core.Location", related_name="logo", on_delete=fields.CASCADE
    )
    location_id: int
    content_type = fields.CharField(max_length=32)
    data = fields.BinaryField()
    updated_at = DatetimeField(auto_now=True)

    class Meta:
        table = "location_logo"


class PluginActivation(Model):
    """Whether a plugin is on at a location, with its settings: never inherited from a headquarters."""

    id = fields.IntField(primary_key=True)
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "core.Location", related_name="plugin_activations", on_delete=fields.CASCADE
    )
    location_id: int
    plugin = fields.CharField(max_length=100)
    enabled = fields.BooleanField(default=False)
    settings: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    changed_by = fields.CharField(max_length=100, default="")
    changed_at = DatetimeField(auto_now=True)
    note = fields.CharField(max_length=500, default="")

    class Meta:
        table = "plugin_activation"
        unique_together = (("location", "plugin"),)


class IdempotentRequest(Model):
    """A mutation sent with an `Idempotency-Key`, with the answer to replay.

    Written in the transaction of its effect; replayed when the same principal sends the same key
    and body again within 24 hours (core.idempotency)."""

    id = fields.IntField(primary_key=True)
    principal = fields.CharField(max_length=100)  # staff:<user id>, session:<hash>, link:<hash>
    key = fields.CharField(max_length=255)
    request_hash = fields.CharField(max_length=64)
    status_code = fields.IntField(default=200)
    response = fields.TextField(default="")
    created_at = DatetimeField(auto_now_add=True)
    expires_at = DatetimeField(db_index=True)

    class Meta:
        table = "idempotent_request"
        unique_together = (("principal", "key"),)
