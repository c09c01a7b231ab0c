"""Customers of a location: email unique per location, case-insensitive."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core import validation as check
from core.errors import ValidationCode, ValidationFailed
from core.locations import get_location
from core.models import Customer
from core.pagination import Page, Paging, keyset_page
from core.security.access import Staff, in_scope

ORDER = ("last_name", "first_name", "id")
DUPLICATE_EMAIL = "A customer with this email already exists at this location."


def clean_customer_fields(changes: dict[str, Any], required: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """Validate customer fields (first/last name, email, mobile phone), the `required` ones given;
    every problem at once. Adds the email key."""
    cleaners = {
        "first_name": lambda v: check.text("firstName", v, max_length=100),
        "last_name": lambda v: check.text("lastName", v, max_length=100),
        "email": lambda v: check.email("email", v),
        "mobile_phone": lambda v: check.phone("mobilePhone", v),
    }
    fields = check.clean_all(cleaners, changes, required)
    if "email" in fields:
        fields["email_key"] = fields["email"].lower()
    return fields


def clean_new_customer(values: dict[str, Any]) -> dict[str, Any]:
    """Validate the details of a new customer: first name, last name and email are required."""
    return clean_customer_fields(values, (("first_name", "firstName"), ("last_name", "lastName"), ("email", "email")))


async def customer_for_contact(location_id: int, contact: dict[str, Any]) -> Customer:
    """The location's customer with the email of `contact` (cleaned by `clean_new_customer`), whose
    stored details are never changed, or a new customer with these details. Raises IntegrityError
    when another request adds the same email at the same moment."""
    found = await Customer.get_or_none(location_id=location_id, email_key=contact["email_key"])
    return found or await Customer.create(location_id=location_id, **contact)


async def get_customer(actor: Staff | None, customer_id: int) -> Customer:
    """One customer in scope, or `NotFound` / `PermissionDenied`."""
    return await in_scope(actor, Customer, customer_id, "Customer")


async def search_customers(actor: Staff | None, location_id: int, search: str | None, paging: Paging) -> Page[Customer]:
    """A page of a location's customers by name, filtered by name, email or phone."""
    await get_location(actor, location_id)
    query = Customer.filter(location_id=location_id)
    for word in (search or "").split()[:5]:
        query = query.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email_key__contains=word.lower())
            | Q(mobile_phone__contains=word)
        )
    return await keyset_page(query, ORDER, paging)


async def create_customer(actor: Staff | None, location_id: int, **values: Any) -> Customer:
    """Create a customer; first name, last name and email are required."""
    await get_location(actor, location_id)
    fields = clean_new_customer(values)
    if await Customer.filter(location_id=location_id, email_key=fields["email_key"]).exists():
        raise ValidationFailed("email", DUPLICATE_EMAIL, ValidationCode.TAKEN)
    try:
        async with in_transaction():
            return await Customer.create(location_id=location_id, **fields)
    except IntegrityError:
        raise ValidationFailed("email", DUPLICATE_EMAIL, ValidationCode.TAKEN) from None


async def update_customer(actor: Staff | None, customer_id: int, **changes: Any) -> Customer:
    """Change the given fields of a customer."""
    customer = await get_customer(actor, customer_id)
    fields = clean_customer_fields(changes)
    key = fields.get("email_key")
    if key and await Customer.filter(location_id=customer.location_id, email_key=key).exclude(id=customer.id).exists():
        raise ValidationFailed("email", DUPLICATE_EMAIL, ValidationCode.TAKEN)
    try:
        async with in_transaction():
            customer.update_from_dict(fields)
            await customer.save()
    except IntegrityError:
        raise ValidationFailed("email", DUPLICATE_EMAIL, ValidationCode.TAKEN) from None
    return customer
