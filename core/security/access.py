"""Who is asking, and which locations they may see: every core function checks scope here."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import NotFound, PermissionDenied
from core.models import ActorKind, StaffRole


@dataclass(frozen=True)
class Staff:
    """A signed-in staff member: owners see every location, managers only theirs."""

    user_id: int
    role: StaffRole
    location_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None

    @property
    def is_owner(self) -> bool:
        """True for an owner (all locations)."""
        return self.role is StaffRole.OWNER

    def may_see(self, location_id: int) -> bool:
        """True when this staff member's scope includes the location."""
        return self.is_owner or location_id in self.location_ids


def require_staff(actor: Staff | None) -> Staff:
    """The signed-in staff member, or `PermissionDenied`."""
    if actor is None:
        raise PermissionDenied("Sign in as staff (Authorization: Bearer <token>).")
    return actor


def require_owner(actor: Staff | None) -> Staff:
    """The signed-in owner, or `PermissionDenied`."""
    staff = require_staff(actor)
    if not staff.is_owner:
        raise PermissionDenied("Only an owner may do this.")
    return staff


def require_location(actor: Staff | None, location_id: int) -> Staff:
    """The signed-in staff member if the location is in their scope, or `PermissionDenied`."""
    staff = require_staff(actor)
    if not staff.may_see(location_id):
        raise PermissionDenied("You do not have access to this location.")
    return staff


@dataclass(frozen=True)
class Actor:
    """Whoever changes an appointment, through which channel, from where.

    Staff act with their scope; customer channels (links, portal) act for one customer and can
    never override rules. A channel that sends staff its own notices of its changes (the portal)
    sets `core_staff_notices` False, so the diary contact is told once."""

    kind: ActorKind
    id: str = ""
    staff: Staff | None = None
    customer_id: int | None = None
    ip: str = ""
    user_agent: str = ""
    core_staff_notices: bool = True

    @classmethod
    def for_staff(cls, staff: Staff | None, ip: str = "", user_agent: str = "") -> Actor:
        """A staff actor (still subject to scope checks: `staff` may be None for anonymous)."""
        return cls(ActorKind.STAFF, str(staff.user_id) if staff else "", staff, None, ip, user_agent)

    @property
    def is_customer(self) -> bool:
        """True for the customer channels (links, portal)."""
        return self.kind not in (ActorKind.STAFF, ActorKind.SYSTEM)


async def in_scope(actor: Staff | None, model, object_id: int, kind: str, location_field: str = "location_id"):
    """The row of `model` with this id if the caller's scope includes its location; `NotFound` when
    there is none, `PermissionDenied` when it is out of scope."""
    require_staff(actor)
    row = await model.get_or_none(id=object_id)
    if row is None:
        raise NotFound(kind, object_id)
    require_location(actor, getattr(row, location_field))
    return row
