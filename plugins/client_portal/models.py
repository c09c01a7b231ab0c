"""The client portal's own tables (app label "client_portal"): addresses, customer accounts,
single-use account tokens and signed-in sessions. Tokens and session ids are kept only as hashes."""

from tortoise import fields
from tortoise.models import Model

from core.instants import DatetimeField


class PortalAddress(Model):
    """A location's portal address: the slug in /portal/{slug}, unique across locations."""

    id = fields.IntField(primary_key=True)
    location = fields.OneToOneField("core.Location", related_name="portal_address", on_delete=fields.CASCADE)
    slug = fields.CharField(max_length=60, unique=True)

    class Meta:
        table = "portal_address"


class PortalAccount(Model):
    """A customer's sign-in at one location. Until the email is verified the account holds the
    registration's details in `pending` and has no customer."""

    id = fields.IntField(primary_key=True)
    location = fields.ForeignKeyField("core.Location", related_name="portal_accounts", on_delete=fields.CASCADE)
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254)
    customer = fields.ForeignKeyField(
        "core.Customer", related_name="portal_accounts", null=True, on_delete=fields.CASCADE
    )
    password_hash = fields.CharField(max_length=200, default="")
    pending = fields.JSONField(default=dict)
    verified_at = DatetimeField(null=True)
    password_changed_at = DatetimeField(null=True)
    created_at = DatetimeField(auto_now_add=True)

    class Meta:
        table = "portal_account"
        unique_together = (("location_id", "email_key"),)


class PortalToken(Model):
    """A single-use token emailed to an account: `purpose` VERIFY (confirm the email) or
    PASSWORD (set or reset the password)."""

    id = fields.IntField(primary_key=True)
    account = fields.ForeignKeyField("client_portal.PortalAccount", related_name="tokens", on_delete=fields.CASCADE)
    purpose = fields.CharField(max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = DatetimeField(auto_now_add=True)
    expires_at = DatetimeField()
    used_at = DatetimeField(null=True)

    class Meta:
        table = "portal_token"


class PortalSession(Model):
    """A signed-in browser: the hash of its session id, the customer and location it is for, and
    whether it started from an action link (then it cannot change the password or the profile)."""

    id = fields.IntField(primary_key=True)
    session_hash = fields.CharField(max_length=64, unique=True)
    location = fields.ForeignKeyField("core.Location", related_name="portal_sessions", on_delete=fields.CASCADE)
    customer = fields.ForeignKeyField("core.Customer", related_name="portal_sessions", on_delete=fields.CASCADE)
    account = fields.ForeignKeyField(
        "client_portal.PortalAccount", related_name="sessions", null=True, on_delete=fields.CASCADE
    )
    from_link = fields.BooleanField(default=False)
    created_at = DatetimeField(auto_now_add=True)
    expires_at = DatetimeField()

    class Meta:
        table = "portal_session"
        indexes = (("customer_id", "location_id"),)
